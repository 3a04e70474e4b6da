"""The API for home visits: POST /api/v1/reinquiries, POST /api/v1/consents/{id}/visits, the list by date."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from api_support import bearer, staff_token, system_token
from conftest import TODAY
from consent.clock import JST
from consent.models import AuditEntry, Visit

DAY = timedelta(days=1)


@pytest.fixture
def token(world):
    return bearer(staff_token(world.app, world.code_client, "pharmacist"))


def keys_of(person, **changes):
    body = {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat()}
    return {**body, **changes}


def audit_count(world) -> int:
    with world.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry))


def test_a_reinquiry_returns_the_qualification_and_the_home_visit_consent(world, visited, token):
    person, consent_id = visited
    resp = world.app.test_client().post("/api/v1/reinquiries", json=keys_of(person), headers=token)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["qualification"]["validity_code"] == 1 and body["qualification"]["name"] == person.name
    consent = body["consent"]
    assert (consent["id"], consent["care_setting"], consent["house_call"], consent["window_end"]) == (
        consent_id, 2, False, None)
    assert consent["status"] == "active" and consent["last_visit_date"] == TODAY.isoformat()
    # No lapse unless the institution sets one (the default): lapses_at is null.
    assert consent["lapses_at"] is None
    states = {s["category"]: s for s in consent["category_states"]}
    assert {c: (s["flag"], s["expires_at"]) for c, s in states.items() if s["flag"]} == {
        "drug": (1, None), "checkup": (1, None), "limit": (1, None)}


def test_a_reinquiry_of_someone_without_a_relationship_here_has_no_consent(world, token):
    resp = world.app.test_client().post("/api/v1/reinquiries", json=keys_of(world.person), headers=token)
    assert resp.status_code == 200
    # world.person has an online consent here, which is not a home-visit consent.
    assert resp.get_json()["consent"] is None and resp.get_json()["qualification"]["validity_code"] == 1


def test_nobody_and_a_wrong_birth_date_are_the_same_404_and_audited(world, visited, token):
    person, _ = visited
    client = world.app.test_client()
    wrong_birth = client.post("/api/v1/reinquiries", json=keys_of(person, birth_date="1941-01-02"), headers=token)
    nobody = client.post("/api/v1/reinquiries", json=keys_of(person, number=person.number + "9"), headers=token)
    assert wrong_birth.status_code == nobody.status_code == 404
    assert wrong_birth.get_json() == nobody.get_json()
    assert wrong_birth.get_json()["error"] == "not_found"
    with world.session() as s:
        refusals = s.scalars(select(AuditEntry.reason).where(
            AuditEntry.event == "read_denied", AuditEntry.category == "qualification")).all()
    assert refusals == ["not_found", "not_found"]


@pytest.mark.parametrize("change", [
    {"insurer_number": "01130013"},  # a wrong check digit
    {"number": ""},
    {"birth_date": "1940/01/01"},
    {"birth_date": None},
    {"branch": 1},
])
def test_a_malformed_reinquiry_is_422_and_writes_nothing(world, visited, token, change):
    person, _ = visited
    before = audit_count(world)
    resp = world.app.test_client().post("/api/v1/reinquiries", json=keys_of(person, **change), headers=token)
    assert resp.status_code == 422, resp.get_json()
    assert audit_count(world) == before


def test_a_reinquiry_needs_the_qualification_scope(world, visited):
    person, _ = visited
    limited = bearer(staff_token(world.app, world.code_client, "pharmacist", scope="consents"))
    resp = world.app.test_client().post("/api/v1/reinquiries", json=keys_of(person), headers=limited)
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"


def fresh_token(world):
    """A token issued at the clock's current time (tokens live 10 minutes)."""
    return bearer(staff_token(world.app, world.code_client, "pharmacist"))


def test_visits_are_recorded_once_a_day(world, visited, clock):
    _, consent_id = visited
    client = world.app.test_client()
    clock.set(clock.now() + 3 * DAY)
    token = fresh_token(world)
    later = (TODAY + 3 * DAY).isoformat()
    first = client.post(f"/api/v1/consents/{consent_id}/visits", json={"visit_date": later}, headers=token)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["visit_date"] == later and first.get_json()["consent"]["last_visit_date"] == later
    again = client.post(f"/api/v1/consents/{consent_id}/visits", json={"visit_date": later}, headers=token)
    assert again.status_code == 200
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(Visit).where(Visit.consent_id == consent_id)) == 2
    # A client-credentials job may record visits too.
    system = bearer(system_token(world.app, world.system_client))
    earlier = client.post(f"/api/v1/consents/{consent_id}/visits",
                          json={"visit_date": (TODAY + DAY).isoformat()}, headers=system)
    assert earlier.status_code == 201


@pytest.mark.parametrize("body", [{"visit_date": (TODAY + DAY).isoformat()}, {"visit_date": "2026-13-01"},
                                  {"visit_date": 20261123}, {}])
def test_a_future_or_malformed_visit_date_is_422(world, visited, token, body):
    _, consent_id = visited
    resp = world.app.test_client().post(f"/api/v1/consents/{consent_id}/visits", json=body, headers=token)
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"


def test_a_visit_needs_a_home_visit_consent_of_this_institution(world, visited, token):
    client = world.app.test_client()
    today = {"visit_date": TODAY.isoformat()}
    online = client.post(f"/api/v1/consents/{world.consent}/visits", json=today, headers=token)
    assert online.status_code == 422 and online.get_json()["error"] == "invalid_parameter"
    other = client.post(f"/api/v1/consents/{world.other_consent}/visits", json=today, headers=token)
    assert other.status_code == 404 and other.get_json()["error"] == "not_found"


def test_after_visit_end_reads_and_visits_are_refused(world, visited, token):
    _, consent_id = visited
    client = world.app.test_client()
    end = client.post(f"/api/v1/consents/{consent_id}/revocation", json={"reason": 1}, headers=token)
    assert end.status_code == 200
    states = {s["category"]: s for s in end.get_json()["category_states"]}
    assert (states["drug"]["flag"], states["drug"]["expiry_reason"]) == (2, 1)
    drugs = client.get(f"/api/v1/consents/{consent_id}/drugs", headers=token)
    assert drugs.status_code == 403 and drugs.get_json()["error"] == "consent_revoked"
    resp = client.post(f"/api/v1/consents/{consent_id}/visits", json={"visit_date": TODAY.isoformat()},
                       headers=token)
    assert resp.status_code == 409 and resp.get_json()["error"] == "relationship_ended"


def test_without_a_lapse_drug_data_is_read_ten_years_on(world, visited, clock):
    _, consent_id = visited
    clock.set(datetime.combine(TODAY + 3653 * DAY, time(23, 59, 59), tzinfo=JST))
    allowed = world.app.test_client().get(f"/api/v1/consents/{consent_id}/drugs", headers=fresh_token(world))
    assert allowed.status_code == 200 and allowed.get_json()["window_end"] is None


def test_drug_data_is_read_on_a_later_visit_until_the_lapse(world, visited, clock):
    from consent import home_visits

    _, consent_id = visited
    with world.session() as s:  # the institution sets 90 days (環境設定)
        home_visits.set_lapse_days(s, institution_id=world.here, days=90, now=clock.now())
        s.commit()
    client = world.app.test_client()
    lapse = datetime.combine(TODAY + 91 * DAY, time(0), tzinfo=JST)
    clock.set(lapse - timedelta(seconds=1))
    allowed = client.get(f"/api/v1/consents/{consent_id}/drugs", headers=fresh_token(world))
    assert allowed.status_code == 200 and allowed.get_json()["window_end"] is None
    clock.set(lapse)
    refused = client.get(f"/api/v1/consents/{consent_id}/drugs", headers=fresh_token(world))
    assert refused.status_code == 403 and refused.get_json()["error"] == "consent_expired"


def test_the_list_by_date_has_the_consent_on_its_first_visit_and_on_each_visit(world, visited, clock):
    _, consent_id = visited
    client = world.app.test_client()
    clock.set(clock.now() + 10 * DAY)
    token = fresh_token(world)
    visit_day = (TODAY + 10 * DAY).isoformat()
    assert client.post(f"/api/v1/consents/{consent_id}/visits", json={"visit_date": visit_day},
                       headers=token).status_code == 201

    def ids(day):
        resp = client.get(f"/api/v1/consents?date={day}", headers=token)
        assert resp.status_code == 200
        return [c["id"] for c in resp.get_json()["consents"]]

    assert consent_id in ids(TODAY.isoformat()) and world.consent in ids(TODAY.isoformat())
    assert ids(visit_day) == [consent_id]
    assert ids((TODAY + 5 * DAY).isoformat()) == []


def test_a_reinquiry_matching_nobody_speaks_of_the_person_and_takes_the_batchs_birth_date(world, visited, token):
    """「該当する方が見つかりません」, not a consent (issue 32); 19610614 as the batch API takes it."""
    person, _ = visited
    client = world.app.test_client()
    nobody = client.post("/api/v1/reinquiries", json=keys_of(person, number=person.number + "9"), headers=token)
    assert nobody.status_code == 404 and nobody.get_json()["message"].startswith("該当する方が見つかりません")
    compact = keys_of(person, birth_date=person.birth_date.strftime("%Y%m%d"))
    assert client.post("/api/v1/reinquiries", json=compact, headers=token).status_code == 200


def test_a_staff_member_has_one_reinquiry_budget_in_the_console_and_through_the_api(
        world, visited, token, monkeypatch, one_rate_minute):
    # Issue 29: one limit per reader and minute (it was 120 per API client and 60 per staff member).
    from api_support import console_login, csrf_of
    from consent.app import home_visits as app_home_visits

    monkeypatch.setattr(app_home_visits, "REINQUIRY_LIMIT", 2)
    person, _ = visited
    browser = console_login(world.app, "pharmacist")
    form = {**keys_of(person), "csrf_token": csrf_of(browser.get("/pharmacy/").get_data(as_text=True))}
    assert browser.post("/pharmacy/home-visits/reinquiry", data=form).status_code == 200
    api = world.app.test_client()
    assert api.post("/api/v1/reinquiries", json=keys_of(person), headers=token).status_code == 200
    refused = api.post("/api/v1/reinquiries", json=keys_of(person), headers=token)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert browser.post("/pharmacy/home-visits/reinquiry", data=form).status_code == 429
