"""Events are written by the domain functions themselves, in the transaction of the change: each
kind of change, its data (no personal data), patient_id, and consent.expired exactly once."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import TODAY, race
from consent import events, grants, home_visits, qualification_only
from consent.actors import Actor
from consent.decision import decide
from consent.events import Event
from consent.patient_keys import patient_id_for, patient_ids_for
from consent.window import window_end


def all_events(session, institution_id=None):
    query = select(Event).order_by(Event.id)
    if institution_id is not None:
        query = query.where(Event.institution_id == institution_id)
    return [events.event_json(row) for row in session.scalars(query)]


def types(session, institution_id=None):
    return [e["type"] for e in all_events(session, institution_id)]


def register(s, institution_id, person="p-1", categories=("drug", "limit"), *, now, day=TODAY):
    return grants.register_consent(s, institution_id=institution_id, person_id=person, card_id="c-1", care_setting=3,
                                   categories=list(categories), consultation_date=day, now=now, validity_code=1)


def test_each_change_writes_its_event_with_the_changed_fields(sessions, institution_id, clock):
    with sessions() as s:
        consent = register(s, institution_id, now=clock.now())
        s.commit()
        clock.set(clock.now() + timedelta(minutes=5))
        grants.change_categories(s, institution_id=institution_id, consent_id=consent.id, person_id="p-1",
                                 categories=["drug", "checkup"], now=clock.now())
        s.commit()
        register(s, institution_id, categories=("drug", "checkup"), now=clock.now())  # identical: no change
        s.commit()
        grants.revoke_consent(s, institution_id=institution_id, consent_id=consent.id, by="patient", reason=2,
                              now=clock.now(), person_id="p-1")
        s.commit()
        found = all_events(s)
    assert [e["type"] for e in found] == ["consent.registered", "consent.updated", "consent.revoked"]
    registered, updated, revoked = found
    assert registered["data"] == {
        "status": "active", "care_setting": 3, "house_call": False, "categories": ["drug", "limit"],
        "consultation_date": TODAY.isoformat(), "window_end": f"{TODAY + timedelta(days=2)}T00:00:00+09:00",
        "lapses_at": None, "source": "card"}
    assert registered["occurred_at"] == f"{TODAY}T10:00:00+09:00"
    assert updated["data"]["categories_added"] == ["checkup"] and updated["data"]["categories_removed"] == ["limit"]
    assert updated["data"]["changed"] == ["categories"]
    assert revoked["data"] == {"expiry_reason": 2, "revoked_by": "patient", "revoked_at": f"{TODAY}T10:05:00+09:00"}
    assert {e["consent_id"] for e in found} == {consent.id}
    # Ordered, unique ids; one patient_id, never the person id.
    assert [e["id"] for e in found] == sorted({e["id"] for e in found})
    assert len({e["patient_id"] for e in found}) == 1 and found[0]["patient_id"].startswith("pat_")
    assert "p-1" not in json.dumps(found)


def test_no_personal_data_in_any_event(world, visited, clock):
    person, _ = visited
    with world.session() as s:
        text = json.dumps(all_events(s), ensure_ascii=False)
    for secret in (person.person_id, person.name, person.kana, person.birth_date.isoformat(), person.number,
                   person.insurer_number, world.person.person_id, world.person.name):
        assert secret not in text


def test_an_event_rolls_back_with_its_change(sessions, institution_id, clock):
    with sessions() as s:
        register(s, institution_id, now=clock.now())
        s.rollback()
        assert all_events(s) == []


def test_patient_id_is_stable_per_institution_and_differs_between_them(sessions, institutions, clock):
    here, there = institutions
    with sessions() as s:
        a = register(s, here, now=clock.now())
        b = register(s, there, now=clock.now())
        register(s, here, now=clock.now(), day=TODAY + timedelta(days=1))
        s.commit()
        found = all_events(s)
        assert patient_id_for(s, here, "p-1") == found[0]["patient_id"] == found[2]["patient_id"]
        assert found[1]["patient_id"] != found[0]["patient_id"]
        assert patient_ids_for(s, here, ["p-1", "nobody"]) == {"p-1": found[0]["patient_id"]}
    assert {a.id, b.id} == {found[0]["consent_id"], found[1]["consent_id"]}


@pytest.mark.parametrize("lapse_days", [None, 90])
def test_home_visits_write_registered_visits_and_the_end_of_the_relationship(sessions, institution_id, clock,
                                                                            lapse_days):
    with sessions() as s:
        home_visits.set_lapse_days(s, institution_id=institution_id, days=lapse_days, now=clock.now())
        consent = home_visits.register_first_visit(s, institution_id=institution_id, person_id="p-2", card_id="c",
                                                   categories=["drug"], now=clock.now(), validity_code=1)
        s.commit()
        clock.set(clock.now() + timedelta(days=7))
        home_visits.record_visit(s, institution_id=institution_id, consent_id=consent.id,
                                 visit_date=TODAY + timedelta(days=7), by="staff:1", now=clock.now())
        s.commit()
        grants.revoke_by_institution(s, institution_id=institution_id, consent_id=consent.id, by="staff:1", reason=1,
                                     now=clock.now())
        s.commit()
        found = all_events(s)
    assert [e["type"] for e in found] == ["consent.registered", "visit.recorded", "visit.recorded",
                                          "consent.revoked", "relationship.ended"]
    assert found[0]["data"]["window_end"] is None
    if lapse_days is None:
        # No lapse (the default): none in the events, and 訪問終了 still ends the relationship.
        assert found[0]["data"]["lapses_at"] is None and found[2]["data"]["lapses_at"] is None
    else:
        assert found[0]["data"]["lapses_at"].endswith("T00:00:00+09:00")
    assert found[2]["data"]["visit_date"] == (TODAY + timedelta(days=7)).isoformat()
    assert found[3]["data"]["revoked_by"] == "institution"
    assert found[4]["data"]["expiry_reason"] == 1


def test_switching_to_qualification_only_says_so_and_ends_categories(sessions, institution_id, clock):
    with sessions() as s:
        consent = register(s, institution_id, now=clock.now())
        qualification_only.set_qualification_only(s, institution_id=institution_id, on=True, by="operator",
                                                  now=clock.now())
        s.commit()
        found = all_events(s)
    mode, updated = found[1], found[2]
    assert mode["type"] == "institution.mode_changed" and mode["data"] == {"qualification_only": True}
    assert mode["consent_id"] is None and mode["patient_id"] is None
    assert updated["type"] == "consent.updated" and updated["consent_id"] == consent.id
    assert updated["data"]["categories_ended"] == ["drug", "limit"] and updated["data"]["expiry_reason"] == 3


def test_expiry_is_written_once_by_the_first_read_that_sees_it(sessions, institution_id, clock):
    with sessions() as s:
        consent = register(s, institution_id, now=clock.now())
        s.commit()
    clock.set(window_end(TODAY) - timedelta(seconds=1))
    actor = Actor.for_client(client_id="x", institution_id=institution_id)
    with sessions() as s:
        decide(s, institution_id=institution_id, actor=actor, person_id=None, category="qualification",
               now=clock.now(), consent_id=consent.id)
        s.commit()
        assert "consent.expired" not in types(s)
    clock.set(window_end(TODAY))  # the exact end: expired
    for _ in range(2):
        with sessions() as s:
            decide(s, institution_id=institution_id, actor=actor, person_id=None, category="limit",
                   now=clock.now(), consent_id=consent.id)
            s.commit()
    with sessions() as s:
        assert events.sweep_expiries(s, now=clock.now()) == 0
        s.commit()
        expired = [e for e in all_events(s) if e["type"] == "consent.expired"]
    assert len(expired) == 1
    assert expired[0]["occurred_at"] == f"{TODAY + timedelta(days=2)}T00:00:00+09:00"
    assert expired[0]["data"] == {"expired_at": f"{TODAY + timedelta(days=2)}T00:00:00+09:00", "cause": "window_end"}


def test_the_sweep_notes_each_expiry_once_even_when_sweeps_race(sessions, institutions, institution_id, clock):
    with sessions() as s:
        for n in range(5):
            register(s, institution_id, person=f"p-{n}", now=clock.now())
        # Without a lapse (the default, the second pharmacy) a relationship is never swept; with one
        # (90 days) it is, once the lapse has passed.
        home_visits.register_first_visit(s, institution_id=institutions[1], person_id="hv-endless",
                                         card_id="c2", categories=["drug"], now=clock.now())
        home_visits.set_lapse_days(s, institution_id=institution_id, days=90, now=clock.now())
        relationship = home_visits.register_first_visit(s, institution_id=institution_id, person_id="hv",
                                                        card_id="c", categories=["drug"], now=clock.now())
        s.commit()
        assert events.sweep_expiries(s, now=clock.now()) == 0
        s.commit()
    clock.set(clock.now() + timedelta(days=200))  # every window and the relationship's lapse (90 days) have passed

    def sweep(_):
        with sessions() as s:
            written = events.sweep_expiries(s, now=clock.now())
            s.commit()
            return written

    assert sum(race(sweep, 3)) == 6
    with sessions() as s:
        found = all_events(s)
    expired = [e for e in found if e["type"] == "consent.expired"]
    assert len(expired) == 6 and len({e["consent_id"] for e in expired}) == 6
    lapse = [e for e in found if e["consent_id"] == relationship.id]
    assert [e["type"] for e in lapse][-2:] == ["consent.expired", "relationship.ended"]
    assert lapse[-2]["data"]["cause"] == "lapse" and lapse[-1]["data"]["expiry_reason"] == 0


def test_a_shorter_lapse_rule_that_ends_a_relationship_in_the_past_says_so_at_once(sessions, institution_id, clock):
    with sessions() as s:
        consent = home_visits.register_first_visit(s, institution_id=institution_id, person_id="hv", card_id="c",
                                                   categories=["drug"], now=clock.now())
        s.commit()
        clock.set(clock.now() + timedelta(days=20))
        events.sweep_expiries(s, now=clock.now())
        home_visits.set_lapse_days(s, institution_id=institution_id, days=3, now=clock.now())
        s.commit()
        found = [e for e in all_events(s) if e["consent_id"] == consent.id]
    assert [e["type"] for e in found][-2:] == ["consent.expired", "relationship.ended"]
    assert found[-2]["occurred_at"] == f"{TODAY + timedelta(days=4)}T00:00:00+09:00"


def test_the_purge_keeps_31_days(sessions, institution_id, clock):
    with sessions() as s:
        register(s, institution_id, now=clock.now())
        s.commit()
        assert events.purge(s, now=clock.now() + timedelta(days=31)) == 0
        assert events.purge(s, now=clock.now() + timedelta(days=31, seconds=1)) == 1
        s.commit()
        register(s, institution_id, person="p-2", now=clock.now())
        s.commit()
        # Ids are never reused, even after the table was emptied (a cursor stands on one).
        assert s.scalar(select(Event.id)) > 1


@pytest.mark.parametrize("kind", ["malformed", "altered", "foreign"])
def test_a_cursor_that_is_not_ours_is_refused(kind, clock):
    key = events.cursor_key("k" * 40)
    good = events.encode_cursor(key, institution_id=1, event_id=5, issued_at=clock.now())
    cursor = {"malformed": "abc!", "altered": good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB"),
              "foreign": events.encode_cursor(key, institution_id=2, event_id=5, issued_at=clock.now())}[kind]
    with pytest.raises(events.EventFeedError) as refused:
        events.decode_cursor(key, cursor, institution_id=1, now=clock.now())
    assert refused.value.code == "invalid_cursor"
    assert events.decode_cursor(key, good, institution_id=1, now=clock.now()) == 5


def test_a_cursor_older_than_30_days_has_expired(clock):
    key = events.cursor_key("k" * 40)
    cursor = events.encode_cursor(key, institution_id=1, event_id=5, issued_at=clock.now())
    assert events.decode_cursor(key, cursor, institution_id=1, now=clock.now() + timedelta(days=30)) == 5
    with pytest.raises(events.EventFeedError) as refused:
        events.decode_cursor(key, cursor, institution_id=1, now=clock.now() + timedelta(days=30, seconds=1))
    assert refused.value.code == "cursor_expired"
