"""Every JSON error is an RFC 9457 problem detail (issue 32): `type` names a page the service
serves, `title`, `status`, `detail`, and `error`/`message` as before; 404 and 405 under /api/,
/oauth/ and /.well-known/ are JSON; a rate-limited route says how long to wait."""
from __future__ import annotations

import pytest

from api_support import bearer, staff_token
from web.problems import API_CODES, PROBLEMS


def _is_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"] == f"/problems/{code}" and body["status"] == status and body["error"] == code
    assert body["title"] == PROBLEMS[code][0]
    assert body["detail"] == body["message"] and body["message"]
    return body


def test_an_api_refusal_is_a_problem_detail_whose_type_is_a_page(world):
    client = world.app.test_client()
    body = _is_problem(client.get("/api/v1/consents"), 401, "unauthorized")
    page = client.get(body["type"])
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "unauthorized" in page.get_data(as_text=True)
    assert client.get("/problems/no_such_code").status_code == 404


@pytest.mark.parametrize("path", ["/api/nowhere", "/api/v1/consents/x/nowhere", "/oauth/nowhere",
                                  "/.well-known/nowhere"])
def test_an_unknown_path_under_the_programs_prefixes_is_a_json_404(world, path):
    _is_problem(world.app.test_client().get(path, headers={"Accept": "text/html"}), 404, "not_found")


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(world):
    resp = world.app.test_client().delete("/api/v1/consents")
    _is_problem(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


def test_oauth_errors_are_problems_with_their_rfc_6749_members(world):
    client = world.app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "password"}, headers=world.code_client.basic)
    assert token.status_code == 400 and token.mimetype == "application/json"  # RFC 6749 §5.2
    body = token.get_json()
    assert body["error"] == "unsupported_grant_type" and body["error_description"] and body["message"]
    assert body["type"] == "/problems/unsupported_grant_type" and body["status"] == 400
    revoke = client.post("/oauth/revoke", data={"token": "x"})
    assert revoke.status_code == 401 and revoke.mimetype == "application/problem+json"
    assert revoke.get_json()["error"] == "invalid_client" and revoke.get_json()["error_description"]


def test_every_api_code_is_in_the_documents_enum(world):
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    assert doc["components"]["schemas"]["ErrorCode"]["enum"] == list(API_CODES)
    for path in doc["paths"].values():
        for operation in path.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"]


def test_a_rate_limited_route_says_how_long_to_wait(world, one_rate_minute):
    """60 bad tokens a minute from one address; the 61st is 429 with Retry-After and RateLimit-*
    (the limiter's minute is held at second 30: 30 seconds to the next window)."""
    client = world.app.test_client()
    first = client.get("/api/v1/consents", headers={"Authorization": "Bearer guess"})
    assert first.status_code == 401
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("60", "59")
    assert first.headers["RateLimit-Reset"] == "30" and "Retry-After" not in first.headers
    for i in range(59):
        client.get("/api/v1/consents", headers={"Authorization": f"Bearer guess{i}"})
    refused = client.get("/api/v1/consents", headers={"Authorization": "Bearer again"})
    _is_problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "30" and refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == "30"


def test_a_good_request_on_a_rate_limited_route_counts_down(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    keys = {"insurer_number": "06123456", "symbol": "1", "number": "2", "branch": "01", "birth_date": "1970-01-01"}
    resp = world.app.test_client().post("/api/v1/reinquiries", json=keys, headers=bearer(token))
    # One 再照会 budget per reader and minute (consent/app/home_visits.py, issue 29).
    assert resp.headers["RateLimit-Limit"] == "60" and int(resp.headers["RateLimit-Remaining"]) == 59


def test_the_docs_table_lists_every_code_as_served():
    from conftest import ROOT

    table = (ROOT / "docs" / "integrator.md").read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(PROBLEMS)
    for row, (title, text) in zip(rows, PROBLEMS.values()):
        assert f"| {title} | {text} |" in row
