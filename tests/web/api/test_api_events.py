"""GET /api/v1/events: a system job follows every change with a cursor; the consent list's ETag."""
from __future__ import annotations

from datetime import timedelta

from api_support import TODAY, bearer, system_token
from consent import grants


def feed(world, headers, **params):
    return world.app.test_client().get("/api/v1/events", query_string=params, headers=headers)


def walk(world, headers, after=None, limit=None):
    """Every event after `after`, page by page; (events, the last cursor, pages)."""
    seen, pages = [], 0
    while True:
        params = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
        resp = feed(world, headers, **params)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        pages += 1
        after = body["next_cursor"]
        if not body["events"]:
            return seen, after, pages
        seen += body["events"]


def test_a_cursor_walk_over_1000_changes_returns_each_exactly_once(world, clock):
    headers = bearer(system_token(world.app, world.system_client, scope="events"))
    _, start, _ = walk(world, headers)  # the world's own consents, read first
    with world.session() as s:
        for n in range(1000):
            grants.register_consent(s, institution_id=world.here, person_id=f"walk-{n}", card_id="c", care_setting=3,
                                    categories=["drug"], consultation_date=TODAY, now=clock.now())
            if n % 100 == 99:
                s.commit()
        s.commit()
    seen, cursor, pages = walk(world, headers, after=start, limit=37)
    assert len(seen) == 1000 and pages == 1000 // 37 + 2
    assert len({e["id"] for e in seen}) == 1000
    assert [e["id"] for e in seen] == sorted(e["id"] for e in seen)  # oldest first
    assert {e["type"] for e in seen} == {"consent.registered"}
    # Nothing new: the same position, and one more change is the only thing after it.
    with world.session() as s:
        grants.revoke_consent(s, institution_id=world.here, consent_id=world.consent, by="patient", reason=2,
                              now=clock.now())
        s.commit()
    more, _, _ = walk(world, headers, after=cursor)
    assert [(e["type"], e["consent_id"]) for e in more] == [("consent.revoked", world.consent)]


def test_the_default_page_is_100_and_the_largest_1000(world, clock):
    headers = bearer(system_token(world.app, world.system_client))
    with world.session() as s:
        for n in range(120):
            grants.register_consent(s, institution_id=world.here, person_id=f"p-{n}", card_id="c", care_setting=3,
                                    categories=["drug"], consultation_date=TODAY, now=clock.now())
        s.commit()
    assert len(feed(world, headers).get_json()["events"]) == 100
    assert len(feed(world, headers, limit="1000").get_json()["events"]) == 121  # the world's consent too
    for bad in ("0", "1001", "-1", "x", "", "1e3"):
        resp = feed(world, headers, limit=bad)
        assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter", bad


def test_each_institution_reads_its_own_events_and_cursors(world, clock):
    headers = bearer(system_token(world.app, world.system_client))
    body = feed(world, headers).get_json()
    assert [e["consent_id"] for e in body["events"]] == [world.consent]  # not よその薬局's
    event = body["events"][0]
    assert set(event) == {"id", "type", "occurred_at", "consent_id", "patient_id", "data"}
    assert event["occurred_at"] == f"{TODAY}T10:00:00+09:00"
    # A cursor of よその薬局 (made with the same key) is refused here.
    from consent import events

    foreign = events.encode_cursor(events.cursor_key(world.app.config["SECRET_KEY"]), institution_id=world.there,
                                   event_id=0, issued_at=clock.now())
    for bad in (foreign, "12", body["next_cursor"][:-2], body["next_cursor"] + "AA", "の"):
        resp = feed(world, headers, after=bad)
        assert resp.status_code == 422, bad
        assert resp.get_json()["error"] == "invalid_parameter" and "next_cursor" in resp.get_json()["message"]


def test_a_cursor_past_the_30_day_retention_is_410_saying_to_resynchronise(world, clock):
    headers = bearer(system_token(world.app, world.system_client))
    cursor = feed(world, headers).get_json()["next_cursor"]
    clock.set(clock.now() + timedelta(days=30))
    headers = bearer(system_token(world.app, world.system_client))
    renewed = feed(world, headers, after=cursor)
    assert renewed.status_code == 200  # exactly 30 days: still answered, and renewed
    clock.set(clock.now() + timedelta(seconds=1))
    headers = bearer(system_token(world.app, world.system_client))
    gone = feed(world, headers, after=cursor)
    assert gone.status_code == 410
    assert gone.get_json()["error"] == "cursor_expired" and "/api/v1/consents" in gone.get_json()["message"]
    assert feed(world, headers, after=renewed.get_json()["next_cursor"]).status_code == 200


def test_the_feed_needs_the_events_scope(world):
    token = system_token(world.app, world.system_client, scope="consents")
    resp = feed(world, bearer(token))
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"
    assert 'scope="events"' in resp.headers["WWW-Authenticate"]
    assert feed(world, {}).status_code == 401


def test_the_consent_list_sends_an_etag_and_answers_304_until_something_changes(world, clock):
    headers = bearer(system_token(world.app, world.system_client))
    client = world.app.test_client()
    first = client.get(f"/api/v1/consents?date={TODAY}", headers=headers)
    etag = first.headers["ETag"]
    assert first.get_json()["consents"][0]["updated_at"] == f"{TODAY}T10:00:00+09:00"
    same = client.get(f"/api/v1/consents?date={TODAY}", headers={**headers, "If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b""
    clock.set(clock.now() + timedelta(minutes=1))
    with world.session() as s:
        grants.revoke_consent(s, institution_id=world.here, consent_id=world.consent, by="patient", reason=2,
                              now=clock.now())
        s.commit()
    changed = client.get(f"/api/v1/consents?date={TODAY}", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["consents"][0]["updated_at"] == f"{TODAY}T10:01:00+09:00"


def test_the_sandbox_api_client_reads_the_feed(make_app):
    import base64

    app = make_app("sandbox")
    created = app.test_client().post("/sandbox/institutions", json={})
    assert created.status_code == 201, created.get_json()
    client = created.get_json()["api_client"]
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    token = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                   headers={"Authorization": f"Basic {basic}"}).get_json()
    assert "events" in token["scope"].split()
    resp = app.test_client().get("/api/v1/events", headers=bearer(token))
    assert resp.status_code == 200 and resp.get_json()["events"] == []


def test_every_kind_of_event_matches_its_schema_in_the_documents_webhooks_section(world, visited, clock):
    """One event of each type, from the real functions, against the OpenAPI document's `webhooks`
    (what a receiver is promised) and the feed's Event schema."""
    import jsonschema_rs  # schemathesis' validator

    from consent import home_visits, qualification_only
    from consent.events import sweep_expiries

    _, relationship = visited
    with world.session() as s:
        grants.change_categories(s, institution_id=world.here, consent_id=world.consent,
                                 person_id=world.person.person_id, categories=["drug"], now=clock.now())
        grants.revoke_consent(s, institution_id=world.here, consent_id=world.consent, by="patient", reason=2,
                              now=clock.now())
        grants.revoke_by_institution(s, institution_id=world.here, consent_id=relationship, by="staff:1", reason=1,
                                     now=clock.now())
        # The visited relationship has no lapse (null in its events); this one lapses after 90 days.
        home_visits.set_lapse_days(s, institution_id=world.here, days=90, now=clock.now())
        another = home_visits.register_first_visit(s, institution_id=world.here, person_id="lapsing", card_id="c",
                                                   categories=["drug"], now=clock.now())
        qualification_only.set_qualification_only(s, institution_id=world.here, on=True, by="operator", now=clock.now())
        s.commit()
        sweep_expiries(s, now=clock.now() + timedelta(days=95))  # past the 90-day lapse
        s.commit()
    headers = bearer(system_token(world.app, world.system_client))
    found = feed(world, headers, limit="1000").get_json()["events"]
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    event_schema = doc["components"]["schemas"]["Event"]
    assert set(doc["webhooks"]) == {e["type"] for e in found} == {
        "consent.registered", "consent.updated", "consent.revoked", "consent.expired", "visit.recorded",
        "relationship.ended", "institution.mode_changed"}
    for event in found:
        body = doc["webhooks"][event["type"]]["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = {"allOf": [event_schema if part == {"$ref": "#/components/schemas/Event"} else part
                            for part in body["allOf"]]}
        jsonschema_rs.Draft202012Validator(schema, validate_formats=True).validate(event)
    assert another.id in {e["consent_id"] for e in found if e["type"] == "consent.expired"}
