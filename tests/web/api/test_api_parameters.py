"""Unknown and empty parameters under /api/v1/ are 422 naming them (issue 32): a filter the API
does not have must not silently answer everything; the OAuth endpoints ignore unknown ones."""
from __future__ import annotations

import pytest

from api_support import bearer, staff_token


@pytest.mark.parametrize("query,name", [
    ("?since=2026-11-01", "since"), ("?page=2&limit=5", "page"), ("?date=", "date"),
    ("?date=2026-11-23&date2=x", "date2"),
])
def test_an_unknown_or_empty_query_parameter_is_422_naming_it(world, query, name):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = world.app.test_client().get("/api/v1/consents" + query, headers=bearer(token))
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"
    assert name in resp.get_json()["message"]


def test_a_data_read_takes_only_its_own_parameters(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    client = world.app.test_client()
    assert client.get(f"/api/v1/consents/{world.consent}/drugs?from=2025-01", headers=bearer(token)).status_code == 200
    resp = client.get(f"/api/v1/consents/{world.consent}/checkups?from=2025-01", headers=bearer(token))
    assert resp.status_code == 422 and "from" in resp.get_json()["message"]
    resp = client.get(f"/api/v1/consents/{world.consent}?verbose=1", headers=bearer(token))
    assert resp.status_code == 422 and "verbose" in resp.get_json()["message"]


def test_an_unknown_body_field_is_422_naming_it(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = world.app.test_client().post(f"/api/v1/consents/{world.consent}/revocation",
                                        json={"reason": 1, "comment": "訪問終了"}, headers=bearer(token))
    assert resp.status_code == 422 and "comment" in resp.get_json()["message"]
    still = world.app.test_client().get(f"/api/v1/consents/{world.consent}", headers=bearer(token)).get_json()
    assert still["status"] == "active"  # nothing was done


def test_the_oauth_endpoints_ignore_unknown_parameters(world):
    c = world.system_client
    resp = world.app.test_client().post("/oauth/token", data={"grant_type": "client_credentials", "foo": "bar"},
                                        headers=c.basic)
    assert resp.status_code == 200 and resp.get_json()["access_token"]
