"""The OAuth 2.0 authorization server of the pharmacy-system API: grants, PKCE, lifetimes,
rotation, introspection, revocation, and the console's API-client administration."""
from __future__ import annotations

from datetime import timedelta

import pytest

from api_support import (
    ALL_SCOPES, REDIRECT_URI, approve, authorize_url, bearer, console_login, csrf_of, exchange, get_code, pkce_pair,
    query_of, staff_token, system_token,
)
from conftest import race
from consent import oauth_clients
from consent.institutions import disable_staff
from web.error_messages import describe


def drugs(app, w, token):
    return app.test_client().get(f"/api/v1/consents/{w.consent}/drugs", headers=bearer(token))


def introspect(app, client, token, **extra):
    return app.test_client().post("/oauth/introspect", data={"token": token, **extra}, headers=client.basic)


# --- authorization code + PKCE ------------------------------------------------------------------


def test_code_flow_gives_a_ten_minute_token_acting_for_the_pharmacist(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 600
    assert token["refresh_token"]
    assert token["scope"] == ALL_SCOPES
    resp = drugs(app, world, token)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["drugs"], "the synthetic patient has a drug history"
    info = introspect(app, world.code_client, token["access_token"]).get_json()
    assert info["active"] is True and info["username"] == "pharmacist" and info["licensed"] is True
    assert info["sub"] == f"staff:{world.staff['pharmacist']}"


def test_authorize_sends_a_signed_out_staff_member_through_the_console_login_and_back(world):
    app = world.app
    _, challenge = pkce_pair()
    url = authorize_url(world.code_client, challenge=challenge)
    browser = app.test_client()
    resp = browser.get(url)
    assert resp.status_code == 302 and "/pharmacy/login" in resp.headers["Location"]
    next_url = query_of(resp.headers["Location"])["next"]
    assert next_url.startswith("/oauth/authorize?")
    token = csrf_of(browser.get(resp.headers["Location"]).get_data(as_text=True))
    resp = browser.post("/pharmacy/login", data={"csrf_token": token, "login_id": "pharmacist",
                                                 "password": "pharmacist-password", "next": next_url})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(next_url)
    page = browser.get(next_url).get_data(as_text=True)
    assert "システム連携の許可" in page and "電子薬歴" in page and "薬剤情報" in page


def test_authorize_page_names_what_a_clerk_still_cannot_see_and_allows_the_redirect(world):
    browser = console_login(world.app, "clerk")
    _, challenge = pkce_pair()
    resp = browser.get(authorize_url(world.code_client, challenge=challenge))
    html = resp.get_data(as_text=True)
    assert "有資格者（薬剤師）ではないため" in html and 'lang="ja"' in html
    # The approval form's redirect to the client must pass the page's CSP.
    assert "form-action 'self' https://rececon.example" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize("challenge_kind", ["missing", "plain"])
def test_authorize_refuses_without_s256_pkce(world, challenge_kind):
    browser = console_login(world.app, "pharmacist")
    verifier, challenge = pkce_pair()
    if challenge_kind == "missing":
        url = authorize_url(world.code_client, challenge=None, method=None)
    else:
        url = authorize_url(world.code_client, challenge=verifier, method="plain")
    resp = browser.get(url)
    assert resp.status_code == 302
    params = query_of(resp.headers["Location"])
    assert resp.headers["Location"].startswith(REDIRECT_URI)
    assert params["error"] == "invalid_request" and params["state"] == "st-1"


@pytest.mark.parametrize("verifier", [None, "wrong"])
def test_token_refuses_a_missing_or_wrong_code_verifier(world, verifier):
    browser = console_login(world.app, "pharmacist")
    code, real = get_code(browser, world.code_client)
    sent = None if verifier is None else pkce_pair()[0]
    resp = exchange(world.app, world.code_client, code, sent)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == ("invalid_request" if verifier is None else "invalid_grant")
    # RFC 6749's members beside RFC 9457's; /oauth/token keeps application/json (§5.2).
    assert body["error_description"] and body["message"] and body["type"] == "/problems/" + body["error"]
    assert resp.mimetype == "application/json"


def test_a_code_works_once_and_its_replay_revokes_what_it_gave(world):
    app = world.app
    browser = console_login(app, "pharmacist")
    code, verifier = get_code(browser, world.code_client)
    first = exchange(app, world.code_client, code, verifier)
    assert first.status_code == 200
    again = exchange(app, world.code_client, code, verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert drugs(app, world, first.get_json()).status_code == 401


def test_a_code_expires_after_five_minutes(world, clock):
    browser = console_login(world.app, "pharmacist")
    code, verifier = get_code(browser, world.code_client)
    clock.set(clock.now() + timedelta(minutes=5))
    resp = exchange(world.app, world.code_client, code, verifier)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_grant"


def test_code_must_come_back_with_the_same_redirect_uri_and_client(world):
    app = world.app
    browser = console_login(app, "pharmacist")
    code, verifier = get_code(browser, world.code_client)
    resp = app.test_client().post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": "https://evil.example/cb"}, headers=world.code_client.basic)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_grant"
    resp = exchange(app, world.other_code_client, code, verifier)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_or_client_is_shown_not_redirected(world):
    browser = console_login(world.app, "pharmacist")
    _, challenge = pkce_pair()
    resp = browser.get(authorize_url(world.code_client, challenge=challenge, redirect_uri="https://evil.example/cb"))
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert 'role="alert"' in resp.get_data(as_text=True)
    resp = browser.get(authorize_url(world.code_client, challenge=challenge, client_id="mrc_nobody"))
    assert resp.status_code == 400 and "連携システムが登録されていない" in resp.get_data(as_text=True)


def test_staff_of_another_institution_cannot_approve(world):
    browser = console_login(world.app, "other-pharmacist")
    _, challenge = pkce_pair()
    resp = browser.get(authorize_url(world.code_client, challenge=challenge))
    assert resp.status_code == 403 and "登録されていません" in resp.get_data(as_text=True)


def test_the_approval_form_checks_its_csrf_token_and_deny_tells_the_client(world):
    browser = console_login(world.app, "pharmacist")
    _, challenge = pkce_pair()
    url = authorize_url(world.code_client, challenge=challenge)
    browser.get(url)
    resp = browser.post(url, data={"decision": "approve"})
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert resp.mimetype == "text/html" and "有効期限" in resp.get_data(as_text=True)
    # Any other refusal on the approval page is a page in Japanese too, not JSON.
    wrong_method = browser.delete(url)
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"
    resp = approve(browser, url, decision="deny")
    assert resp.status_code == 302 and query_of(resp.headers["Location"])["error"] == "access_denied"


def test_requested_scope_beyond_the_registration_is_refused(world, make_app):
    app = world.app
    with world.session() as s:
        narrow, secret = oauth_clients.register_client(
            s, institution_id=world.here, name="資格だけ", grant_type="authorization_code",
            scopes=["qualification"], redirect_uri=REDIRECT_URI, now=store_now(app))
        s.commit()
    from api_support import Client

    client = Client(narrow.client_id, secret, narrow.id)
    browser = console_login(app, "pharmacist")
    _, challenge = pkce_pair()
    resp = browser.get(authorize_url(client, scope="qualification drug", challenge=challenge))
    assert resp.status_code == 302 and query_of(resp.headers["Location"])["error"] == "invalid_scope"


def store_now(app):
    return app.extensions["clock"].now()


# --- lifetimes, rotation, revocation --------------------------------------------------------------


def test_access_token_expires_after_ten_minutes_on_the_app_clock(world, clock):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    start = clock.now()
    clock.set(start + timedelta(minutes=9, seconds=59))
    assert drugs(app, world, token).status_code == 200
    clock.set(start + timedelta(minutes=10))
    resp = drugs(app, world, token)
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "invalid_token" and "有効期限" in resp.get_json()["message"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert introspect(app, world.code_client, token["access_token"]).get_json() == {"active": False}


def test_refresh_tokens_rotate_and_a_replayed_one_ends_the_family(world, clock):
    app = world.app
    first = staff_token(app, world.code_client, "pharmacist")
    clock.set(clock.now() + timedelta(minutes=30))  # the access token is long dead; the refresh token lives
    resp = app.test_client().post("/oauth/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": first["refresh_token"]},
                                  headers=world.code_client.basic)
    assert resp.status_code == 200, resp.get_json()
    second = resp.get_json()
    assert second["refresh_token"] != first["refresh_token"] and second["expires_in"] == 600
    assert drugs(app, world, second).status_code == 200
    # The old refresh token was used: presenting it again is refused, and ends the new tokens too.
    replay = app.test_client().post("/oauth/token", data={"grant_type": "refresh_token",
                                                          "refresh_token": first["refresh_token"]},
                                    headers=world.code_client.basic)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert drugs(app, world, second).status_code == 401
    again = app.test_client().post("/oauth/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": second["refresh_token"]},
                                   headers=world.code_client.basic)
    assert again.status_code == 400


def test_racing_refreshes_with_one_token_rotate_it_once(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")

    def refresh(_):
        return app.test_client().post("/oauth/token", data={"grant_type": "refresh_token",
                                                            "refresh_token": token["refresh_token"]},
                                      headers=world.code_client.basic).status_code

    codes = sorted(race(refresh, 4))
    assert codes == [200, 400, 400, 400]


def test_refresh_may_narrow_but_not_widen_the_scope(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist", scope="consents qualification")
    post = app.test_client().post
    wide = post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                                      "scope": "drug"}, headers=world.code_client.basic)
    assert wide.status_code == 400 and wide.get_json()["error"] == "invalid_scope"
    narrow = post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                                        "scope": "qualification"}, headers=world.code_client.basic)
    assert narrow.status_code == 200 and narrow.get_json()["scope"] == "qualification"


def test_revoked_access_token_is_401_at_once(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    resp = app.test_client().post("/oauth/revoke", data={"token": token["access_token"],
                                                         "token_type_hint": "access_token"},
                                  headers=world.code_client.basic)
    assert resp.status_code == 200
    resp = drugs(app, world, token)
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_token"
    # Revoking an unknown token is not an error (RFC 7009 2.2).
    assert app.test_client().post("/oauth/revoke", data={"token": "nope"},
                                  headers=world.code_client.basic).status_code == 200


def test_revoking_the_refresh_token_ends_its_access_tokens(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    app.test_client().post("/oauth/revoke", data={"token": token["refresh_token"]}, headers=world.code_client.basic)
    assert drugs(app, world, token).status_code == 401
    resp = app.test_client().post("/oauth/token", data={"grant_type": "refresh_token",
                                                        "refresh_token": token["refresh_token"]},
                                  headers=world.code_client.basic)
    assert resp.status_code == 400


def test_a_client_cannot_revoke_or_introspect_another_clients_token(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    resp = app.test_client().post("/oauth/revoke", data={"token": token["access_token"]},
                                  headers=world.system_client.basic)
    assert resp.status_code == 400
    assert introspect(app, world.system_client, token["access_token"]).get_json() == {"active": False}
    assert drugs(app, world, token).status_code == 200


def test_introspection_shows_active_and_inactive(world):
    app = world.app
    token = staff_token(app, world.code_client, "clerk", scope="consents qualification limit")
    info = introspect(app, world.code_client, token["access_token"]).get_json()
    assert info["active"] is True
    assert info["client_id"] == world.code_client.client_id
    assert info["scope"] == "consents qualification limit"
    assert info["token_type"] == "Bearer" and info["exp"] - info["iat"] == 600
    assert info["role"] == "clerk" and info["licensed"] is False
    refresh = introspect(app, world.code_client, token["refresh_token"], token_type_hint="refresh_token").get_json()
    assert refresh["active"] is True and refresh["token_use"] == "refresh"
    assert introspect(app, world.code_client, "no-such-token").get_json() == {"active": False}
    app.test_client().post("/oauth/revoke", data={"token": token["access_token"]}, headers=world.code_client.basic)
    assert introspect(app, world.code_client, token["access_token"]).get_json() == {"active": False}
    # The endpoint itself needs client authentication.
    resp = app.test_client().post("/oauth/introspect", data={"token": token["access_token"]})
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_client"


def test_a_disabled_staff_members_tokens_stop_at_once(world, clock):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    assert drugs(app, world, token).status_code == 200
    with world.session() as s:
        disable_staff(s, institution_id=world.here, staff_id=world.staff["pharmacist"], now=clock.now())
        s.commit()
    assert drugs(app, world, token).status_code == 401
    assert introspect(app, world.code_client, token["access_token"]).get_json() == {"active": False}
    resp = app.test_client().post("/oauth/token", data={"grant_type": "refresh_token",
                                                        "refresh_token": token["refresh_token"]},
                                  headers=world.code_client.basic)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_grant"


# --- client credentials, client authentication, unsupported grants --------------------------------


def test_client_credentials_get_only_the_system_scopes(world):
    app = world.app
    token = system_token(app, world.system_client)
    assert set(token["scope"].split()) == {"consents", "qualification", "limit", "batch", "events"}
    assert "refresh_token" not in token and token["expires_in"] == 600
    resp = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials", "scope": "drug"},
                                  headers=world.system_client.basic)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_scope"
    # An authorization-code client cannot skip the staff member.
    resp = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                  headers=world.code_client.basic)
    assert resp.status_code == 400 and resp.get_json()["error"] == "unauthorized_client"


def test_a_system_client_cannot_even_be_registered_for_clinical_data(world, clock):
    with world.session() as s, pytest.raises(oauth_clients.OAuthClientError) as info:
        oauth_clients.register_client(s, institution_id=world.here, name="x", grant_type="client_credentials",
                               scopes=["consents", "drug"], now=clock.now())
    assert "薬剤情報" in describe(info.value).message


@pytest.mark.parametrize("grant", [{"grant_type": "password", "username": "pharmacist", "password": "pharmacist-password"},
                                   {"grant_type": "implicit"}])
def test_no_password_or_implicit_grant(world, grant):
    resp = world.app.test_client().post("/oauth/token", data=grant, headers=world.code_client.basic)
    assert resp.status_code == 400 and resp.get_json()["error"] == "unsupported_grant_type"


def test_no_implicit_response_type(world):
    browser = console_login(world.app, "pharmacist")
    _, challenge = pkce_pair()
    resp = browser.get(authorize_url(world.code_client, challenge=challenge, response_type="token"))
    assert resp.status_code == 302
    assert query_of(resp.headers["Location"])["error"] == "unsupported_response_type"


@pytest.mark.parametrize("headers,data", [
    ({}, {"client_id": "x", "client_secret": "y"}),  # client_secret_post is not accepted
    ({"Authorization": "Basic !!!not-base64"}, {}),
    ({"Authorization": "Basic //79"}, {}),  # decodes to bytes that are not UTF-8
    ({"Authorization": "Basic " + "bXJjX3g6eQ=="}, {}),  # unknown client
    ({"Authorization": "Bearer abc"}, {}),
])
def test_client_authentication_is_http_basic_and_never_a_500(world, headers, data):
    resp = world.app.test_client().post("/oauth/token", data={"grant_type": "client_credentials", **data},
                                        headers=headers)
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_client"


def test_wrong_secret_is_refused(world):
    c = world.system_client
    from api_support import Client

    wrong = Client(c.client_id, c.secret + "x", c.pk)
    resp = world.app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"}, headers=wrong.basic)
    assert resp.status_code == 401


def test_oauth_errors_outside_authlib_are_rfc_shaped(world):
    client = world.app.test_client()
    for resp in (client.get("/oauth/token"), client.get("/oauth/nowhere")):
        body = resp.get_json()
        assert resp.status_code in (404, 405)
        assert set(body) == {"type", "title", "status", "detail", "error", "error_description", "message"}
        assert body["status"] == resp.status_code


# --- console: the admin registers and revokes clients -------------------------------------------------


def test_admin_registers_a_client_sees_the_secret_once_and_revokes_it(world):
    app = world.app
    admin = console_login(app, "admin")
    page = admin.get("/pharmacy/admin").get_data(as_text=True)
    assert "API連携" in page
    resp = admin.post("/pharmacy/admin/api-clients", data={
        "csrf_token": csrf_of(page), "name": "夜間レセコン", "grant_type": "client_credentials",
        "scopes": ["consents", "qualification"]})
    assert resp.status_code == 303
    page = admin.get("/pharmacy/admin").get_data(as_text=True)
    assert "夜間レセコン" in page and "この画面でしか表示されません" in page
    import re

    client_id = re.search(r"クライアントID：<strong><code>([^<]+)</code>", page).group(1)
    secret = re.search(r"クライアントシークレット：<strong><code>([^<]+)</code>", page).group(1)
    assert secret not in admin.get("/pharmacy/admin").get_data(as_text=True)  # shown once
    from api_support import Client

    with world.session() as s:
        row = oauth_clients.active_client(s, client_id)
        assert row.secret_hash != secret and len(row.secret_hash) == 64  # stored as a digest
        client = Client(client_id, secret, row.id)
    token = system_token(app, client)
    api = app.test_client()
    assert api.get("/api/v1/consents", headers=bearer(token)).status_code == 200
    resp = admin.post(f"/pharmacy/admin/api-clients/{client.pk}/revoke", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 303
    assert api.get("/api/v1/consents", headers=bearer(token)).status_code == 401
    assert app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                  headers=client.basic).status_code == 401


def test_admin_form_explains_a_refused_registration(world):
    admin = console_login(world.app, "admin")
    page = admin.get("/pharmacy/admin").get_data(as_text=True)
    admin.post("/pharmacy/admin/api-clients", data={
        "csrf_token": csrf_of(page), "name": "x", "grant_type": "authorization_code", "scopes": ["drug"],
        "redirect_uri": "http://rececon.example/cb"})
    page = admin.get("/pharmacy/admin").get_data(as_text=True)
    assert "https://" in page and 'role="alert"' in page


def test_only_admins_manage_clients(world):
    clerk = console_login(world.app, "clerk")
    token = csrf_of(clerk.get("/pharmacy/").get_data(as_text=True))
    resp = clerk.post("/pharmacy/admin/api-clients", data={"csrf_token": token, "name": "x",
                                                           "grant_type": "client_credentials", "scopes": ["consents"]})
    assert resp.status_code == 403
    other_admin = console_login(world.app, "other-admin")
    token = csrf_of(other_admin.get("/pharmacy/admin").get_data(as_text=True))
    resp = other_admin.post(f"/pharmacy/admin/api-clients/{world.system_client.pk}/revoke", data={"csrf_token": token})
    assert resp.status_code == 404


def test_revoking_a_client_id_too_long_for_the_database_is_404(world):
    # SQLite refused the integer (PostgreSQL too, past its range): it was a 500.
    admin = console_login(world.app, "admin")
    token = csrf_of(admin.get("/pharmacy/admin").get_data(as_text=True))
    for pk in (2**31, 10**23):
        assert admin.post(f"/pharmacy/admin/api-clients/{pk}/revoke", data={"csrf_token": token}).status_code == 404


def test_nul_in_oauth_parameters_is_an_rfc_6749_400(world):
    # PostgreSQL refuses NUL in text: a code_challenge with one was a 500 there on approval.
    browser = console_login(world.app, "pharmacist")
    url = authorize_url(world.code_client, challenge="a" * 42 + "\x00")
    page = browser.get(url)  # the approval page is a browser page: the refusal is one too
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "使用できない文字" in page.get_data(as_text=True)
    resp = world.app.test_client().post("/oauth/token", data={"grant_type": "client_credentials\x00"},
                                        headers=world.system_client.basic)
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid_request" and "error_description" in resp.get_json()


def test_sandbox_institution_comes_with_a_client_credentials_client(make_app):
    app = make_app("sandbox")
    client = app.test_client()
    created = client.post("/sandbox/institutions", json={}).get_json()
    api_client = created["api_client"]
    assert set(api_client) == {"client_id", "client_secret"}
    from api_support import Client

    token = system_token(app, Client(api_client["client_id"], api_client["client_secret"], 0))
    resp = client.get("/api/v1/consents", headers=bearer(token))
    assert resp.status_code == 200 and resp.get_json()["consents"] == []


# --- robustness: whatever a client sends, never a 500 ---------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FIELDS = ["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "token",
           "token_type_hint", "client_id", "client_secret", "response_type", "state", "code_challenge",
           "code_challenge_method"]
_VALUES = st.one_of(st.sampled_from(["authorization_code", "refresh_token", "client_credentials", "code", "S256",
                                     "plain", "drug", "consents drug", REDIRECT_URI, "access_token", ""]),
                    st.text(max_size=80))
_FORMS = st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=6)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(form=_FORMS, path=st.sampled_from(["/oauth/token", "/oauth/introspect", "/oauth/revoke"]),
       auth=st.sampled_from(["good", "none", "garbage"]))
def test_oauth_endpoints_never_answer_500(world, form, path, auth):
    headers = {"good": world.code_client.basic, "none": {}, "garbage": {"Authorization": "Basic \u00ff\u00fe=="}}[auth]
    resp = world.app.test_client().post(path, data=form, headers=headers)
    assert resp.status_code < 500, resp.get_data(as_text=True)
    body = resp.get_json()
    if resp.status_code >= 400:
        assert isinstance(body, dict) and body["error_description"] and body["type"] == "/problems/" + body["error"]
        assert resp.mimetype == ("application/json" if path == "/oauth/token" else "application/problem+json")


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(params=_FORMS, method=st.sampled_from(["GET", "POST"]))
def test_authorize_never_answers_500(world, params, method):
    browser = _signed_in(world)
    resp = browser.open("/oauth/authorize", method=method, query_string=params,
                        data={"csrf_token": "x", "decision": "approve"} if method == "POST" else None)
    assert resp.status_code < 500, resp.get_data(as_text=True)


_BROWSERS: dict[int, object] = {}


def _signed_in(world):
    # One signed-in browser per world (hypothesis runs many examples in one test).
    key = id(world)
    if key not in _BROWSERS:
        _BROWSERS.clear()
        _BROWSERS[key] = console_login(world.app, "pharmacist")
    return _BROWSERS[key]


def test_rfc_8414_metadata_names_the_endpoints_grants_pkce_and_basic_auth(world):
    """A client library discovers the server (issue 32): the metadata says what this server does."""
    resp = world.app.test_client().get("/.well-known/oauth-authorization-server")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    meta = resp.get_json()
    assert meta["issuer"] == "http://localhost"
    assert meta["token_endpoint"] == "http://localhost/oauth/token"
    assert meta["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert meta["revocation_endpoint"].endswith("/oauth/revoke")
    assert meta["introspection_endpoint"].endswith("/oauth/introspect")
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    # What it says is true: a secret in the form (client_secret_post) is refused.
    c = world.system_client
    post = world.app.test_client().post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.secret})
    assert post.status_code == 401 and post.get_json()["error"] == "invalid_client"
