"""Registering, replacing, double submissions and revocation of consents."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import TODAY, race

import consent.grants as grants
from consent.audit import verify_chain
from consent.clock import JST
from consent.errors import ConsentError
from consent.grants import (
    change_categories,
    consents_for_date,
    consents_of_person,
    get_consent,
    register_consent,
    revoke_all_for_person,
    revoke_consent,
    status_at,
)
from consent.institutions import create_institution
from consent.models import AuditEntry, Consent
from web.error_messages import describe


def register(sessions, institution_id, clock, **overrides) -> Consent:
    args = dict(
        institution_id=institution_id, person_id="person-1", card_id="card-1", care_setting=3,
        categories=["drug", "checkup", "limit"], consultation_date=TODAY, now=clock.now(),
        validity_code=1,
    )
    args.update(overrides)
    with sessions() as session:
        consent = register_consent(session, **args)
        session.commit()
        return consent


def events(sessions, institution_id) -> list[tuple[str, str | None]]:
    with sessions() as session:
        rows = session.execute(
            select(AuditEntry.event, AuditEntry.consent_id)
            .where(AuditEntry.institution_id == institution_id)
            .order_by(AuditEntry.seq)
        ).all()
    return [tuple(row) for row in rows]


def count_consents(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Consent))


def test_register_stores_the_grant_and_audits_it(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock, categories=["limit", "drug", "drug"])
    assert len(consent.id) >= 20  # opaque and unguessable
    assert consent.categories == ("drug", "limit")  # normalized, deduplicated
    assert consent.window_end == datetime(2026, 11, 25, 0, 0, tzinfo=JST)
    assert consent.consented_at == clock.now()
    assert consent.validity_code == 1 and consent.qualification_confirmed_at == clock.now()
    assert status_at(consent, clock.now()) == "有効"
    assert events(sessions, institution_id) == [("consent_registered", consent.id)]
    with sessions() as session:
        stored = get_consent(session, institution_id=institution_id, consent_id=consent.id)
        assert stored.categories == ("drug", "limit")
        assert stored.consented_at.tzinfo is not None
        assert [c.id for c in consents_for_date(session, institution_id=institution_id, consultation_date=TODAY)] == [consent.id]


def test_registering_again_updates_in_place_and_audits_the_change(sessions, institution_id, clock):
    first = register(sessions, institution_id, clock)
    clock.set(clock.now() + timedelta(hours=2))
    second = register(sessions, institution_id, clock, categories=["drug"], card_id="card-2", validity_code=None)
    assert second.id == first.id
    assert second.categories == ("drug",)
    assert second.card_id == "card-2"
    assert second.consented_at == clock.now()
    # A failed OQS confirmation (None) keeps the earlier confirmed validity.
    assert second.validity_code == 1
    assert count_consents(sessions) == 1
    assert events(sessions, institution_id) == [
        ("consent_registered", first.id), ("consent_updated", first.id)
    ]
    with sessions() as session:
        detail = session.scalar(select(AuditEntry.detail).where(AuditEntry.event == "consent_updated"))
    assert '"categories":[["drug","checkup","limit"],["drug"]]' in detail


def test_an_identical_repeat_changes_nothing(sessions, institution_id, clock):
    first = register(sessions, institution_id, clock)
    clock.set(clock.now() + timedelta(seconds=1))
    again = register(sessions, institution_id, clock)
    assert again.id == first.id
    assert again.consented_at == first.consented_at
    assert events(sessions, institution_id) == [("consent_registered", first.id)]


def test_another_date_is_another_consent(sessions, institution_id, clock):
    a = register(sessions, institution_id, clock)
    b = register(sessions, institution_id, clock, consultation_date=TODAY + timedelta(days=7))
    assert a.id != b.id
    with sessions() as session:
        assert [c.id for c in consents_of_person(session, institution_id=institution_id, person_id="person-1")] == [b.id, a.id]


@pytest.mark.parametrize("categories", [["drug", "limit"], None])
def test_simultaneous_submissions_make_one_consent(sessions, institution_id, clock, categories):
    """A double tap / two tabs: eight threads submit at once; one row, every caller gets its id.

    With `categories=None` the threads ask for different categories: still one row, one
    registration, the rest updates, and the audit chain stays intact.
    """
    threads_n = 8
    choices = [["drug"], ["checkup"], ["limit"], ["drug", "limit"]]

    def submit(i: int) -> str:
        with sessions() as session:
            consent = register_consent(
                session, institution_id=institution_id, person_id="person-1", card_id="card-1",
                care_setting=3, categories=categories or choices[i % len(choices)],
                consultation_date=TODAY, now=clock.now(),
            )
            session.commit()
            return consent.id

    ids = race(submit, threads_n, timeout=60)
    assert len(ids) == threads_n and len(set(ids)) == 1
    assert count_consents(sessions) == 1
    logged = [event for event, _ in events(sessions, institution_id)]
    assert logged.count("consent_registered") == 1
    if categories is not None:
        assert logged == ["consent_registered"]
    with sessions() as session:
        assert verify_chain(session, institution_id) is None


def test_a_lost_insert_race_is_retried_as_an_update(sessions, institution_id, clock, monkeypatch):
    """The PostgreSQL race made deterministic: the lookup misses a row another submission just
    committed, the INSERT hits the unique constraint, and the consent is updated instead."""
    first = register(sessions, institution_id, clock, categories=["drug"])
    real_find = grants._find_for_update
    calls = []

    def miss_once(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)

    monkeypatch.setattr(grants, "_find_for_update", miss_once)
    monkeypatch.setattr(grants, "writers_queue", lambda session: False)  # the PostgreSQL path on SQLite too
    second = register(sessions, institution_id, clock, categories=["drug", "limit"])
    assert len(calls) == 2
    assert second.id == first.id and second.categories == ("drug", "limit")
    assert count_consents(sessions) == 1
    assert [e for e, _ in events(sessions, institution_id)] == ["consent_registered", "consent_updated"]


def test_refusals_write_nothing(sessions, institution_id, clock):
    cases = [
        (dict(categories=[]), "no_categories"),
        (dict(categories=["drug", "genome"]), "unknown_category"),
        (dict(care_setting=2), "care_setting_unsupported"),
        (dict(care_setting=4), "invalid_care_setting"),  # 救急時 is not a setting of this system
        (dict(care_setting=9), "invalid_care_setting"),
        (dict(consultation_date=TODAY - timedelta(days=1)), "date_in_past"),
        (dict(consultation_date=TODAY + timedelta(days=31)), "date_too_far"),
    ]
    for overrides, code in cases:
        with pytest.raises(ConsentError) as refused:
            register(sessions, institution_id, clock, **overrides)
        assert refused.value.code == code
        assert describe(refused.value).message  # Japanese, for the page
    assert count_consents(sessions) == 0
    assert events(sessions, institution_id) == []


def test_outpatient_alternative_flow_has_the_same_window(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock, care_setting=1)
    assert consent.window_end == datetime(2026, 11, 25, 0, 0, tzinfo=JST)


def test_revoke_one(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    clock.set(clock.now() + timedelta(hours=1))
    with sessions() as session:
        revoked = revoke_consent(
            session, institution_id=institution_id, consent_id=consent.id, by="staff:7", reason=1,
            now=clock.now(),
        )
        session.commit()
    assert revoked.status == "revoked" and revoked.revoked_at == clock.now()
    assert revoked.revoked_by == "staff:7" and revoked.revocation_reason == 1
    assert status_at(revoked, clock.now()) == "取消"
    # Revoking again is a no-op.
    with sessions() as session:
        revoke_consent(
            session, institution_id=institution_id, consent_id=consent.id, by="staff:7", reason=1,
            now=clock.now() + timedelta(minutes=5),
        )
        session.commit()
    assert [e for e, _ in events(sessions, institution_id)] == ["consent_registered", "consent_revoked"]


def test_revoke_checks_institution_reason_and_person(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    with sessions() as session:
        other = create_institution(session, code="1341234574", name="別の薬局", now=clock.now())
        session.commit()
    with sessions() as session:
        with pytest.raises(ConsentError) as not_found:
            revoke_consent(session, institution_id=other.id, consent_id=consent.id, by="staff:1",
                           reason=1, now=clock.now())
        assert not_found.value.code == "not_found"
        session.rollback()
        with pytest.raises(ConsentError) as wrong_person:
            revoke_consent(session, institution_id=institution_id, consent_id=consent.id, by="patient",
                           reason=2, now=clock.now(), person_id="person-2")
        assert wrong_person.value.code == "not_found"
        session.rollback()
        with pytest.raises(ConsentError) as bad_reason:
            revoke_consent(session, institution_id=institution_id, consent_id=consent.id, by="patient",
                           reason=4, now=clock.now())
        assert bad_reason.value.code == "invalid_reason"
        session.rollback()
    with sessions() as session:
        assert get_consent(session, institution_id=other.id, consent_id=consent.id) is None
        assert get_consent(session, institution_id=institution_id, consent_id=consent.id).status == "active"


def test_revoke_all_for_person(sessions, institution_id, clock):
    old = register(sessions, institution_id, clock, categories=["drug"])  # its window will have ended
    # Past its window too, but 限度額 has no expiry: it still grants a read, so it is revoked.
    billing = register(sessions, institution_id, clock, consultation_date=TODAY + timedelta(days=1))
    clock.set(clock.now() + timedelta(days=3))
    today = TODAY + timedelta(days=3)
    current = register(sessions, institution_id, clock, consultation_date=today)
    future = register(sessions, institution_id, clock, consultation_date=today + timedelta(days=10))
    someone_else = register(sessions, institution_id, clock, consultation_date=today, person_id="person-2")
    with sessions() as session:
        revoked = revoke_all_for_person(
            session, institution_id=institution_id, person_id="person-1", by="patient", reason=2,
            now=clock.now(),
        )
        session.commit()
    assert sorted(c.id for c in revoked) == sorted([billing.id, current.id, future.id])
    with sessions() as session:
        state = {c.id: status_at(c, clock.now()) for c in session.scalars(select(Consent))}
    assert state == {old.id: "同意有効期限切れ", billing.id: "取消", current.id: "取消", future.id: "取消",
                     someone_else.id: "有効"}


def test_registering_again_after_revocation_reactivates_the_same_consent(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    with sessions() as session:
        revoke_all_for_person(session, institution_id=institution_id, person_id="person-1",
                              by="patient", reason=2, now=clock.now())
        session.commit()
    again = register(sessions, institution_id, clock)
    assert again.id == consent.id and again.status == "active"
    assert again.revoked_at is None and again.revocation_reason is None
    assert [e for e, _ in events(sessions, institution_id)] == [
        "consent_registered", "consent_revoked", "consent_updated"
    ]


def test_change_categories(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    with sessions() as session:
        changed = change_categories(session, institution_id=institution_id, consent_id=consent.id,
                                    person_id="person-1", categories=["limit"], now=clock.now())
        session.commit()
    assert changed.id == consent.id and changed.categories == ("limit",)
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=JST))
    with sessions() as session:
        with pytest.raises(ConsentError) as expired:
            change_categories(session, institution_id=institution_id, consent_id=consent.id,
                              person_id="person-1", categories=["drug"], now=clock.now())
        assert expired.value.code == "consent_expired"


@pytest.mark.parametrize("care_setting, house_call, code", [
    (1, True, "invalid_care_setting"), (3, True, "invalid_care_setting"), (2, False, "care_setting_unsupported"),
])
def test_a_house_call_is_care_setting_2_and_home_visits_wait_for_their_rules(
        sessions, institution_id, clock, care_setting, house_call, code):
    with pytest.raises(ConsentError) as raised:
        register(sessions, institution_id, clock, care_setting=care_setting, house_call=house_call)
    assert raised.value.code == code
    assert count_consents(sessions) == 0


@pytest.mark.parametrize("care_setting, house_call", [(1, False), (2, True)])
@pytest.mark.parametrize("offset, allowed", [(timedelta(seconds=-1), True), (timedelta(0), False)])
def test_outpatient_and_house_call_windows_end_with_the_day_after_the_visit_jst(
        sessions, institution_id, clock, care_setting, house_call, offset, allowed):
    from consent.actors import Actor
    from consent.decision import decide

    consent = register(sessions, institution_id, clock, care_setting=care_setting, house_call=house_call)
    end = datetime.combine(TODAY + timedelta(days=2), datetime.min.time(), JST)
    assert consent.window_end == end and consent.house_call is house_call
    with sessions() as session:
        decision = decide(session, institution_id=institution_id, person_id="person-1", category="drug",
                          actor=Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist"),
                          now=end + offset)
        session.commit()
    assert decision.allowed is allowed


def test_house_calls_on_two_days_are_two_consents_and_each_is_audited_as_one(sessions, institution_id, clock):
    first = register(sessions, institution_id, clock, care_setting=2, house_call=True)
    second = register(sessions, institution_id, clock, care_setting=2, house_call=True,
                      consultation_date=TODAY + timedelta(days=1))
    assert first.id != second.id and count_consents(sessions) == 2
    with sessions() as session:
        detail = session.scalars(select(AuditEntry.detail).where(AuditEntry.consent_id == first.id)).first()
    assert json.loads(detail)["house_call"] is True
