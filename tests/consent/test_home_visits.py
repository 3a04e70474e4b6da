"""Home visits (care setting 2): the relationship consent, visits, 訪問終了, the patient's 取消, the lapse."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from conftest import TODAY, race
from consent import grants, home_visits
from consent.actors import Actor
from consent.category_states import current_states
from consent.clock import JST
from consent.decision import decide
from consent.errors import ConsentError, ConsentNotFound
from consent.institutions import Institution
from consent.models import AuditEntry, Consent, Visit
from web.error_messages import decision_message

PERSON = "person-hv"
DAY = timedelta(days=1)


def pharmacist(institution_id: int) -> Actor:
    return Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")


def at(day, hour=10, minute=0, second=0):
    return datetime.combine(day, time(hour, minute, second), tzinfo=JST)


def first_visit(sessions, institution_id, now, categories=("drug", "checkup", "limit"), person_id=PERSON,
                card_id="card-1"):
    with sessions() as session:
        consent = home_visits.register_first_visit(
            session, institution_id=institution_id, person_id=person_id, card_id=card_id,
            categories=list(categories), now=now, validity_code=1)
        session.commit()
        return consent.id


def visit(sessions, institution_id, consent_id, day, now):
    with sessions() as session:
        found, created = home_visits.record_visit(session, institution_id=institution_id, consent_id=consent_id,
                                                  visit_date=day, by="staff:1", now=now)
        session.commit()
        return found.visit_date, created


def read(sessions, institution_id, now, category="drug", person_id=PERSON):
    with sessions() as session:
        decision = decide(session, institution_id=institution_id, actor=pharmacist(institution_id),
                          person_id=person_id, category=category, now=now)
        session.commit()
        return decision


def load(sessions, consent_id) -> Consent:
    with sessions() as session:
        consent = session.get(Consent, consent_id)
        session.expunge(consent)
        return consent


def visit_dates(sessions, consent_id):
    with sessions() as session:
        return sorted(session.scalars(select(Visit.visit_date).where(Visit.consent_id == consent_id)))


def events(sessions, institution_id, consent_id):
    with sessions() as session:
        return list(session.scalars(select(AuditEntry.event).where(
            AuditEntry.institution_id == institution_id, AuditEntry.consent_id == consent_id).order_by(AuditEntry.seq)))


def set_lapse(sessions, institution_id, days, now):
    with sessions() as session:
        home_visits.set_lapse_days(session, institution_id=institution_id, days=days, now=now)
        session.commit()


@pytest.fixture
def ninety(sessions, institution_id, clock):
    """The institution sets the lapse the project used to default to: 90 days (環境設定)."""
    set_lapse(sessions, institution_id, 90, clock.now())
    return 90


def test_a_new_institution_sets_no_lapse_and_its_relationships_never_lapse(sessions, institution_id, clock):
    with sessions() as session:
        assert session.get(Institution, institution_id).home_visit_lapse_days is None
    consent_id = first_visit(sessions, institution_id, clock.now())
    consent = load(sessions, consent_id)
    assert consent.lapses_at is None and consent.last_visit_date == TODAY
    ten_years = at(TODAY + 3653 * DAY, 23, 59, 59)
    assert home_visits.is_open(consent, ten_years)
    assert home_visits.days_until_lapse(consent, ten_years) is None
    assert grants.status_code_at(consent, ten_years) == "active"
    assert {s.category: s.flag for s in current_states(consent, ten_years) if s.flag} == {
        "drug": 1, "checkup": 1, "limit": 1}
    # Ten years without a recorded visit: drug data still reads, a visit may still be recorded.
    assert read(sessions, institution_id, ten_years).allowed
    assert visit(sessions, institution_id, consent_id, (TODAY + 3653 * DAY), ten_years) == (TODAY + 3653 * DAY, True)
    assert load(sessions, consent_id).lapses_at is None
    # It still ends when someone ends it.
    with sessions() as session:
        grants.revoke_by_institution(session, institution_id=institution_id, consent_id=consent_id,
                                     by="staff:1", reason=1, now=ten_years)
        session.commit()
    assert read(sessions, institution_id, ten_years).reason == "consent_revoked"


def test_a_lapse_set_and_cleared_moves_open_relationships_both_ways(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    set_lapse(sessions, institution_id, 7, clock.now())
    end = at(TODAY + 8 * DAY, 0)
    assert load(sessions, consent_id).lapses_at == end
    assert read(sessions, institution_id, end - timedelta(seconds=1)).allowed
    assert not read(sessions, institution_id, end).allowed
    # Cleared (empty on 環境設定): the open relationship has no lapse again.
    set_lapse(sessions, institution_id, None, clock.now())
    with sessions() as session:
        assert session.get(Institution, institution_id).home_visit_lapse_days is None
    assert load(sessions, consent_id).lapses_at is None
    assert read(sessions, institution_id, end).allowed
    # One that lapsed under a rule stays ended when the rule is cleared later.
    set_lapse(sessions, institution_id, 7, clock.now())
    set_lapse(sessions, institution_id, None, end)
    assert load(sessions, consent_id).lapses_at == end
    assert read(sessions, institution_id, end + DAY).reason == "consent_expired"


@pytest.mark.parametrize("bad", [0, -1, 3651, True, "7", 1.5])
def test_lapse_days_are_none_or_one_to_3650(sessions, institution_id, clock, bad):
    with sessions() as session:
        with pytest.raises(ConsentError) as refused:
            home_visits.set_lapse_days(session, institution_id=institution_id, days=bad, now=clock.now())
        assert refused.value.code == "invalid_lapse_days"
    for good in (1, 3650, None):
        set_lapse(sessions, institution_id, good, clock.now())


def test_a_first_visit_is_a_relationship_without_a_window(sessions, institution_id, clock, ninety):
    consent_id = first_visit(sessions, institution_id, clock.now())
    consent = load(sessions, consent_id)
    assert (consent.care_setting, consent.house_call, consent.window_end) == (2, False, None)
    assert consent.consultation_date == TODAY and consent.last_visit_date == TODAY
    # A rule of 90 days without a visit: it ends at 00:00 JST of last visit + 91 days.
    assert consent.lapses_at == at(TODAY + 91 * DAY, 0)
    states = {s.category: s for s in current_states(consent, clock.now())}
    assert {c: (s.flag, s.expires_at) for c, s in states.items() if s.flag} == {
        "drug": (1, None), "checkup": (1, None), "limit": (1, None)}
    assert visit_dates(sessions, consent_id) == [TODAY]
    assert events(sessions, institution_id, consent_id) == ["consent_registered", "visit_recorded"]
    # Drug data may be read on a later visit, far beyond any online window.
    assert read(sessions, institution_id, at(TODAY + 60 * DAY)).allowed


def test_the_relationship_lapses_at_midnight_jst_n_plus_one_days_after_the_last_visit(
        sessions, institution_id, clock, ninety):
    consent_id = first_visit(sessions, institution_id, clock.now())
    visit(sessions, institution_id, consent_id, TODAY + 10 * DAY, at(TODAY + 10 * DAY))
    end = at(TODAY + 101 * DAY, 0)
    assert load(sessions, consent_id).lapses_at == end
    before = read(sessions, institution_id, end - timedelta(seconds=1))
    assert before.allowed and before.window_end is None
    after = read(sessions, institution_id, end)
    assert (after.allowed, after.reason, after.since) == (False, "consent_expired", end)
    assert "訪問診療等の同意が終了しています" in decision_message(after)
    states = {s.category: s for s in current_states(load(sessions, consent_id), end)}
    assert (states["drug"].flag, states["drug"].expiry_reason, states["drug"].ended_at) == (2, 0, end)
    assert grants.status_code_at(load(sessions, consent_id), end - timedelta(seconds=1)) == "active"
    assert grants.status_code_at(load(sessions, consent_id), end) == "expired"
    # The qualification stays the institution's billing record.
    assert read(sessions, institution_id, end, category="qualification").allowed


def test_the_institution_sets_its_own_lapse_days(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    with sessions() as session:
        home_visits.set_lapse_days(session, institution_id=institution_id, days=7, now=clock.now())
        session.commit()
        assert session.get(Institution, institution_id).home_visit_lapse_days == 7
    assert load(sessions, consent_id).lapses_at == at(TODAY + 8 * DAY, 0)
    assert not read(sessions, institution_id, at(TODAY + 8 * DAY, 0)).allowed
    with sessions() as session:
        with pytest.raises(ConsentError) as refused:
            home_visits.set_lapse_days(session, institution_id=institution_id, days=-1, now=clock.now())
        assert refused.value.code == "invalid_lapse_days"


def test_visits_are_recorded_once_a_day_and_never_in_the_future(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    later = TODAY + 5 * DAY
    assert visit(sessions, institution_id, consent_id, later, at(later)) == (later, True)
    assert visit(sessions, institution_id, consent_id, later, at(later, 15)) == (later, False)
    # A visit recorded late does not move the lapse back.
    assert visit(sessions, institution_id, consent_id, TODAY + DAY, at(later, 16)) == (TODAY + DAY, True)
    assert load(sessions, consent_id).last_visit_date == later
    assert visit_dates(sessions, consent_id) == [TODAY, TODAY + DAY, later]
    for day, code in ((later + DAY, "visit_in_future"), (TODAY - DAY, "visit_before_first_visit")):
        with pytest.raises(ConsentError) as refused:
            visit(sessions, institution_id, consent_id, day, at(later, 23, 59, 59))
        assert refused.value.code == code
    assert visit_dates(sessions, consent_id) == [TODAY, TODAY + DAY, later]


def test_a_visit_needs_an_open_relationship_of_this_institution(sessions, institutions, clock):
    here, there = institutions
    set_lapse(sessions, here, 90, clock.now())
    consent_id = first_visit(sessions, here, clock.now())
    with pytest.raises(ConsentNotFound):
        visit(sessions, there, consent_id, TODAY, clock.now())
    with sessions() as session:
        online = grants.register_consent(session, institution_id=here, person_id="someone", card_id="c",
                                         care_setting=3, categories=["drug"], consultation_date=TODAY,
                                         now=clock.now())
        session.commit()
    with pytest.raises(ConsentError) as refused:
        visit(sessions, here, online.id, TODAY, clock.now())
    assert refused.value.code == "not_a_relationship"
    lapsed = at(TODAY + 91 * DAY, 0)
    with pytest.raises(ConsentError) as refused:
        visit(sessions, here, consent_id, TODAY + 91 * DAY, lapsed)
    assert refused.value.code == "relationship_ended"


def test_visit_end_by_the_institution_refuses_reads_and_visits(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    ended_at = at(TODAY + 3 * DAY)
    with sessions() as session:
        grants.revoke_by_institution(session, institution_id=institution_id, consent_id=consent_id,
                                     by="staff:1", reason=1, now=ended_at)
        session.commit()
    refused = read(sessions, institution_id, ended_at)
    assert (refused.allowed, refused.reason, refused.since) == (False, "consent_revoked", ended_at)
    states = {s.category: s for s in current_states(load(sessions, consent_id), ended_at)}
    assert (states["drug"].flag, states["drug"].expiry_reason) == (2, 1)
    with pytest.raises(ConsentError) as after:
        visit(sessions, institution_id, consent_id, TODAY + 3 * DAY, ended_at)
    assert after.value.code == "relationship_ended"


def test_the_patient_ends_the_relationship_with_every_other_consent(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    with sessions() as session:
        revoked = grants.revoke_all_for_person(session, institution_id=institution_id, person_id=PERSON,
                                               by="patient", reason=2, now=clock.now())
        session.commit()
    assert [c.id for c in revoked] == [consent_id]
    states = {s.category: s for s in current_states(load(sessions, consent_id), clock.now())}
    assert {c: (s.flag, s.expiry_reason) for c, s in states.items() if s.flag or s.ended} == {
        "drug": (2, 2), "checkup": (2, 2), "limit": (0, 2)}
    assert read(sessions, institution_id, clock.now()).reason == "consent_revoked"


def test_a_second_first_visit_updates_the_open_relationship(sessions, institution_id, clock, ninety):
    consent_id = first_visit(sessions, institution_id, clock.now(), categories=("drug", "limit"))
    later = at(TODAY + 20 * DAY)
    again = first_visit(sessions, institution_id, later, categories=("drug", "checkup"), card_id="card-2")
    assert again == consent_id
    consent = load(sessions, consent_id)
    assert consent.consultation_date == TODAY and consent.card_id == "card-2"
    assert consent.lapses_at == at(TODAY + 111 * DAY, 0)
    states = {s.category: s for s in current_states(consent, later)}
    # The category kept keeps its consent time; the one added is consented now; one left out is 0.
    assert states["drug"].consented_at == clock.now() and states["checkup"].consented_at == later
    assert states["limit"].flag == 0
    assert visit_dates(sessions, consent_id) == [TODAY, TODAY + 20 * DAY]
    assert events(sessions, institution_id, consent_id)[-2:] == ["consent_updated", "visit_recorded"]
    with sessions() as session:
        assert session.scalar(select(Consent.id).where(Consent.person_id == PERSON).limit(2)) == consent_id
        assert len(session.scalars(select(Consent).where(Consent.person_id == PERSON)).all()) == 1


def test_a_first_visit_after_the_end_opens_the_same_relationship_again(sessions, institution_id, clock, ninety):
    consent_id = first_visit(sessions, institution_id, clock.now())
    with sessions() as session:
        grants.revoke_by_institution(session, institution_id=institution_id, consent_id=consent_id,
                                     by="staff:1", reason=1, now=clock.now())
        session.commit()
    reopened = at(TODAY + 200 * DAY)
    assert first_visit(sessions, institution_id, reopened, categories=("drug",)) == consent_id
    consent = load(sessions, consent_id)
    assert (consent.status, consent.consultation_date, consent.revocation_reason) == (
        "active", TODAY + 200 * DAY, None)
    assert read(sessions, institution_id, reopened).allowed
    # And after a lapse, too.
    lapsed = at(TODAY + 400 * DAY)
    assert first_visit(sessions, institution_id, lapsed, categories=("drug",)) == consent_id
    assert load(sessions, consent_id).consultation_date == TODAY + 400 * DAY
    assert read(sessions, institution_id, lapsed).allowed


def test_a_relationship_and_an_online_consent_of_the_same_day_stay_apart(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now(), categories=("checkup",))
    with sessions() as session:
        online = grants.register_consent(session, institution_id=institution_id, person_id=PERSON, card_id="c",
                                         care_setting=3, categories=["drug"], consultation_date=TODAY,
                                         now=clock.now())
        session.commit()
    assert online.id != consent_id and online.window_end is not None
    assert load(sessions, consent_id).categories == ("checkup",)
    # Each read finds the consent that allows it.
    assert read(sessions, institution_id, clock.now(), "drug").consent.id == online.id
    assert read(sessions, institution_id, clock.now(), "checkup").consent.id == consent_id
    # The online window ends; the relationship goes on (and does not include drug data).
    assert read(sessions, institution_id, at(TODAY + 2 * DAY, 0), "drug").reason == "category_not_consented"
    assert read(sessions, institution_id, at(TODAY + 2 * DAY, 0), "checkup").allowed


def test_the_day_list_shows_a_relationship_on_its_visit_days(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    visit(sessions, institution_id, consent_id, TODAY + 7 * DAY, at(TODAY + 7 * DAY))

    def listed(day):
        with sessions() as session:
            return [c.id for c in grants.consents_for_date(session, institution_id=institution_id,
                                                           consultation_date=day)]

    assert listed(TODAY) == [consent_id] and listed(TODAY + 7 * DAY) == [consent_id]
    assert listed(TODAY + DAY) == []


def test_concurrent_first_visits_make_one_relationship(sessions, institution_id, clock):
    ids = race(lambda i: first_visit(sessions, institution_id, clock.now()), 4)
    assert len(set(ids)) == 1
    assert visit_dates(sessions, ids[0]) == [TODAY]


def test_concurrent_visits_of_one_day_record_one(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    later = TODAY + 3 * DAY
    results = race(lambda i: visit(sessions, institution_id, consent_id, later, at(later)), 4)
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert visit_dates(sessions, consent_id) == [TODAY, later]


def test_a_reinquiry_is_audited_allowed_or_refused(sessions, institution_id, clock):
    consent_id = first_visit(sessions, institution_id, clock.now())
    actor = pharmacist(institution_id)
    with sessions() as session:
        found = home_visits.record_reinquiry(session, institution_id=institution_id, actor=actor,
                                             person_id=PERSON, now=clock.now())
        missing = home_visits.record_reinquiry(session, institution_id=institution_id, actor=actor,
                                               person_id=None, now=clock.now())
        session.commit()
        assert found.id == consent_id and missing is None
        entries = session.execute(select(AuditEntry.event, AuditEntry.person_id, AuditEntry.category,
                                         AuditEntry.reason).order_by(AuditEntry.seq.desc()).limit(2)).all()
    assert [tuple(e) for e in entries] == [("read_denied", None, "qualification", "not_found"),
                                           ("read_allowed", PERSON, "qualification", None)]


def test_migration_0016_goes_down_and_up_again(database_url, sessions, institution_id, clock):
    """Down: the old schema has no room for a consent without a window - relationships go, the
    others stay; up again: the schema is back."""
    from sqlalchemy import create_engine, inspect, text

    from store.migrate import downgrade, upgrade

    first_visit(sessions, institution_id, clock.now())
    with sessions() as session:
        grants.register_consent(session, institution_id=institution_id, person_id="online", card_id="c",
                                care_setting=3, categories=["drug"], consultation_date=TODAY, now=clock.now())
        session.commit()
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0017_qualonly")
        inspector = inspect(engine)
        assert "visits" not in inspector.get_table_names()
        assert not {"last_visit_date", "lapses_at"} & {c["name"] for c in inspector.get_columns("consents")}
        assert "home_visit_lapse_days" not in {c["name"] for c in inspector.get_columns("institutions")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT person_id FROM consents")).scalars().all() == ["online"]
        upgrade(database_url)
        inspector = inspect(engine)
        assert "visits" in inspector.get_table_names()
        with engine.connect() as conn:
            # 0016 gives every institution 90; 0026 turns a 90 nobody chose into NULL (no lapse).
            assert conn.scalar(text("SELECT home_visit_lapse_days FROM institutions WHERE id = :id"),
                               {"id": institution_id}) is None
    finally:
        upgrade(database_url)
        engine.dispose()
    # One windowed consent per institution, person and date still holds after the round trip.
    first_visit(sessions, institution_id, clock.now())
    with sessions() as session:
        again = grants.register_consent(session, institution_id=institution_id, person_id="online", card_id="c",
                                        care_setting=3, categories=["checkup"], consultation_date=TODAY,
                                        now=clock.now())
        session.commit()
        assert session.scalar(select(func.count()).select_from(Consent)) == 2
        assert again.categories == ("checkup",)


def test_the_sandbox_sets_lapse_days_at_creation_and_patch_moves_open_relationships(make_app, clock):
    app = make_app("sandbox")
    sandbox = app.test_client()
    # No lapse unless told (null); 0 is refused as 環境設定 refuses it, null clears a number.
    assert sandbox.post("/sandbox/institutions", json={}).get_json()["home_visit_lapse_days"] is None
    assert sandbox.post("/sandbox/institutions", json={"home_visit_lapse_days": None}).get_json()[
        "home_visit_lapse_days"] is None
    body = sandbox.post("/sandbox/institutions", json={"home_visit_lapse_days": 30}).get_json()
    assert body["home_visit_lapse_days"] == 30
    code = body["institution_code"]
    sessions = app.extensions["sessionmaker"]
    with sessions() as session:
        institution_id = session.scalar(select(Institution.id).where(Institution.institution_code == code))
    consent_id = first_visit(sessions, institution_id, clock.now())
    assert load(sessions, consent_id).lapses_at == at(TODAY + 31 * DAY, 0)
    changed = sandbox.patch(f"/sandbox/institutions/{code}", json={"home_visit_lapse_days": 7})
    assert changed.status_code == 200 and changed.get_json()["home_visit_lapse_days"] == 7
    assert load(sessions, consent_id).lapses_at == at(TODAY + 8 * DAY, 0)
    for bad in (0, -1, 3651, True, "7", 1.5, ""):
        refused = sandbox.patch(f"/sandbox/institutions/{code}", json={"home_visit_lapse_days": bad})
        assert refused.status_code == 422, bad
        assert "home_visit_lapse_days" in refused.get_json()["message"]
        assert "null" in refused.get_json()["message"]
    for bad in (-5, 0):
        assert sandbox.post("/sandbox/institutions", json={"home_visit_lapse_days": bad}).status_code == 422
    assert load(sessions, consent_id).lapses_at == at(TODAY + 8 * DAY, 0)
    cleared = sandbox.patch(f"/sandbox/institutions/{code}", json={"home_visit_lapse_days": None})
    assert cleared.status_code == 200 and cleared.get_json()["home_visit_lapse_days"] is None
    assert load(sessions, consent_id).lapses_at is None
    assert read(sessions, institution_id, at(TODAY + 3653 * DAY)).allowed
