"""One date and time convention (issue 32): months YYYY-MM (YYYYMM still accepted, deprecated),
timestamps RFC 3339 in JST to the second, the sandbox clock included."""
from __future__ import annotations

import re

import pytest

from api_support import bearer, staff_token

RFC3339_JST = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$")


@pytest.mark.parametrize("months", [("2025-01", "2026-11"), ("202501", "202611"), ("2025-01", "202611")])
def test_drugs_take_months_as_yyyy_mm_and_the_old_yyyymm(world, months):
    token = staff_token(world.app, world.code_client, "pharmacist")
    client = world.app.test_client()
    everything = client.get(f"/api/v1/consents/{world.consent}/drugs", headers=bearer(token)).get_json()["drugs"]
    resp = client.get(f"/api/v1/consents/{world.consent}/drugs?from={months[0]}&to={months[1]}", headers=bearer(token))
    assert resp.status_code == 200
    assert resp.get_json()["drugs"] == [d for d in everything if "2025-01" <= d["dispensed_on"][:7] <= "2026-11"]


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-11", "2026/11", "000001"])
def test_a_malformed_month_is_422(world, bad):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = world.app.test_client().get(f"/api/v1/consents/{world.consent}/drugs?from={bad}", headers=bearer(token))
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"


@pytest.fixture
def clock_with_microseconds(clock):
    """The world's consents registered at an instant with microseconds (as a real clock gives)."""
    clock.set(clock.now().replace(microsecond=123456))
    return clock


def test_timestamps_are_jst_to_the_second(clock_with_microseconds, world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    consent = world.app.test_client().get(f"/api/v1/consents/{world.consent}", headers=bearer(token)).get_json()
    stamps = [consent["consented_at"], consent["window_end"],
              *(s["consented_at"] for s in consent["category_states"] if s["consented_at"])]
    assert stamps and all(RFC3339_JST.match(s) for s in stamps), stamps


def test_the_sandbox_clock_answers_in_jst(make_app):
    client = make_app("sandbox", use_clock=False).test_client()
    put = client.put("/sandbox/clock", json={"now": "2026-12-04T05:00:00.5+00:00"})
    assert put.status_code == 200 and put.get_json()["now"] == "2026-12-04T14:00:00+09:00"
    assert RFC3339_JST.match(client.get("/sandbox/clock").get_json()["now"])
    assert RFC3339_JST.match(client.delete("/sandbox/clock").get_json()["now"])
