"""The OpenAPI document is true to the code: schemathesis drives the app in process (WSGI) with a
valid token, and finds no 500, no undocumented status, no response outside its schema.

Bounded: a few examples per operation, no shrinking, so the whole module runs in seconds.
"""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance, ignored_auth, not_a_server_error, response_headers_conformance,
    response_schema_conformance, status_code_conformance,
)

import web.api
from consent.app import home_visits as app_home_visits
from api_support import bearer, staff_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, ignored_auth]


@pytest.fixture
def api_schema(world, monkeypatch):
    # ignored_auth sends each request again without the token: keep the bad-token limit out of the way.
    monkeypatch.setattr(web.api, "BAD_TOKEN_LIMIT", 1_000_000)
    monkeypatch.setattr(web.api, "BATCH_LIMIT", 1_000_000)
    monkeypatch.setattr(app_home_visits, "REINQUIRY_LIMIT", 1_000_000)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", world.app)


@pytest.fixture
def pharmacist_headers(world):
    return bearer(staff_token(world.app, world.code_client, "pharmacist"))


# Every operation of the document (test_document_names_every_operation keeps this list honest).
# schemathesis' own pytest loader (from_fixture) does not work with this pytest, so each operation's
# strategy is run through hypothesis here.
OPERATIONS = [
    ("GET", "/api/v1/consents"),
    ("GET", "/api/v1/consents/{consent_id}"),
    ("GET", "/api/v1/consents/{consent_id}/qualification"),
    ("GET", "/api/v1/consents/{consent_id}/limit"),
    ("GET", "/api/v1/consents/{consent_id}/drugs"),
    ("GET", "/api/v1/consents/{consent_id}/checkups"),
    ("GET", "/api/v1/consents/{consent_id}/clinical"),
    ("GET", "/api/v1/consents/{consent_id}/surgery"),
    ("GET", "/api/v1/consents/{consent_id}/specific-disease"),
    ("POST", "/api/v1/batch-inquiries"),
    ("GET", "/api/v1/medical-aid/entrusted-tickets"),
    ("POST", "/api/v1/consents/{consent_id}/revocation"),
    ("POST", "/api/v1/reinquiries"),
    ("POST", "/api/v1/consents/{consent_id}/visits"),
    ("GET", "/api/v1/events"),
]


@pytest.mark.parametrize("method,path", OPERATIONS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests(api_schema, pharmacist_headers, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=12, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(headers=pharmacist_headers, checks=CHECKS)

    run()


def test_document_names_every_operation(world):
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    documented = {(method.upper(), path) for path, item in doc["paths"].items() for method in item}
    assert documented == set(OPERATIONS)


def test_document_is_openapi_3_1_and_names_every_route(world):
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {path.replace("{consent_id}", "<consent_id>") for path in doc["paths"]}
    routed = {rule.rule for rule in world.app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert documented == routed
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flows) == {"authorizationCode", "clientCredentials"}  # no implicit, no password
    assert set(flows["clientCredentials"]["scopes"]) == {"consents", "qualification", "limit", "batch", "events"}
    assert flows["authorizationCode"]["tokenUrl"].endswith("/oauth/token")


@pytest.mark.parametrize("path,query", [
    ("/api/v1/consents/{consent_id}", {}),
    ("/api/v1/consents/{consent_id}/qualification", {}),
    ("/api/v1/consents/{consent_id}/limit", {}),
    ("/api/v1/consents/{consent_id}/drugs", {}),
    ("/api/v1/consents/{consent_id}/drugs", {"from": "202501", "to": "202611"}),
    ("/api/v1/consents/{consent_id}/checkups", {}),
    ("/api/v1/consents/{consent_id}/clinical", {}),
    ("/api/v1/consents/{consent_id}/surgery", {}),
    ("/api/v1/consents/{consent_id}/specific-disease", {}),
])
def test_real_data_matches_the_documented_schemas(api_schema, world, pharmacist_headers, path, query):
    """Random ids mostly meet 404s; these reads of the real consent check the data shapes."""
    case = api_schema[path]["GET"].Case(path_parameters={"consent_id": world.consent}, query=query)
    response = case.call_and_validate(headers=pharmacist_headers, checks=CHECKS)
    assert response.status_code in (200, 403)


def test_real_list_and_batch_match_the_documented_schemas(api_schema, world, pharmacist_headers):
    person = world.person
    listing = api_schema["/api/v1/consents"]["GET"].Case(query={"date": "2026-11-23"})
    assert listing.call_and_validate(headers=pharmacist_headers, checks=CHECKS).json()["consents"]
    rows = [{"insurer_number": person.insurer_number, "symbol": person.symbol, "number": person.number,
             "branch": person.branch, "birth_date": person.birth_date.isoformat()},
            {"insurer_number": "1", "number": "x", "birth_date": "1970-01-01"}]
    batch = api_schema["/api/v1/batch-inquiries"]["POST"].Case(body={"rows": rows}, media_type="application/json")
    results = batch.call_and_validate(headers=pharmacist_headers, checks=CHECKS).json()["results"]
    assert [r["status"] for r in results] == ["有効", "エラー"]


def test_a_real_revocation_matches_the_documented_schema(api_schema, world, pharmacist_headers):
    operation = api_schema["/api/v1/consents/{consent_id}/revocation"]["POST"]
    done = operation.Case(path_parameters={"consent_id": world.consent}, body={"reason": 1},
                          media_type="application/json")
    assert done.call_and_validate(headers=pharmacist_headers, checks=CHECKS).json()["status"] == "revoked"
    again = operation.Case(path_parameters={"consent_id": world.consent}, body={"reason": 3},
                           media_type="application/json")
    assert again.call_and_validate(headers=pharmacist_headers, checks=CHECKS).status_code == 409


@pytest.mark.parametrize("segment", ["qualification", "limit", "drugs", "checkups"])
def test_a_home_visit_read_has_no_window_and_says_so_in_the_document(api_schema, world, visited,
                                                                      pharmacist_headers, segment):
    """A home-visit (訪問診療等) consent has no 閲覧期限: its reads answer window_end null, which the
    document allows (a generated client crashed on a required date-time)."""
    _, consent_id = visited
    case = api_schema[f"/api/v1/consents/{{consent_id}}/{segment}"]["GET"].Case(
        path_parameters={"consent_id": consent_id})
    response = case.call_and_validate(headers=pharmacist_headers, checks=CHECKS)
    assert response.status_code == 200 and response.json()["window_end"] is None


def test_every_api_response_a_test_sees_is_checked_against_the_document(world, visited, pharmacist_headers):
    """The suite-wide hook (tests/openapi_check.py) fails a response the document does not allow."""
    import openapi_check

    _, consent_id = visited
    response = world.app.test_client().get(f"/api/v1/consents/{consent_id}/drugs", headers=pharmacist_headers)
    body = response.get_json()
    body["window_end"] = 12  # a drift: neither a date-time nor null
    response.set_data(__import__("json").dumps(body))
    with pytest.raises(AssertionError, match="breaks the OpenAPI document"):
        openapi_check.check_response(response)


def test_the_document_is_generator_friendly(world):
    """An ASCII title (generators name the package from it), one named schema per coded enum with
    member names (診療別 01-05 as INPATIENT ... HOME_NURSING, not VALUE_0), and expiry_reason once."""
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    assert doc["info"]["title"].isascii() and doc["info"]["x-title-ja"] == "マイナ在宅受付 薬局システムAPI"
    schemas = doc["components"]["schemas"]
    assert schemas["CareKind"]["enum"] == ["01", "02", "03", "04", "05"]
    assert schemas["CareKind"]["x-enum-varnames"] == ["INPATIENT", "OUTPATIENT", "DENTAL", "DISPENSING", "HOME_NURSING"]
    assert schemas["BatchStatus"]["x-enum-varnames"] == ["VALID", "INVALID", "ERROR"]
    text = __import__("json").dumps(schemas)
    # ConsentFlag (0-2: flag 3 is the emergency interface's, never reported here) and ExpiryReason, each once.
    assert text.count('"enum": [0, 1, 2]') == 1 and text.count('"enum": [0, 1, 2, 3]') == 1
    for name, schema in schemas.items():
        if "enum" in schema and name not in ("ErrorCode",):
            assert len(schema.get("x-enum-varnames", schema["enum"])) == len(schema["enum"])


def test_stateful_runs_follow_the_documents_links(api_schema, world, visited, pharmacist_headers):
    """Schemathesis' stateful run on a fixed seed: a consent from the list (the world's throwaway
    institution, not the demo one) leads to its reads, visits and revocation by the document's
    links; no server error, no undocumented status, no response outside its schema."""
    from hypothesis.stateful import run_state_machine_as_test

    machine = api_schema.as_state_machine()
    followed: list[tuple[str, int]] = []

    class Stateful(machine):
        def get_call_kwargs(self, case):
            return {"headers": pharmacist_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            followed.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(Stateful, settings=settings(
        max_examples=25, stateful_step_count=6, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck)))
    # The links were followed: a read of a real consent answered 200 at least once.
    assert any(label.startswith("GET /api/v1/consents/{consent_id}/") and status == 200
               for label, status in followed), sorted(set(followed))[:20]
