"""The pharmacy-system API's resources: every read judged by the decision function at the moment
of the request, per scope and per category, with the right status and code."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from api_support import TODAY, bearer, console_login, staff_token, system_token
from consent import grants
from consent.clock import JST
from consent.models import AuditEntry
from consent.vocabulary import BY_PATIENT, SCOPES

DATA_PATHS = {
    "qualification": "qualification", "limit": "limit", "drug": "drugs", "checkup": "checkups",
    "clinical": "clinical", "surgery": "surgery", "specific_disease": "specific-disease",
}


def audit_entries(w, institution_id: int | None = None) -> list[AuditEntry]:
    """One institution's chain in order (ours by default)."""
    with w.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.institution_id == (institution_id or w.here))
                              .order_by(AuditEntry.seq)))


def get(w, path, token, **kwargs):
    return w.app.test_client().get(path, headers=bearer(token), **kwargs)


# --- scopes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", list(DATA_PATHS))
def test_each_category_needs_its_own_scope(world, category):
    """A pharmacist's token without the category's scope is refused before any data is touched;
    with it, the decision function has the last word."""
    browser = console_login(world.app, "pharmacist")
    scope = category  # scope names equal the category codes
    without = staff_token(world.app, world.code_client, "pharmacist",
                          scope=" ".join(s for s in SCOPES if s != scope), browser=browser)
    with_it = staff_token(world.app, world.code_client, "pharmacist", scope=scope, browser=browser)
    path = f"/api/v1/consents/{world.consent}/{DATA_PATHS[category]}"
    refused = get(world, path, without)
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "insufficient_scope"
    assert f'scope="{scope}"' in refused.headers["WWW-Authenticate"]
    resp = get(world, path, with_it)
    consented = category in ("qualification", "drug", "checkup", "limit")
    if consented:
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["consent_id"] == world.consent
    else:
        assert resp.status_code == 403 and resp.get_json()["error"] == "category_not_consented"


def test_a_read_beyond_the_tokens_scope_is_audited_like_any_refusal(world):
    token = staff_token(world.app, world.code_client, "pharmacist", scope="qualification")
    before = len(audit_entries(world))
    refused = get(world, f"/api/v1/consents/{world.consent}/drugs", token)
    assert refused.status_code == 403 and refused.get_json()["error"] == "insufficient_scope"
    entry = audit_entries(world)[before]
    assert (entry.event, entry.reason, entry.category) == ("read_denied", "insufficient_scope", "drug")
    assert entry.consent_id == world.consent and entry.person_id == world.person.person_id
    # Another institution's consent: refused the same way, and nothing of it is logged here.
    before = len(audit_entries(world))
    other = get(world, f"/api/v1/consents/{world.other_consent}/drugs", token)
    assert other.status_code == 403 and other.get_json()["error"] == "insufficient_scope"
    assert audit_entries(world)[before].person_id is None
    assert get(world, "/api/v1/consents/not-an-id/drugs", token).get_json()["error"] == "insufficient_scope"


def test_consent_list_and_batch_need_their_scopes(world):
    token = staff_token(world.app, world.code_client, "pharmacist", scope="drug")
    assert get(world, "/api/v1/consents", token).status_code == 403
    assert get(world, f"/api/v1/consents/{world.consent}", token).status_code == 403
    resp = world.app.test_client().post("/api/v1/batch-inquiries", json={"rows": [{}]}, headers=bearer(token))
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"


# --- who reads: licensed staff, clerks, system jobs ------------------------------------------------------


def test_pharmacist_reads_everything_consented_and_each_read_is_audited(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    before = len(audit_entries(world))
    for category in ("qualification", "limit", "drug", "checkup"):
        resp = get(world, f"/api/v1/consents/{world.consent}/{DATA_PATHS[category]}", token)
        assert resp.status_code == 200, (category, resp.get_json())
    entries = audit_entries(world)[before:]
    assert [e.event for e in entries] == ["read_allowed"] * 4
    assert [e.category for e in entries] == ["qualification", "limit", "drug", "checkup"]
    assert all(e.actor_kind == "staff" and e.actor_role == "pharmacist" for e in entries)
    assert all(e.consent_id == world.consent and world.code_client.client_id in (e.detail or "") for e in entries)


def test_clerk_token_is_refused_drug_data_but_reads_billing_data(world):
    token = staff_token(world.app, world.code_client, "clerk")
    assert "drug" not in token["scope"].split()  # issue 31: never granted to a clerk
    before = len(audit_entries(world))
    resp = get(world, f"/api/v1/consents/{world.consent}/drugs", token)
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"
    assert get(world, f"/api/v1/consents/{world.consent}/checkups", token).get_json()["error"] == "insufficient_scope"
    assert get(world, f"/api/v1/consents/{world.consent}/limit", token).status_code == 200
    assert get(world, f"/api/v1/consents/{world.consent}/qualification", token).status_code == 200
    denied = audit_entries(world)[before]
    assert denied.event == "read_denied" and denied.reason == "insufficient_scope" and denied.category == "drug"


def test_client_credentials_token_is_refused_drug_data(world):
    token = system_token(world.app, world.system_client)
    resp = get(world, f"/api/v1/consents/{world.consent}/drugs", token)
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"
    assert get(world, f"/api/v1/consents/{world.consent}/qualification", token).status_code == 200
    limit = get(world, f"/api/v1/consents/{world.consent}/limit", token)
    assert limit.status_code == 200 and "limit" in limit.get_json()
    entries = audit_entries(world)
    assert entries[-1].actor_kind == "client" and entries[-1].actor_id == world.system_client.client_id


# --- the consent, judged at the moment of the request -------------------------------------------------


def test_other_institutions_consent_is_a_plain_404(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    for path in (f"/api/v1/consents/{world.other_consent}", f"/api/v1/consents/{world.other_consent}/drugs",
                 f"/api/v1/consents/{world.other_consent}/qualification", "/api/v1/consents/doesNotExist/drugs",
                 "/api/v1/consents/" + "x" * 40 + "/drugs", "/api/v1/consents/%00/drugs"):
        resp = get(world, path, token)
        assert resp.status_code == 404, path
        assert resp.get_json() == {"type": "/problems/not_found", "title": "Not found", "status": 404,
                                   "detail": "該当する同意が見つかりません。", "error": "not_found",
                                   "message": "該当する同意が見つかりません。"}
        assert world.person.name not in resp.get_data(as_text=True)


def test_a_token_used_after_the_window_gets_403_consent_expired(world, clock):
    token = staff_token(world.app, world.code_client, "pharmacist")
    # The window of a 2026-11-23 consultation ends at 2026-11-25 00:00 JST. A token obtained a
    # few minutes before the end is still fresh when the window closes.
    clock.set(datetime(2026, 11, 24, 23, 55, tzinfo=JST))
    token = staff_token(world.app, world.code_client, "pharmacist")
    assert get(world, f"/api/v1/consents/{world.consent}/drugs", token).status_code == 200
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=JST))
    resp = get(world, f"/api/v1/consents/{world.consent}/drugs", token)
    assert resp.status_code == 403
    body = resp.get_json()
    assert body["error"] == "consent_expired" and "2026年11月24日 23:59" in body["message"]
    # The qualification confirmed at reception stays the institution's billing record.
    assert get(world, f"/api/v1/consents/{world.consent}/qualification", token).status_code == 200
    detail = get(world, f"/api/v1/consents/{world.consent}", token).get_json()
    assert detail["status"] == "expired" and detail["status_label"] == "同意有効期限切れ"


def test_a_revoked_consent_is_refused_with_consent_revoked(world, clock):
    token = staff_token(world.app, world.code_client, "pharmacist")
    with world.session() as s:
        grants.revoke_consent(s, institution_id=world.here, consent_id=world.consent, by="patient",
                              reason=BY_PATIENT, now=clock.now())
        s.commit()
    resp = get(world, f"/api/v1/consents/{world.consent}/checkups", token)
    assert resp.status_code == 403 and resp.get_json()["error"] == "consent_revoked"
    assert "取り消されました" in resp.get_json()["message"]


def test_category_not_consented(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = get(world, f"/api/v1/consents/{world.consent}/clinical", token)
    assert resp.status_code == 403 and resp.get_json()["error"] == "category_not_consented"


# --- shapes and parameters -----------------------------------------------------------------------------------


def test_consent_list_for_a_date(world):
    token = system_token(world.app, world.system_client)
    resp = get(world, "/api/v1/consents?date=2026-11-23", token)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["date"] == "2026-11-23"
    [item] = body["consents"]
    assert item["id"] == world.consent
    assert item["person"] == {"name": world.person.name, "kana": world.person.kana, "birth_date": "1958-07-07"}
    assert item["status"] == "active" and item["categories"] == ["drug", "checkup", "limit"]
    assert item["window_end"] == "2026-11-25T00:00:00+09:00"
    assert item["reference_number"] is None
    assert get(world, "/api/v1/consents", token).get_json()["date"] == TODAY.isoformat()  # today in JST
    assert get(world, "/api/v1/consents?date=2026-11-24", token).get_json()["consents"] == []
    for bad in ("20261123", "2026-13-01", "yesterday", "2026-02-30"):
        resp = get(world, f"/api/v1/consents?date={bad}", token)
        assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"


def test_drug_history_by_month_range(world):
    token = staff_token(world.app, world.code_client, "pharmacist", scope="drug")
    path = f"/api/v1/consents/{world.consent}/drugs"
    everything = get(world, path, token).get_json()["drugs"]
    months = sorted({d["treatment_month"] for d in everything})
    assert len(months) > 1
    chosen = months[-1]
    only = get(world, f"{path}?from={chosen}&to={chosen}", token).get_json()
    assert only["drugs"] and {d["treatment_month"] for d in only["drugs"]} == {chosen}
    assert only["window_end"] == "2026-11-25T00:00:00+09:00"
    before = len(audit_entries(world))
    for query in ("from=2026-1", "from=2026-13", "to=202613", "from=202611&to=202601", "from=abcdef"):
        resp = get(world, f"{path}?{query}", token)
        assert resp.status_code == 422, query
    assert len(audit_entries(world)) == before  # malformed requests are not reads


def test_batch_inquiry(world):
    person = world.person
    token = system_token(world.app, world.system_client)
    rows = [
        {"insurer_number": person.insurer_number, "symbol": person.symbol, "number": person.number,
         "branch": person.branch, "birth_date": person.birth_date.isoformat(), "reference_number": "R-1"},
        {"insurer_number": "12345678", "symbol": "a", "number": "1", "birth_date": "1970-01-01"},
        {"insurer_number": 6139995},
        "not a row",
        {"symbol": "a\x00b"},
    ]
    resp = world.app.test_client().post("/api/v1/batch-inquiries", json={"rows": rows}, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    results = resp.get_json()["results"]
    assert [r["row"] for r in results] == [1, 2, 3, 4, 5]
    assert results[0]["status"] == "有効" and results[0]["qualification"]["name"] == person.name
    assert results[0]["reference_number"] == "R-1"
    assert all(r["status"] == "エラー" for r in results[1:])
    assert results[2]["error_fields"] == ["保険者番号"] and "文字列" in results[2]["reason"]


@pytest.mark.parametrize("body,status", [
    ({"rows": []}, 422), ({"rows": "x"}, 422), ({}, 422), ({"rows": [{}] * 1001}, 422),
])
def test_batch_inquiry_refuses_bad_bodies(world, body, status):
    token = system_token(world.app, world.system_client)
    resp = world.app.test_client().post("/api/v1/batch-inquiries", json=body, headers=bearer(token))
    assert resp.status_code == status and resp.get_json()["error"] == "invalid_parameter"


def test_batch_inquiry_wants_a_json_object(world):
    token = system_token(world.app, world.system_client)
    client = world.app.test_client()
    resp = client.post("/api/v1/batch-inquiries", data="rows=1", headers=bearer(token),
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415
    resp = client.post("/api/v1/batch-inquiries", data="[1, 2", headers=bearer(token), content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"


# --- authentication errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer " + "x" * 300])
def test_missing_or_bad_token_is_401(world, header):
    headers = {"Authorization": header} if header else {}
    resp = world.app.test_client().get(f"/api/v1/consents/{world.consent}/drugs", headers=headers)
    assert resp.status_code == 401
    assert resp.get_json()["error"] in ("unauthorized", "invalid_token")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_guessing_tokens_meets_a_429(world, one_rate_minute):
    client = world.app.test_client()
    codes = [client.get("/api/v1/consents", headers={"Authorization": f"Bearer guess{i}"}).status_code
             for i in range(61)]
    assert codes[:60] == [401] * 60 and codes[60] == 429
    assert client.get("/api/v1/consents").get_json()["error"] == "rate_limited"


def test_responses_are_not_cached(world):
    token = system_token(world.app, world.system_client)
    resp = get(world, f"/api/v1/consents/{world.consent}", token)
    assert resp.headers["Cache-Control"] == "no-store"


def test_a_token_is_bound_to_its_institution(world):
    # A token of the other institution's client acting for its own pharmacist sees none of ours.
    token = staff_token(world.app, world.other_code_client, "other-pharmacist")
    assert get(world, f"/api/v1/consents/{world.consent}/drugs", token).status_code == 404
    listing = get(world, "/api/v1/consents?date=2026-11-23", token).get_json()["consents"]
    assert [c["id"] for c in listing] == [world.other_consent]


def test_audit_keeps_denied_reads_too(world, clock):
    clock.set(clock.now() + timedelta(days=3))
    token = staff_token(world.app, world.code_client, "pharmacist")
    with world.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    get(world, f"/api/v1/consents/{world.consent}/drugs", token)
    get(world, f"/api/v1/consents/{world.other_consent}/drugs", token)
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before + 2
    # Both refusals are in our chain; the other institution's chain learns nothing.
    last_two = audit_entries(world)[-2:]
    assert [(e.event, e.reason) for e in last_two] == [("read_denied", "consent_expired"),
                                                        ("read_denied", "other_institution")]


# --- per-category state and the institution's revocation (issue 17) --------------------------------


def test_the_consent_object_reports_every_category_as_the_real_interface(world, clock):
    token = staff_token(world.app, world.code_client, "pharmacist")
    body = get(world, f"/api/v1/consents/{world.consent}", token).get_json()
    assert body["care_setting"] == 3 and body["house_call"] is False
    states = {s["category"]: s for s in body["category_states"]}
    assert list(states) == ["drug", "checkup", "clinical", "surgery", "specific_disease", "limit"]
    assert states["drug"] == {"category": "drug", "flag": 1, "consented_at": "2026-11-23T10:00:00+09:00",
                              "expires_at": "2026-11-25T00:00:00+09:00", "expiry_reason": None, "ended_at": None}
    assert states["limit"]["expires_at"] is None and states["limit"]["flag"] == 1
    assert states["clinical"] == {"category": "clinical", "flag": 0, "consented_at": None, "expires_at": None,
                                  "expiry_reason": None, "ended_at": None}
    # At the expiry: flag 2, reason 0; limit runs on and is still read, by a system job too.
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=JST))
    token = staff_token(world.app, world.code_client, "pharmacist")
    listed = get(world, "/api/v1/consents?date=2026-11-23", token).get_json()["consents"][0]
    states = {s["category"]: s for s in listed["category_states"]}
    assert (states["drug"]["flag"], states["drug"]["expiry_reason"]) == (2, 0)
    assert (states["limit"]["flag"], states["limit"]["expiry_reason"]) == (1, None)
    system = system_token(world.app, world.system_client)
    assert get(world, f"/api/v1/consents/{world.consent}/limit", system).status_code == 200


def post_revocation(world, consent_id, token, body):
    return world.app.test_client().post(f"/api/v1/consents/{consent_id}/revocation", json=body,
                                        headers=bearer(token))


@pytest.mark.parametrize("reason", [1, 3])
def test_the_institution_revokes_through_the_api(world, clock, reason):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = post_revocation(world, world.consent, token, {"reason": reason})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == world.consent and body["status"] == "revoked"
    consented = [s for s in body["category_states"] if s["category"] in ("drug", "checkup")]
    assert {(s["flag"], s["expiry_reason"]) for s in consented} == {(2, reason)}
    limit = next(s for s in body["category_states"] if s["category"] == "limit")
    assert (limit["flag"], limit["expiry_reason"]) == (0, reason)  # 限度額: flag 0 or 1 only
    refused = get(world, f"/api/v1/consents/{world.consent}/limit", token)
    assert refused.status_code == 403 and refused.get_json()["error"] == "consent_revoked"
    again = post_revocation(world, world.consent, token, {"reason": reason})
    assert again.status_code == 409 and again.get_json()["error"] == "already_revoked"
    with world.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.event == "consent_revoked")).all()
    assert [(e.actor_kind, e.reason) for e in entries] == [("staff", str(reason))]


@pytest.mark.parametrize("body", [{"reason": 2}, {"reason": 0}, {"reason": "1"}, {"reason": True}, {}, {"reason": None}])
def test_another_revocation_reason_is_422_and_writes_nothing(world, body):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = post_revocation(world, world.consent, token, body)
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"
    assert get(world, f"/api/v1/consents/{world.consent}", token).get_json()["status"] == "active"


def test_revocation_of_another_institutions_consent_is_404_and_needs_the_consents_scope(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = post_revocation(world, world.other_consent, token, {"reason": 1})
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    narrow = staff_token(world.app, world.code_client, "pharmacist", scope="drug")
    resp = post_revocation(world, world.consent, narrow, {"reason": 1})
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"
