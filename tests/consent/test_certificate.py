"""資格確認書 (the qualification certificate): a confirmation from its numbers is recorded as a
consent with source "certificate" and no categories, grants no data to anyone (certificate_only),
answers the qualification as the 再照会 does (not found, a wrong birth date alike; 無効), and
stands beside the card's consents without replacing them."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from conftest import TODAY
from consent import grants
from consent.actors import Actor
from consent.app import certificate
from consent.app.ports import NoMetrics
from consent.category_states import states_at
from consent.clock import JST
from consent.decision import CERTIFICATE_ONLY, QUALIFICATION_ONLY, decide
from consent.errors import ConsentError
from consent.insurance_keys import KeysRefused, parse_insurance_keys
from consent.models import AuditEntry, Consent
from consent.vocabulary import (
    CATEGORIES, HOME_VISIT, OUTPATIENT, QUALIFICATION, READ_CATEGORIES, SOURCE_CARD, SOURCE_CERTIFICATE,
)
from integrations.oqs.simulator import make_oqs
from web.error_messages import decision_message, patient_read_refusal

DATA_CATEGORIES = [c for c in READ_CATEGORIES if c != QUALIFICATION]
INSTITUTION_CODE = "1341234563"

ACTORS = {
    "pharmacist": lambda inst: Actor.for_staff(staff_id=1, institution_id=inst, role="pharmacist"),
    "clerk": lambda inst: Actor.for_staff(staff_id=2, institution_id=inst, role="clerk"),
    "admin": lambda inst: Actor.for_staff(staff_id=3, institution_id=inst, role="admin"),
    "system job": lambda inst: Actor.for_client(client_id="job", institution_id=inst),
}


def confirm_here(session, institution_id, clock, *, person_id="p-1", care_setting=OUTPATIENT, house_call=False,
                 validity_code=1, day=TODAY):
    return grants.register_certificate(session, institution_id=institution_id, person_id=person_id,
                                       care_setting=care_setting, house_call=house_call, consultation_date=day,
                                       now=clock.now(), validity_code=validity_code, by="staff:7")


def events_of(session, consent_id: str) -> list[dict]:
    from consent.events import Event  # the outbox's table

    return [{"type": e.type, "data": json.loads(e.data)} for e in session.scalars(
        select(Event).where(Event.consent_id == consent_id).order_by(Event.id))]


# --- the domain: what a confirmation records and grants --------------------------------------------


def test_a_confirmation_records_source_certificate_no_categories_and_every_flag_0(sessions, institution_id, clock):
    with sessions() as session:
        consent = confirm_here(session, institution_id, clock)
        session.commit()
        assert (consent.source, consent.categories, consent.card_id) == (SOURCE_CERTIFICATE, (), "")
        assert {s.category: s.flag for s in states_at(consent.category_states, clock.now())} == {
            c: 0 for c in CATEGORIES}
        assert consent.qualification_confirmed_at == clock.now() and consent.validity_code == 1
        # Staff confirmed it (not the patient): the audit names the staff member.
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.event == "consent_registered")).all()
        assert (entry.actor_kind, entry.actor_id, entry.person_id) == ("staff", "7", "p-1")
        assert json.loads(entry.detail)["source"] == SOURCE_CERTIFICATE
        # consent.registered carries the source, as every registration does.
        (registered,) = events_of(session, consent.id)
        assert registered["type"] == "consent.registered"
        assert registered["data"]["source"] == SOURCE_CERTIFICATE and registered["data"]["categories"] == []


def test_a_card_consent_reports_source_card(sessions, institution_id, clock):
    with sessions() as session:
        consent = grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c-1",
                                          care_setting=3, categories=["drug"], consultation_date=TODAY,
                                          now=clock.now(), validity_code=1)
        session.commit()
        assert consent.source == SOURCE_CARD
        assert events_of(session, consent.id)[0]["data"]["source"] == SOURCE_CARD


@pytest.mark.parametrize("who", list(ACTORS))
def test_every_data_read_is_refused_certificate_only_for_every_reader_and_the_qualification_is_not(
        sessions, institution_id, clock, who):
    with sessions() as session:
        consent = confirm_here(session, institution_id, clock)
        session.commit()
        actor = ACTORS[who](institution_id)
        for named in (True, False):
            for category in READ_CATEGORIES:
                decision = decide(session, institution_id=institution_id, actor=actor, person_id="p-1",
                                  category=category, now=clock.now(), consent_id=consent.id if named else None)
                session.commit()
                if category == QUALIFICATION:
                    assert decision.allowed, (category, decision.reason)
                    continue
                if not named and category in ("drug", "checkup", "clinical", "surgery") and not actor.licensed:
                    # Judged by person: the reader's own limit comes first, as for any consent.
                    assert decision.reason in ("not_licensed", "insufficient_scope"), (who, category)
                    continue
                if not named and actor.limited and category != "limit":
                    assert decision.reason == "insufficient_scope"
                    continue
                assert (decision.allowed, decision.reason) == (False, CERTIFICATE_ONLY), (who, category, named)
                assert decision_message(decision).startswith("資格確認書での確認では薬剤情報などは閲覧できません")
                assert patient_read_refusal(decision.reason).startswith("資格確認書での受付")
        denied = session.scalars(select(AuditEntry).where(AuditEntry.event == "read_denied",
                                                          AuditEntry.reason == CERTIFICATE_ONLY)).all()
        assert denied and {e.person_id for e in denied} == {"p-1"}


def test_a_card_consent_of_another_day_still_allows_its_data(sessions, institution_id, clock):
    """Judged by person, a card consent that allows wins over today's 資格確認書 confirmation."""
    with sessions() as session:
        grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c-1",
                                care_setting=3, categories=["drug"], consultation_date=TODAY + timedelta(days=1),
                                now=clock.now(), validity_code=1)
        confirm_here(session, institution_id, clock)
        session.commit()
        pharmacist = ACTORS["pharmacist"](institution_id)
        drug = decide(session, institution_id=institution_id, actor=pharmacist, person_id="p-1", category="drug",
                      now=clock.now())
        checkup = decide(session, institution_id=institution_id, actor=pharmacist, person_id="p-1",
                         category="checkup", now=clock.now())
        session.commit()
        assert drug.allowed and drug.consent.source == SOURCE_CARD
        # The card consent's own refusal tells more than "a certificate" does.
        assert checkup.reason == "category_not_consented"


def test_the_days_record_ends_with_the_next_day_and_its_qualification_stays_readable(sessions, institution_id, clock):
    with sessions() as session:
        consent = confirm_here(session, institution_id, clock)
        session.commit()
        end = datetime.combine(TODAY + timedelta(days=2), datetime.min.time(), JST)
        pharmacist = ACTORS["pharmacist"](institution_id)
        for instant, status in ((end - timedelta(seconds=1), "active"), (end, "expired")):
            assert grants.status_code_at(consent, instant) == status
            qualification = decide(session, institution_id=institution_id, actor=pharmacist, person_id="p-1",
                                   category=QUALIFICATION, now=instant, consent_id=consent.id)
            drug = decide(session, institution_id=institution_id, actor=pharmacist, person_id="p-1",
                          category="drug", now=instant, consent_id=consent.id)
            session.commit()
            # The billing record stays; the data was never granted, before or after the end.
            assert qualification.allowed and drug.reason == CERTIFICATE_ONLY, instant


def test_a_repeat_the_same_day_changes_nothing_and_a_new_answer_updates_it_in_place(sessions, institution_id, clock):
    with sessions() as session:
        first = confirm_here(session, institution_id, clock)
        session.commit()
        first_id, first_at = first.id, first.qualification_confirmed_at
        clock.set(clock.now() + timedelta(minutes=30))
        again = confirm_here(session, institution_id, clock)
        session.commit()
        assert again.id == first_id and again.qualification_confirmed_at == first_at
        clock.set(clock.now() + timedelta(minutes=30))
        lost = confirm_here(session, institution_id, clock, validity_code=2)
        session.commit()
        assert lost.id == first_id and lost.validity_code == 2 and lost.qualification_confirmed_at == clock.now()
        assert [e["type"] for e in events_of(session, first_id)] == ["consent.registered", "consent.updated"]
        assert events_of(session, first_id)[1]["data"]["changed"] == ["qualification"]
        # Confirmed again that day at another entry point: the record takes its care setting.
        visit = confirm_here(session, institution_id, clock, care_setting=HOME_VISIT, validity_code=2)
        session.commit()
        assert visit.id == first_id and (visit.care_setting, visit.house_call) == (HOME_VISIT, False)
        assert events_of(session, first_id)[-1]["data"]["changed"] == ["care_setting"]
        # The next day is another confirmation.
        clock.set(clock.now() + timedelta(days=1))
        tomorrow = confirm_here(session, institution_id, clock, day=TODAY + timedelta(days=1))
        session.commit()
        assert tomorrow.id != first_id


def test_a_card_consent_of_the_day_is_not_replaced(sessions, institution_id, clock):
    with sessions() as session:
        card = grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c-1",
                                       care_setting=1, categories=["drug"], consultation_date=TODAY,
                                       now=clock.now(), validity_code=1)
        session.commit()
        with pytest.raises(ConsentError) as refused:
            confirm_here(session, institution_id, clock)
        assert refused.value.code == "card_consent_exists"
        session.rollback()
        kept = session.get(Consent, card.id, populate_existing=True)
        assert (kept.source, kept.categories) == (SOURCE_CARD, ("drug",))


def test_the_patient_cannot_change_the_categories_of_a_confirmation(sessions, institution_id, clock):
    with sessions() as session:
        consent = confirm_here(session, institution_id, clock)
        session.commit()
        with pytest.raises(ConsentError) as refused:
            grants.change_categories(session, institution_id=institution_id, consent_id=consent.id,
                                     person_id="p-1", categories=["drug"], now=clock.now())
        assert refused.value.code == "certificate_record"
        session.rollback()


def test_a_card_read_the_same_day_turns_the_confirmation_into_the_cards_consent(sessions, institution_id, clock):
    with sessions() as session:
        confirmed = confirm_here(session, institution_id, clock)
        session.commit()
        clock.set(clock.now() + timedelta(minutes=5))
        consent = grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c-1",
                                          care_setting=1, categories=["drug"], consultation_date=TODAY,
                                          now=clock.now(), validity_code=1)
        session.commit()
        assert consent.id == confirmed.id
        assert (consent.source, consent.card_id, consent.categories) == (SOURCE_CARD, "c-1", ("drug",))
        assert "source" in events_of(session, consent.id)[-1]["data"]["changed"]
        pharmacist = ACTORS["pharmacist"](institution_id)
        assert decide(session, institution_id=institution_id, actor=pharmacist, person_id="p-1", category="drug",
                      now=clock.now(), consent_id=consent.id).allowed
        session.commit()


def test_a_home_visit_confirmation_is_a_days_record_not_a_relationship(sessions, institution_id, clock):
    with sessions() as session:
        consent = confirm_here(session, institution_id, clock, care_setting=HOME_VISIT)
        session.commit()
        assert not consent.relationship and consent.care_setting == HOME_VISIT and not consent.house_call
        assert consent.window_end == datetime.combine(TODAY + timedelta(days=2), datetime.min.time(), JST)
        listed = grants.consents_for_date(session, institution_id=institution_id, consultation_date=TODAY)
        assert [c.id for c in listed] == [consent.id] and listed[0].source == SOURCE_CERTIFICATE


def test_a_qualification_only_institution_still_says_qualification_only(sessions, clock):
    from consent.institutions import create_institution

    with sessions() as session:
        clinic = create_institution(session, code="1311234577", name="健診クリニック", now=clock.now(),
                                    qualification_only=True)
        session.commit()
        consent = confirm_here(session, clinic.id, clock)
        session.commit()
        decision = decide(session, institution_id=clinic.id, actor=ACTORS["pharmacist"](clinic.id), person_id="p-1",
                          category="drug", now=clock.now(), consent_id=consent.id)
        session.commit()
        assert decision.reason == QUALIFICATION_ONLY


# --- the application layer: 資格確認書で確認 through the OQS -------------------------------------


@pytest.fixture
def holder(world):
    """A patient with no consent at 本町薬局 (born 1958-07-07, 昭和33年7月7日) and a clerk there."""
    with world.session() as s:
        person = make_oqs(s).create_person(today=TODAY, birth_date=date(1958, 7, 7), validity=1, seed=3901)
        s.commit()
    return person, Actor.for_staff(staff_id=world.staff["clerk"], institution_id=world.here, role="clerk")


def keys_of(person, **changes) -> dict[str, str]:
    return {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat(), **changes}


def run(world, actor, raw: dict, clock, *, care_setting=OUTPATIENT):
    with world.session() as session:
        found = certificate.confirm(session, make_oqs(session), actor=actor, institution_code=INSTITUTION_CODE,
                                    care_setting=care_setting, house_call=False,
                                    keys=parse_insurance_keys(raw, wareki=True), today=TODAY, now=clock.now(),
                                    metrics=NoMetrics())
        return found, (found.consent.id if found.consent is not None else None)


@pytest.mark.parametrize("birth_date", ["1958-07-07", "昭和33年7月7日", "S33.7.7", "s33.7.7", "1958/7/7"])
def test_confirm_answers_the_qualification_and_records_it(world, holder, clock, birth_date):
    person, actor = holder
    found, consent_id = run(world, actor, keys_of(person, birth_date=birth_date), clock)
    assert found.found and found.qualification.person_id == person.person_id
    assert found.qualification.validity_code == 1
    with world.session() as session:
        consent = session.get(Consent, consent_id)
        assert (consent.source, consent.person_id, consent.consultation_date) == (
            SOURCE_CERTIFICATE, person.person_id, TODAY)


def test_a_wrong_birth_date_is_not_found_and_nothing_is_recorded(world, holder, clock):
    person, actor = holder
    found, consent_id = run(world, actor, keys_of(person, birth_date="1958-07-08"), clock)
    assert not found.found and found.qualification is None and consent_id is None
    nobody, _ = run(world, actor, keys_of(person, number="99999999"), clock)
    assert not nobody.found
    with world.session() as session:
        assert session.scalars(select(Consent).where(Consent.source == SOURCE_CERTIFICATE)).all() == []
        searched = session.scalars(select(AuditEntry).where(AuditEntry.event == "person_searched")).all()
        assert [json.loads(e.detail) for e in searched] == [{"by": "certificate", "outcome": "not_found"}] * 2
        assert {e.person_id for e in searched} == {None}


def test_an_expired_qualification_is_answered_and_recorded_as_such(world, clock):
    with world.session() as session:
        lost = make_oqs(session).create_person(today=TODAY, birth_date=date(1970, 3, 3), validity=2)
        session.commit()
    actor = Actor.for_staff(staff_id=world.staff["clerk"], institution_id=world.here, role="clerk")
    found, consent_id = run(world, actor, keys_of(lost), clock)
    assert found.found and found.qualification.validity_code == 2
    with world.session() as session:
        assert session.get(Consent, consent_id).validity_code == 2


def test_malformed_keys_are_refused_before_anything_is_asked(world, holder):
    person, _ = holder
    with pytest.raises(KeysRefused) as bad_date:
        parse_insurance_keys(keys_of(person, birth_date="昭和33年13月1日"), wareki=True)
    assert bad_date.value.code == "birth_date_format"
    with pytest.raises(KeysRefused):
        parse_insurance_keys(keys_of(person, number=""), wareki=True)
    # Without `wareki` (the API) a 和暦 date is refused as before.
    with pytest.raises(KeysRefused):
        parse_insurance_keys(keys_of(person, birth_date="昭和33年7月7日"))
