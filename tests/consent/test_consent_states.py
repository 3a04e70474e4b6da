"""Per-category consent state (issue 17): flags, consent times, expiries and expiry reasons."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consent.actors import Actor
from consent.category_states import states_at
from consent.clock import JST
from consent.decision import decide
from consent.errors import ConsentError
from consent.grants import (
    change_categories, get_consent, register_consent, revoke_all_for_person, revoke_by_institution,
)
from consent.models import AuditEntry
from web.error_messages import decision_message

TODAY = date(2026, 11, 23)  # the clock fixture's date (JST)
WINDOW_END = datetime(2026, 11, 25, 0, 0, tzinfo=JST)


def register(sessions, institution_id, clock, categories=("drug", "checkup", "limit"), **overrides):
    args = dict(institution_id=institution_id, person_id="person-1", card_id="card-1", care_setting=3,
                categories=list(categories), consultation_date=TODAY, now=clock.now(), validity_code=1)
    args.update(overrides)
    with sessions() as session:
        consent = register_consent(session, **args)
        session.commit()
        return consent


def states(sessions, institution_id, consent_id, now):
    with sessions() as session:
        consent = get_consent(session, institution_id=institution_id, consent_id=consent_id)
        return {s.category: s for s in states_at(consent.category_states, now)}


def read(sessions, institution_id, clock, category, role="pharmacist"):
    with sessions() as session:
        decision = decide(session, institution_id=institution_id,
                          actor=Actor.for_staff(staff_id=1, institution_id=institution_id, role=role),
                          person_id="person-1", category=category, now=clock.now())
        session.commit()
        return decision


def audit_events(sessions, institution_id, event):
    with sessions() as session:
        return session.scalars(select(AuditEntry).where(
            AuditEntry.institution_id == institution_id, AuditEntry.event == event).order_by(AuditEntry.seq)).all()


def test_a_new_consent_reports_every_category(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock, categories=["drug", "limit"])
    got = states(sessions, institution_id, consent.id, clock.now())
    assert list(got) == ["drug", "checkup", "clinical", "surgery", "specific_disease", "limit"]
    assert (got["drug"].flag, got["drug"].consented_at, got["drug"].expires_at, got["drug"].expiry_reason) == (
        1, clock.now(), WINDOW_END, None)
    # 限度額 is billing data: a flag and a consent time, no expiry.
    assert (got["limit"].flag, got["limit"].consented_at, got["limit"].expires_at) == (1, clock.now(), None)
    assert (got["checkup"].flag, got["checkup"].consented_at, got["checkup"].expires_at) == (0, None, None)


def test_changing_one_category_leaves_the_others_consent_times_alone(sessions, institution_id, clock):
    first = clock.now()
    consent = register(sessions, institution_id, clock, categories=["drug", "checkup", "limit"])
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=JST))
    with sessions() as session:
        change_categories(session, institution_id=institution_id, consent_id=consent.id, person_id="person-1",
                          categories=["drug", "limit", "clinical"], now=clock.now())
        session.commit()
    got = states(sessions, institution_id, consent.id, clock.now())
    assert got["drug"].consented_at == first and got["limit"].consented_at == first
    assert (got["clinical"].flag, got["clinical"].consented_at, got["clinical"].expires_at) == (
        1, clock.now(), WINDOW_END)
    # Removed: flag 0 from then on, and refused as not consented.
    assert (got["checkup"].flag, got["checkup"].consented_at) == (0, None)
    assert read(sessions, institution_id, clock, "checkup").reason == "category_not_consented"
    assert read(sessions, institution_id, clock, "drug").allowed
    updated = audit_events(sessions, institution_id, "consent_updated")[-1]
    detail = json.loads(updated.detail)
    assert (detail["categories_added"], detail["categories_removed"]) == (["clinical"], ["checkup"])


@pytest.mark.parametrize("category", ["drug", "checkup", "clinical"])
def test_each_category_ends_at_its_own_expiry_in_jst(sessions, institution_id, clock, category):
    # Consented at different times, each category expires at the end of the day after the date.
    consent = register(sessions, institution_id, clock, categories=["limit"])
    clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=JST))
    with sessions() as session:
        change_categories(session, institution_id=institution_id, consent_id=consent.id, person_id="person-1",
                          categories=["limit", category], now=clock.now())
        session.commit()
    assert states(sessions, institution_id, consent.id, clock.now())[category].consented_at == clock.now()

    clock.set(datetime(2026, 11, 24, 23, 59, 59, tzinfo=JST))  # one second before
    assert states(sessions, institution_id, consent.id, clock.now())[category].flag == 1
    assert read(sessions, institution_id, clock, category).allowed

    for instant in (datetime(2026, 11, 25, 0, 0, 0, tzinfo=JST), datetime(2026, 11, 25, 0, 0, 1, tzinfo=JST)):
        clock.set(instant)  # at the expiry, and after
        state = states(sessions, institution_id, consent.id, clock.now())[category]
        assert (state.flag, state.expiry_reason, state.ended_at) == (2, 0, WINDOW_END)
        refused = read(sessions, institution_id, clock, category)
        assert refused.reason == "consent_expired" and refused.since == WINDOW_END
        label = {"drug": "薬剤・処方", "checkup": "特定健診", "clinical": "診療・アレルギー・検査"}[category]
        assert decision_message(refused) == f"{label}の同意有効期限切れ（2026年11月24日 23:59まで）"


def test_limit_has_no_expiry_and_every_role_reads_it(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock, categories=["drug", "limit"])
    for instant in (WINDOW_END - timedelta(seconds=1), WINDOW_END, WINDOW_END + timedelta(days=400)):
        clock.set(instant)
        assert states(sessions, institution_id, consent.id, clock.now())["limit"].flag == 1
        for role in ("pharmacist", "clerk", "admin"):
            decision = read(sessions, institution_id, clock, "limit", role=role)
            assert decision.allowed and decision.consent.id == consent.id


def test_the_institution_revokes_with_reason_1_or_3_and_every_category_ends(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=JST))
    with sessions() as session:
        revoke_by_institution(session, institution_id=institution_id, consent_id=consent.id, by="staff:1",
                              reason=3, now=clock.now())
        session.commit()
    got = states(sessions, institution_id, consent.id, clock.now())
    for category in ("drug", "checkup"):
        assert (got[category].flag, got[category].expiry_reason, got[category].ended_at) == (2, 3, clock.now())
    # 限度額's flag is 0 or 1 only (OQSCD001): 0 again, keeping when it was consented, ended and why.
    assert (got["limit"].flag, got["limit"].consented_at, got["limit"].expiry_reason, got["limit"].ended_at) == (
        0, consent.consented_at, 3, clock.now())
    assert got["limit"].ended and not got["clinical"].ended
    assert got["clinical"].flag == 0
    refused = read(sessions, institution_id, clock, "limit", role="clerk")
    assert refused.reason == "consent_revoked"
    assert decision_message(refused) == "限度額の同意が取り消されました（2026年11月23日 12:00、利用目的の変更）"
    # Twice is refused, and writes nothing.
    before = len(audit_events(sessions, institution_id, "consent_revoked"))
    with sessions() as session, pytest.raises(ConsentError) as again:
        revoke_by_institution(session, institution_id=institution_id, consent_id=consent.id, by="staff:1",
                              reason=1, now=clock.now())
    assert again.value.code == "already_revoked"
    assert len(audit_events(sessions, institution_id, "consent_revoked")) == before


@pytest.mark.parametrize("reason", [0, 2, 4, -1])
def test_the_institution_may_not_give_another_reason(sessions, institution_id, clock, reason):
    consent = register(sessions, institution_id, clock)
    with sessions() as session, pytest.raises(ConsentError) as refused:
        revoke_by_institution(session, institution_id=institution_id, consent_id=consent.id, by="staff:1",
                              reason=reason, now=clock.now())
    assert refused.value.code == "invalid_reason"
    assert states(sessions, institution_id, consent.id, clock.now())["drug"].flag == 1
    assert audit_events(sessions, institution_id, "consent_revoked") == []


def test_a_patients_revocation_ends_limit_too_and_consenting_again_reactivates(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    with sessions() as session:
        revoke_all_for_person(session, institution_id=institution_id, person_id="person-1", by="patient",
                              reason=2, now=clock.now())
        session.commit()
    got = states(sessions, institution_id, consent.id, clock.now())
    assert {c: (got[c].flag, got[c].expiry_reason) for c in ("drug", "checkup", "limit")} == {
        "drug": (2, 2), "checkup": (2, 2), "limit": (0, 2)}
    # Editing a revoked consent is refused.
    with sessions() as session, pytest.raises(ConsentError) as refused:
        change_categories(session, institution_id=institution_id, consent_id=consent.id, person_id="person-1",
                          categories=["drug"], now=clock.now())
    assert refused.value.code == "consent_revoked"

    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=JST))
    again = register(sessions, institution_id, clock, categories=["drug"])
    assert again.id == consent.id and again.status == "active"
    got = states(sessions, institution_id, consent.id, clock.now())
    assert (got["drug"].flag, got["drug"].consented_at, got["drug"].expiry_reason) == (1, clock.now(), None)
    assert got["limit"].flag == 0
    assert read(sessions, institution_id, clock, "limit").reason == "category_not_consented"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.event == "consent_updated", AuditEntry.consent_id == consent.id)) == 1


def test_unknown_categories_change_nothing(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    with sessions() as session, pytest.raises(ConsentError) as refused:
        change_categories(session, institution_id=institution_id, consent_id=consent.id, person_id="person-1",
                          categories=["drug", "horoscope"], now=clock.now())
    assert refused.value.code == "unknown_category"
    assert states(sessions, institution_id, consent.id, clock.now())["checkup"].flag == 1
