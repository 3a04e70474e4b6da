"""The application layer (consent/app/) commits each change with its event: the consent and the
outbox row (consent/events.py) stand together after one call, or - refused - neither does."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from conftest import TODAY
from consent.actors import Actor
from consent.app import home_visits, reception, revocation
from consent.app.ports import NoMetrics
from consent.errors import ConsentError
from consent.events import Event
from consent.models import Consent
from consent.vocabulary import (
    BY_INSTITUTION, EVENT_CONSENT_REGISTERED, EVENT_CONSENT_REVOKED, EVENT_CONSENT_UPDATED, EVENT_VISIT_RECORDED,
    HOME_VISIT, ONLINE_CARE,
)


class StubOQS:
    """The OQS contract's qualification call, answering 有効 for anyone."""

    def qualification(self, person_id, **_):
        return SimpleNamespace(person_id=person_id, validity_code=1)


def _register(sessions, institution_id, clock, *, care_setting=ONLINE_CARE, person_id="person-1",
              categories=("drug", "checkup")) -> Consent:
    with sessions() as session:
        return reception.register(
            session, StubOQS(), institution_id=institution_id, institution_code="1341234563",
            care_setting=care_setting, house_call=False, person_id=person_id, card_id="card-1",
            categories=categories, consultation_date=TODAY, today=TODAY, now=clock.now(), max_days_ahead=7,
            metrics=NoMetrics()).consent


def _stored(sessions, consent_id: str) -> tuple[Consent | None, list[str]]:
    """What another connection sees: the consent, and its events' types in order."""
    with sessions() as session:
        consent = session.get(Consent, consent_id)
        types = session.scalars(select(Event.type).where(Event.consent_id == consent_id).order_by(Event.id)).all()
        return consent, list(types)


def _pharmacist(institution_id: int) -> Actor:
    return Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")


def test_a_reception_commits_the_consent_with_its_event(sessions, institution_id, clock):
    consent = _register(sessions, institution_id, clock)
    stored, types = _stored(sessions, consent.id)
    assert stored is not None and types == [EVENT_CONSENT_REGISTERED]


def test_a_refused_reception_leaves_neither_consent_nor_event(sessions, institution_id, clock):
    with pytest.raises(ConsentError):
        _register(sessions, institution_id, clock, categories=("no-such-category",))
    with sessions() as session:
        assert session.scalars(select(Consent)).all() == [] and session.scalars(select(Event)).all() == []


def test_a_category_change_commits_with_its_event(sessions, institution_id, clock):
    consent = _register(sessions, institution_id, clock)
    with sessions() as session:
        reception.change_categories(session, institution_id=institution_id, consent_id=consent.id,
                                    person_id="person-1", categories=["drug"], now=clock.now(), metrics=NoMetrics())
    stored, types = _stored(sessions, consent.id)
    assert list(stored.categories) == ["drug"] and types == [EVENT_CONSENT_REGISTERED, EVENT_CONSENT_UPDATED]


def test_the_institutions_revocation_commits_with_its_event(sessions, institution_id, clock):
    consent = _register(sessions, institution_id, clock)
    with sessions() as session:
        revocation.end_consent(session, actor=_pharmacist(institution_id), consent_id=consent.id,
                               reason=BY_INSTITUTION, now=clock.now(), metrics=NoMetrics())
    stored, types = _stored(sessions, consent.id)
    assert stored.revoked and types == [EVENT_CONSENT_REGISTERED, EVENT_CONSENT_REVOKED]


def test_a_clerks_revocation_is_refused_and_writes_no_event(sessions, institution_id, clock):
    consent = _register(sessions, institution_id, clock)
    clerk = Actor.for_staff(staff_id=2, institution_id=institution_id, role="clerk")
    with sessions() as session, pytest.raises(ConsentError):
        revocation.end_consent(session, actor=clerk, consent_id=consent.id, reason=BY_INSTITUTION,
                               now=clock.now(), metrics=NoMetrics())
    stored, types = _stored(sessions, consent.id)
    assert not stored.revoked and types == [EVENT_CONSENT_REGISTERED]


def test_the_patients_revocation_commits_with_its_events(sessions, institution_id, clock):
    consent = _register(sessions, institution_id, clock)
    with sessions() as session:
        revoked = revocation.revoke_all_by_patient(session, institution_id=institution_id, person_id="person-1",
                                                   now=clock.now(), metrics=NoMetrics())
    assert [c.id for c in revoked] == [consent.id]
    stored, types = _stored(sessions, consent.id)
    assert stored.revoked and types == [EVENT_CONSENT_REGISTERED, EVENT_CONSENT_REVOKED]


def test_a_recorded_visit_commits_with_its_event(sessions, institution_id, clock):
    first = _register(sessions, institution_id, clock, care_setting=HOME_VISIT)
    assert first.relationship
    before = _stored(sessions, first.id)[1]
    with sessions() as session:
        _, created = home_visits.record_visit(session, actor=_pharmacist(institution_id), consent_id=first.id,
                                              visit_date=TODAY + timedelta(days=1),
                                              now=clock.now() + timedelta(days=1))
    stored, types = _stored(sessions, first.id)
    assert created and stored.last_visit_date == TODAY + timedelta(days=1)
    assert types == [*before, EVENT_VISIT_RECORDED]
