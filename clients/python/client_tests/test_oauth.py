"""Both OAuth flows of the client against the live server: client credentials (a system job) and
authorization code + PKCE through the loopback redirect helper, a pharmacist approving in real
Chromium; tokens refreshed when the server's clock has run past them, and rotated refresh tokens
handed to `on_token`."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from mynareception_client import ApiError, Client, OAuthError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def register_code_client(admin, redirect_uri: str, labels: tuple[str, ...]) -> tuple[str, str]:
    """An admin registers an authorization-code client in 「API連携」; its id and its secret."""
    admin.goto("/pharmacy/admin/api")
    section = admin.locator("#api-clients")
    section.get_by_label("連携システム名").fill("デスクトップレセコン（クライアント試験）")
    section.get_by_label("認可コード（職員がログインして許可）").check()
    section.get_by_label("リダイレクトURI（認可コード方式のみ。https://〜）").fill(redirect_uri)
    for label in labels:
        section.get_by_label(label, exact=True).check()
    section.get_by_role("button", name="連携システムを登録").click()
    notice = admin.locator("#api-clients [role=status]")
    expect(notice).to_contain_text("この画面でしか表示されません")
    return notice.locator("code").nth(0).inner_text(), notice.locator("code").nth(1).inner_text()


def test_client_credentials_fetch_a_token_and_fetch_another_when_the_server_says_it_expired(
        live_server, pharmacy, sandbox_clock):
    creds = pharmacy["api_client"]
    tokens: list[dict] = []
    api = Client.client_credentials(live_server.url, creds["client_id"], creds["client_secret"],
                                    on_token=tokens.append)
    with api:
        assert api.consents() == []
        assert set(api.token["scope"].split()) >= {"consents", "events"}
        first = api.token["access_token"]

        # Eleven minutes later on the server's clock the 10-minute token is dead there, though the
        # client's own clock says otherwise: the 401 invalid_token makes it fetch a new one, once.
        sandbox_clock.set_clock((datetime.now(timezone.utc) + timedelta(minutes=11)).isoformat())
        assert api.consents() == []
        assert api.token["access_token"] != first
        assert [t["access_token"] for t in tokens] == [first, api.token["access_token"]]


def test_a_wrong_secret_is_an_oauth_error(live_server, pharmacy):
    with pytest.raises(OAuthError) as refused:
        Client.client_credentials(live_server.url, pharmacy["api_client"]["client_id"], "not-the-secret")
    assert refused.value.error == "invalid_client"


def test_authorization_code_with_pkce_through_the_loopback_redirect(live_server, staff_page):
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id, secret = register_code_client(staff_page("admin"), redirect_uri, ("同意取得済み患者一覧", "薬剤情報"))
    pharmacist = staff_page("pharmacist")
    shown: list[str] = []

    def approve_in_browser(url: str) -> None:
        # What webbrowser.open does on the pharmacist's PC; the pharmacist is signed in already.
        shown.append(url)
        pharmacist.goto(url)
        expect(pharmacist.get_by_role("heading", name="システム連携の許可")).to_be_visible()
        expect(pharmacist.locator("main")).to_contain_text("デスクトップレセコン（クライアント試験）")
        with pharmacist.expect_response(lambda r: r.url.startswith(redirect_uri)):
            pharmacist.get_by_role("button", name="許可する").click()
        expect(pharmacist.get_by_role("heading", name="連携を許可しました")).to_be_visible()

    tokens: list[dict] = []
    api = Client.authorize_in_browser(live_server.url, client_id, secret, redirect_uri, scope="consents drug",
                                      open_browser=approve_in_browser, on_token=tokens.append, timeout=60)
    with api:
        assert "code_challenge_method=S256" in shown[0] and "code_challenge=" in shown[0]
        assert api.token["scope"] == "consents drug" and api.token["refresh_token"]
        assert api.consents() == []

        # Refresh: the client sees its token expire and uses the refresh token, which the server
        # rotates; on_token receives the new pair (store it: the old refresh token is spent).
        old_refresh = api.token["refresh_token"]
        api.session.token["expires_at"] = int(datetime.now(timezone.utc).timestamp()) - 1
        assert api.consents() == []
        assert api.token["refresh_token"] != old_refresh
        assert tokens[-1]["refresh_token"] == api.token["refresh_token"]

        # The spent refresh token is refused (and, as a replay, ends the whole grant).
        stale = Client.from_token(live_server.url, client_id, secret,
                                  {"access_token": "x", "refresh_token": old_refresh, "token_type": "Bearer",
                                   "expires_at": 1})
        with stale, pytest.raises(OAuthError) as refused:
            stale.consents()
        assert refused.value.error == "invalid_grant"
        with pytest.raises((ApiError, OAuthError)):
            api.consents()  # the replay revoked the grant this client held too
    assert pharmacist.console.errors == []


def test_a_declined_authorization_is_an_oauth_error(live_server, staff_page):
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id, secret = register_code_client(staff_page("admin"), redirect_uri, ("同意取得済み患者一覧",))
    pharmacist = staff_page("pharmacist")

    def decline(url: str) -> None:
        pharmacist.goto(url)
        with pharmacist.expect_response(lambda r: r.url.startswith(redirect_uri)):
            pharmacist.get_by_role("button", name="許可しない").click()
        expect(pharmacist.get_by_role("heading", name="連携を許可しませんでした")).to_be_visible()

    with pytest.raises(OAuthError) as refused:
        Client.authorize_in_browser(live_server.url, client_id, secret, redirect_uri, open_browser=decline, timeout=60)
    assert refused.value.error == "access_denied"
