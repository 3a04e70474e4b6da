"""The OAuth flows that get tokens in the pharmacy-system API tests (tests/web/api/): sign in,
approve, exchange. The world they act in is the shared `world` fixture of tests/conftest.py."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from conftest import REDIRECT_URI, TODAY, Client, World  # noqa: F401 - re-exported for the API tests
from consent import oauth_clients

ALL_SCOPES = " ".join(oauth_clients.SCOPES)


# --- browser side: sign in to the console, approve on /oauth/authorize --------------------------


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def console_login(app, login_id: str, password: str | None = None):
    browser = app.test_client()
    token = csrf_of(browser.get("/pharmacy/login").get_data(as_text=True))
    resp = browser.post("/pharmacy/login", data={
        "csrf_token": token, "login_id": login_id,
        "password": password or f"{login_id.split('-')[-1]}-password"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return browser


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(client: Client, *, scope: str | None = ALL_SCOPES, challenge: str | None = None,
                  method: str | None = "S256", state: str = "st-1", **extra) -> str:
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT_URI, "state": state}
    if scope is not None:
        params["scope"] = scope
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    params.update(extra)
    return "/oauth/authorize?" + urlencode(params)


def approve(browser, url: str, decision: str = "approve"):
    page = browser.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return browser.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "decision": decision})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(browser, client: Client, *, scope: str | None = ALL_SCOPES) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    resp = approve(browser, authorize_url(client, scope=scope, challenge=challenge))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"].startswith(REDIRECT_URI)
    params = query_of(resp.headers["Location"])
    assert params["state"] == "st-1"
    return params["code"], verifier


def exchange(app, client: Client, code: str, verifier: str | None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    return app.test_client().post("/oauth/token", data=data, headers=client.basic)


def staff_token(app, client: Client, login_id: str, *, scope: str | None = ALL_SCOPES,
                browser=None) -> dict:
    """Sign in as `login_id`, approve `client`, exchange the code: the token response."""
    browser = browser or console_login(app, login_id)
    code, verifier = get_code(browser, client, scope=scope)
    resp = exchange(app, client, code, verifier)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def system_token(app, client: Client, scope: str | None = None) -> dict:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    resp = app.test_client().post("/oauth/token", data=data, headers=client.basic)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def bearer(token: dict | str) -> dict[str, str]:
    value = token["access_token"] if isinstance(token, dict) else token
    return {"Authorization": f"Bearer {value}"}
