"""The one decision function: every reason, licence, the qualification, named consents."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from conftest import TODAY
from consent.actors import Actor
from consent.vocabulary import CATEGORIES, CLINICAL_CATEGORIES
from consent.clock import JST
from consent.decision import decide
from consent.grants import register_consent, revoke_consent
from consent.models import AuditEntry
from web.error_messages import decision_message


def pharmacist(institution_id: int) -> Actor:
    return Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")


def clerk(institution_id: int) -> Actor:
    return Actor.for_staff(staff_id=2, institution_id=institution_id, role="clerk")


def register(sessions, institution_id, clock, **overrides):
    args = dict(
        institution_id=institution_id, person_id="person-1", card_id="card-1", care_setting=3,
        categories=["drug", "limit"], consultation_date=TODAY, now=clock.now(), validity_code=1,
    )
    args.update(overrides)
    with sessions() as session:
        consent = register_consent(session, **args)
        session.commit()
        return consent


def read(sessions, institution_id, clock, category, actor=None, person_id="person-1", **kwargs):
    with sessions() as session:
        decision = decide(
            session, institution_id=institution_id, actor=actor or pharmacist(institution_id),
            person_id=person_id, category=category, now=clock.now(), **kwargs,
        )
        session.commit()
        return decision


def test_allowed_read_names_its_consent_and_window(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    decision = read(sessions, institution_id, clock, "drug")
    assert decision.allowed and decision.reason is None and decision_message(decision) == ""
    assert decision.consent.id == consent.id
    assert decision.window_end == datetime(2026, 11, 25, 0, 0, tzinfo=JST)


def test_no_consent(sessions, institution_id, clock):
    decision = read(sessions, institution_id, clock, "drug")
    assert (decision.allowed, decision.reason, decision_message(decision)) == (False, "no_consent", "同意がありません")
    assert decision.consent is None
    # The qualification needs a consent too.
    assert read(sessions, institution_id, clock, "qualification", actor=clerk(institution_id)).reason == "no_consent"


def test_category_not_consented(sessions, institution_id, clock):
    register(sessions, institution_id, clock, categories=["drug"])
    decision = read(sessions, institution_id, clock, "checkup")
    assert (decision.reason, decision_message(decision)) == ("category_not_consented", "特定健診は同意の対象外です")


def test_consent_revoked_says_when(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    with sessions() as session:
        revoke_consent(session, institution_id=institution_id, consent_id=consent.id, by="patient",
                       reason=2, now=datetime(2026, 11, 23, 14, 5, 30, tzinfo=JST))
        session.commit()
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=JST))
    decision = read(sessions, institution_id, clock, "drug")
    assert decision.reason == "consent_revoked"
    assert decision_message(decision) == "薬剤・処方の同意が取り消されました（2026年11月23日 14:05、患者による取消）"
    assert decision.since == datetime(2026, 11, 23, 14, 5, 30, tzinfo=JST)


@pytest.mark.parametrize("category", sorted(CLINICAL_CATEGORIES))
def test_clinical_categories_need_a_licence(sessions, institution_id, clock, category):
    register(sessions, institution_id, clock, categories=list(CATEGORIES))
    assert read(sessions, institution_id, clock, category).allowed
    refused = read(sessions, institution_id, clock, category, actor=clerk(institution_id))
    assert (refused.reason, decision_message(refused)) == ("not_licensed", "有資格者のみ閲覧できます")
    admin = Actor.for_staff(staff_id=3, institution_id=institution_id, role="admin")
    assert read(sessions, institution_id, clock, category, actor=admin).reason == "not_licensed"


@pytest.mark.parametrize("category", ["specific_disease", "limit", "qualification"])
def test_billing_data_is_open_to_every_role(sessions, institution_id, clock, category):
    register(sessions, institution_id, clock, categories=list(CATEGORIES))
    assert read(sessions, institution_id, clock, category, actor=clerk(institution_id)).allowed


def test_licence_is_checked_before_the_consent(sessions, institution_id, clock):
    # A clerk learns nothing about whether a consent exists for data it may never see.
    assert read(sessions, institution_id, clock, "drug", actor=clerk(institution_id)).reason == "not_licensed"


def test_system_client_reads_only_qualification_and_limit(sessions, institution_id, clock):
    register(sessions, institution_id, clock, categories=list(CATEGORIES))
    client = Actor.for_client(client_id="client-abc", institution_id=institution_id)
    assert read(sessions, institution_id, clock, "limit", actor=client).allowed
    assert read(sessions, institution_id, clock, "qualification", actor=client).allowed
    assert read(sessions, institution_id, clock, "drug", actor=client).reason == "insufficient_scope"
    assert read(sessions, institution_id, clock, "specific_disease", actor=client).reason == "insufficient_scope"


def test_qualification_stays_readable_after_the_window_and_a_revocation(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    clock.set(datetime(2027, 1, 10, 9, 0, tzinfo=JST))
    after = read(sessions, institution_id, clock, "qualification", actor=clerk(institution_id))
    assert after.allowed and after.consent.id == consent.id
    assert after.consent.qualification_confirmed_at == datetime(2026, 11, 23, 10, 0, tzinfo=JST)
    assert read(sessions, institution_id, clock, "drug").reason == "consent_expired"
    # 限度額 is billing data without expiry (deliberate change, issue 17): still readable, by a clerk too.
    assert read(sessions, institution_id, clock, "limit", actor=clerk(institution_id)).allowed
    with sessions() as session:
        revoke_consent(session, institution_id=institution_id, consent_id=consent.id, by="staff:1",
                       reason=3, now=clock.now())
        session.commit()
    assert read(sessions, institution_id, clock, "qualification", actor=clerk(institution_id)).allowed
    refused = read(sessions, institution_id, clock, "limit", actor=clerk(institution_id))
    assert refused.reason == "consent_revoked"
    assert decision_message(refused) == "限度額の同意が取り消されました（2027年1月10日 09:00、利用目的の変更）"


def test_the_consent_that_allows_wins_over_others(sessions, institution_id, clock):
    today = register(sessions, institution_id, clock, categories=["limit"])
    later = register(sessions, institution_id, clock, categories=["drug"],
                     consultation_date=TODAY + timedelta(days=5))
    decision = read(sessions, institution_id, clock, "drug")
    assert decision.allowed and decision.consent.id == later.id
    # Allowed by both: the widest window is named.
    register(sessions, institution_id, clock, categories=["drug", "limit"], consultation_date=TODAY)
    assert read(sessions, institution_id, clock, "limit").consent.id == today.id
    assert read(sessions, institution_id, clock, "drug").consent.id == later.id


def test_the_most_telling_refusal_is_given(sessions, institution_id, clock):
    old = register(sessions, institution_id, clock)
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=JST))
    # Only the old, expired consent: that is the reason.
    assert read(sessions, institution_id, clock, "drug").consent.id == old.id
    current = register(sessions, institution_id, clock, categories=["limit"],
                       consultation_date=date(2026, 12, 1))
    decision = read(sessions, institution_id, clock, "drug")
    assert decision.reason == "category_not_consented" and decision.consent.id == current.id


def test_named_consent_is_judged_alone(sessions, institutions, clock):
    here, there = institutions
    mine = register(sessions, here, clock, categories=["drug"])
    theirs = register(sessions, there, clock, categories=["drug"])
    named = read(sessions, here, clock, "drug", consent_id=mine.id, person_id=None)
    assert named.allowed and named.consent.id == mine.id
    other = read(sessions, here, clock, "drug", consent_id=theirs.id, person_id=None)
    assert other.reason == "other_institution" and other.not_found and other.consent is None
    missing = read(sessions, here, clock, "drug", consent_id="no-such-consent", person_id=None)
    assert missing.reason == "not_found" and missing.not_found
    wrong_person = read(sessions, here, clock, "drug", consent_id=mine.id, person_id="person-2")
    assert wrong_person.not_found
    # A second consent that allows does not rescue a named one that refuses.
    revoked = register(sessions, here, clock, categories=["drug"], consultation_date=TODAY + timedelta(days=1))
    with sessions() as session:
        revoke_consent(session, institution_id=here, consent_id=revoked.id, by="staff:1", reason=1, now=clock.now())
        session.commit()
    assert read(sessions, here, clock, "drug", consent_id=revoked.id).reason == "consent_revoked"
    assert read(sessions, here, clock, "drug").allowed


def test_an_actor_of_another_institution_is_refused(sessions, institutions, clock):
    here, there = institutions
    register(sessions, here, clock)
    decision = read(sessions, here, clock, "drug", actor=pharmacist(there))
    assert decision.reason == "other_institution" and decision.not_found


def test_window_opens_at_the_consent(sessions, institution_id, clock):
    register(sessions, institution_id, clock)
    clock.set(clock.now() - timedelta(minutes=1))  # a sandbox clock moved back
    assert read(sessions, institution_id, clock, "drug").reason == "no_consent"


def test_every_decision_is_audited_in_the_same_transaction(sessions, institution_id, clock):
    consent = register(sessions, institution_id, clock)
    client = Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist", client_id="rececon-1")
    read(sessions, institution_id, clock, "drug", actor=client)
    read(sessions, institution_id, clock, "checkup", actor=clerk(institution_id))
    with sessions() as session:
        # A decision whose transaction is rolled back leaves no entry (and must not be acted on).
        decide(session, institution_id=institution_id, actor=pharmacist(institution_id),
               person_id="person-1", category="drug", now=clock.now())
        session.rollback()
    with sessions() as session:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.event.like("read_%")).order_by(AuditEntry.seq)
        ).scalars().all()
    assert [(r.event, r.actor_kind, r.actor_id, r.actor_role, r.person_id, r.category, r.consent_id, r.reason)
            for r in rows] == [
        ("read_allowed", "staff", "1", "pharmacist", "person-1", "drug", consent.id, None),
        ("read_denied", "staff", "2", "clerk", "person-1", "checkup", None, "not_licensed"),
    ]
    assert rows[0].detail == '{"client_id":"rececon-1"}'


def test_unknown_category_is_a_programming_error(sessions, institution_id, clock):
    with sessions() as session, pytest.raises(ValueError):
        decide(session, institution_id=institution_id, actor=pharmacist(institution_id),
               person_id="person-1", category="genome", now=clock.now())


def test_client_actor_is_never_licensed():
    with pytest.raises(ValueError):
        Actor(kind="client", id="x", institution_id=1, licensed=True)
    assert Actor.for_staff(staff_id=5, institution_id=1, role="pharmacist").licensed
    assert not Actor.for_staff(staff_id=5, institution_id=1, role="clerk").licensed
