"""The QA sandbox API: bad input is a 4xx with a code and message, never a 500 or a half-made thing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from consent.institutions import Institution


@pytest.fixture
def sandbox(make_app):
    return make_app("sandbox", use_clock=False)


def institution_count(app) -> int:
    with app.extensions["sessionmaker"]() as session:
        return session.scalar(select(func.count()).select_from(Institution))


@pytest.mark.parametrize("name", ["\ud800", "薬局\x00", "改行\n"])
def test_a_name_with_characters_no_database_stores_is_422(sandbox, name):
    # A lone surrogate could not be encoded, and PostgreSQL refuses NUL: both were 500s.
    client = sandbox.test_client()

    def post(path: str, body: dict):
        # json.dumps escapes the surrogate as \ud800, as a client's JSON would carry it.
        return client.post(path, data=json.dumps(body), content_type="application/json")

    resp = post("/sandbox/institutions", {"name": name})
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_field"
    assert institution_count(sandbox) == 0
    assert post("/sandbox/cards", {"person_id": name}).status_code == 422


def test_json_nested_too_deep_is_400(sandbox):
    resp = sandbox.test_client().post("/sandbox/institutions", data="[" * 100_000 + "]" * 100_000,
                                      content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-12:00",
                                     "9999-12-31T10:00:00+00:00", "1970-01-01T00:00:00+00:00"])
def test_a_clock_the_app_cannot_compute_from_is_422_and_time_stays(sandbox, instant):
    # The first two had no UTC instant (a 500); the others were kept, and every later request that
    # computed a date from them (30 days ahead, a synthetic life) was a 500.
    client = sandbox.test_client()
    assert client.put("/sandbox/clock", json={"now": "2026-12-04T23:59:59+09:00"}).status_code == 200
    resp = client.put("/sandbox/clock", json={"now": instant})
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_field"
    assert client.get("/sandbox/clock").get_json()["now"] == "2026-12-04T23:59:59+09:00"  # JST, as the API writes it
    assert client.post("/sandbox/patients", json={}).status_code == 201


@pytest.mark.parametrize("instant", ["2000-01-01T00:00:00+00:00", "2099-12-31T23:59:59+00:00"])
def test_the_clock_works_at_both_ends_of_its_range(sandbox, instant):
    client = sandbox.test_client()
    assert client.put("/sandbox/clock", json={"now": instant}).status_code == 200
    assert client.post("/sandbox/patients", json={"validity": 1}).status_code == 201
    assert client.post("/sandbox/institutions", json={}).status_code == 201


def _card_read(app, card: dict) -> int:
    """One card sign-in in a fresh browser context, as a QA test would do; the status code."""
    import re

    from integrations.card.soft_authenticator import SoftCard

    client = app.test_client()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/card/signin").get_data(as_text=True)).group(1)
    options = client.post("/card/options?purpose=signin", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    assertion = SoftCard.from_sandbox(card).assertion(options, origin="http://localhost:5000")
    return client.post("/card/signin/verify", json={"credential": assertion}, headers={"X-CSRF-Token": csrf}).status_code


def test_a_card_is_reused_in_a_new_browser_context_with_its_current_count(sandbox):
    client = sandbox.test_client()
    person = client.post("/sandbox/patients", json={}).get_json()
    card = client.post("/sandbox/cards", json={"person_id": person["person_id"]}).get_json()
    assert client.get(f"/sandbox/cards/{card['card_id']}").get_json() == {
        "card_id": card["card_id"], "status": "active", "sign_count": 0}
    assert _card_read(sandbox, card) == 200
    state = client.get(f"/sandbox/cards/{card['card_id']}").get_json()
    assert state == {"card_id": card["card_id"], "status": "active", "sign_count": 1}
    # A second context provisioned from the card's current count reads fine, again and again.
    assert _card_read(sandbox, {**card, **state}) == 200
    assert client.get(f"/sandbox/cards/{card['card_id']}").get_json()["sign_count"] == 2
    missing = client.get("/sandbox/cards/card_nothing")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


@pytest.mark.parametrize("kwargs", [
    {"data": {}, "content_type": "application/x-www-form-urlencoded"},  # an empty cross-site form
    {"data": {"name": "x"}},  # a filled one
    {"data": b"", "content_type": "multipart/form-data; boundary=x"},
    {"data": '{"name": "x"}', "content_type": "text/plain"},  # what a form with enctype=text/plain sends
    {"data": '{"name": "x"}', "content_type": ""},
])
def test_sandbox_routes_refuse_bodies_that_are_not_json(sandbox, kwargs):
    client = sandbox.test_client()
    resp = client.post("/sandbox/institutions", **kwargs)
    assert resp.status_code == 415
    assert resp.get_json()["error"] == "unsupported_media_type"
    assert institution_count(sandbox) == 0
    assert client.post("/sandbox/patients", **kwargs).status_code == 415
    assert client.put("/sandbox/clock", **kwargs).status_code == 415


def test_sandbox_requests_without_a_body_are_unchanged(sandbox):
    client = sandbox.test_client()
    assert client.delete("/sandbox/clock").status_code == 200
    assert client.post("/sandbox/institutions").status_code == 201
    assert client.post("/sandbox/institutions", json={"name": "JSON薬局"}).status_code == 201
    assert client.get("/sandbox/clock").status_code == 200
    assert institution_count(sandbox) == 2


@pytest.mark.parametrize("path,body", [
    ("/sandbox/patients", {"validty": 1}),
    ("/sandbox/institutions", {"name": "テスト薬局", "colour": "red"}),
    ("/sandbox/cards", {"person_id": "x", "pin": "1234"}),
])
def test_an_unknown_body_field_is_422_naming_it_and_nothing_is_made(sandbox, path, body):
    """Issue 32: a typo is refused, not ignored (a patient other than the one meant)."""
    before = institution_count(sandbox)
    resp = sandbox.test_client().post(path, json=body)
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"
    unknown = next(k for k in body if k not in ("name", "person_id"))
    assert unknown in resp.get_json()["message"]
    assert institution_count(sandbox) == before


def test_a_query_parameter_is_422_under_the_sandbox(sandbox):
    resp = sandbox.test_client().get("/sandbox/clock?tz=utc")
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"
    assert "tz" in resp.get_json()["message"]
