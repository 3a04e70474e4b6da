"""The pharmacy-system API end to end, in real Chromium against the gunicorn test server: an admin
registers a client in the console, a patient consents on a phone, a pharmacist approves the client
on /oauth/authorize (authorization code + PKCE), the pharmacy system reads drug data with the
token, and once the sandbox clock passes the consent window the same token gets 403."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.request
from datetime import datetime, time, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import expect

from consent.clock import JST
from e2e.test_reception import register

REDIRECT_URI = "https://rececon.example/callback"


def call(base_url: str, method: str, path: str, *, headers: dict | None = None, form: dict | None = None):
    data = urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(base_url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_pharmacist_authorizes_a_system_that_reads_drugs_until_the_window_ends(
        phone_page, nfc_card, pharmacy, staff_page, sandbox_clock, base_url):
    register(phone_page, pharmacy)  # today's consultation, every category

    admin = staff_page("admin")
    admin.goto("/pharmacy/admin/api")
    section = admin.locator("#api-clients")
    section.get_by_label("連携システム名").fill("電子薬歴（E2E）")
    section.get_by_label("認可コード（職員がログインして許可）").check()
    section.get_by_label("リダイレクトURI（認可コード方式のみ。https://〜）").fill(REDIRECT_URI)
    for label in ("同意取得済み患者一覧", "薬剤情報"):
        section.get_by_label(label, exact=True).check()
    section.get_by_role("button", name="連携システムを登録").click()
    notice = admin.locator("#api-clients [role=status]")
    expect(notice).to_contain_text("この画面でしか表示されません")
    client_id, secret = notice.locator("code").nth(0).inner_text(), notice.locator("code").nth(1).inner_text()
    basic = {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}

    # Two minutes before the window of today's consultation closes (00:00 JST the day after tomorrow).
    today = datetime.now(timezone.utc).astimezone(JST).date()
    window_end = datetime.combine(today + timedelta(days=2), time(0), tzinfo=JST)
    sandbox_clock.set_clock((window_end - timedelta(minutes=2)).isoformat())

    pharmacist = staff_page("pharmacist")
    pharmacist.route(REDIRECT_URI + "**", lambda route: route.fulfill(status=200, body="ok"))
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pharmacist.goto("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "state": "e2e",
        "scope": "consents drug", "code_challenge": challenge, "code_challenge_method": "S256"}))
    expect(pharmacist.get_by_role("heading", name="システム連携の許可")).to_be_visible()
    expect(pharmacist.locator("main")).to_contain_text("電子薬歴（E2E）")
    with pharmacist.expect_request(lambda r: r.url.startswith(REDIRECT_URI)) as redirected:
        pharmacist.get_by_role("button", name="許可する").click()
    params = parse_qs(urlsplit(redirected.value.url).query)
    assert params["state"] == ["e2e"]

    status, token = call(base_url, "POST", "/oauth/token", headers=basic, form={
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier})
    assert status == 200, token
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    status, listing = call(base_url, "GET", f"/api/v1/consents?date={today.isoformat()}", headers=bearer)
    assert status == 200
    [consent] = listing["consents"]
    assert consent["window_end"] == window_end.isoformat()
    status, body = call(base_url, "GET", f"/api/v1/consents/{consent['id']}/drugs", headers=bearer)
    assert status == 200 and "drugs" in body

    # The window closes while the token is still fresh: the read is refused, and says why.
    sandbox_clock.set_clock(window_end.isoformat())
    status, body = call(base_url, "GET", f"/api/v1/consents/{consent['id']}/drugs", headers=bearer)
    assert status == 403 and body["error"] == "consent_expired"
    assert pharmacist.console.errors == [] and admin.console.errors == []
