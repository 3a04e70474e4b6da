"""Card sign-in in real Chromium with a virtual NFC card (e2e/README.md)."""
from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import expect

from e2e.virtual_card import install_card

READ = "読み取り開始"


def start_read(page):
    page.goto("/card/signin")
    page.get_by_role("button", name=READ).click()


def expect_refused(page, words: str):
    alert = page.get_by_role("alert").filter(has_text=words)
    expect(alert).to_be_visible(timeout=15_000)
    assert page.url.endswith("/card/signin")
    # No session was made: the "who am I" page says nobody signed in.
    response = page.goto("/card/me")
    assert response.status == 401


def test_an_nfc_card_signs_in_and_the_holder_is_named(phone_page, nfc_card):
    start_read(phone_page)
    phone_page.wait_for_url("**/card/me", timeout=15_000)
    expect(phone_page.get_by_text(f"{nfc_card.person['name']} 様のカードを確認しました")).to_be_visible()
    assert nfc_card.sign_count() == 1
    assert phone_page.console.errors == []


def test_pin_not_entered_is_a_cancelled_read(phone_page, nfc_card):
    nfc_card.set_user_verified(False)
    start_read(phone_page)
    expect_refused(phone_page, "中断されたか、時間切れ")


def test_assertion_without_uv_is_refused_by_the_server(phone_page, nfc_card):
    nfc_card.override_response(bad_uv=True)
    start_read(phone_page)
    expect_refused(phone_page, "暗証番号を確認できませんでした")


def test_bogus_signature_is_refused(phone_page, nfc_card):
    nfc_card.override_response(bogus_signature=True)
    start_read(phone_page)
    expect_refused(phone_page, "カードの読み取り結果を確認できませんでした")


def test_counter_regression_marks_the_card_a_suspected_clone(phone_page, nfc_card):
    start_read(phone_page)
    phone_page.wait_for_url("**/card/me", timeout=15_000)
    nfc_card.reinstall(sign_count=0)  # the next assertion carries 1 again: not greater than 1
    start_read(phone_page)
    expect_refused(phone_page, "安全のため、このカードでの受付を停止しました")
    nfc_card.reinstall(sign_count=50)  # even the "genuine" card is now refused
    start_read(phone_page)
    expect_refused(phone_page, "安全のため、このカードでの受付を停止しています")


def test_backup_eligible_credential_is_not_a_card(phone_page, nfc_card):
    nfc_card.set_backup_eligible()
    start_read(phone_page)
    expect_refused(phone_page, "マイナンバーカードとして使えません")


@pytest.mark.parametrize(
    "status, words",
    [("expired", "有効期限が切れています"), ("revoked", "失効しています"), ("locked", "ロックされています")],
)
def test_cards_in_bad_states_show_what_to_do(phone_page, nfc_card, sandbox, status, words):
    sandbox.card_status(nfc_card.card_id, status)
    start_read(phone_page)
    expect_refused(phone_page, words)


def test_unknown_credential_is_refused(phone_page):
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = {
        "card_id": "none", "rp_id": "localhost",
        "credential_id": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "user_handle": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "private_key": base64.b64encode(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())).decode(),
        "sign_count": 0,
    }
    card = install_card(phone_page, stranger)
    try:
        start_read(phone_page)
        expect_refused(phone_page, "利用登録")
    finally:
        card.remove()


def _capture_verify(page):
    captured = {}

    def handle(route):
        captured["body"] = route.request.post_data
        captured["csrf"] = route.request.headers.get("x-csrf-token")
        route.continue_()

    page.route("**/card/signin/verify", handle)
    return captured


def test_replayed_assertion_and_reused_challenge_are_refused(phone_page, nfc_card):
    captured = _capture_verify(phone_page)
    start_read(phone_page)
    phone_page.wait_for_url("**/card/me", timeout=15_000)
    # Same browser, same cookies: posting the very same assertion again must fail.
    replay = phone_page.request.post(
        "/card/signin/verify", data=captured["body"],
        headers={"Content-Type": "application/json", "X-CSRF-Token": captured["csrf"]},
    )
    assert replay.status in (400, 403)
    assert replay.json()["error"] in ("challenge_unknown", "csrf_failed")
    # From a fresh page with a valid CSRF token, it is the challenge that refuses it.
    phone_page.goto("/card/signin")
    token = phone_page.locator('meta[name="csrf-token"]').get_attribute("content")
    replay = phone_page.request.post(
        "/card/signin/verify", data=captured["body"],
        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
    )
    assert replay.status == 400
    assert replay.json()["error"] == "challenge_unknown"


def test_expired_challenge_is_refused(phone_page, nfc_card, sandbox_clock):
    start = datetime.now(timezone.utc).replace(microsecond=0)
    sandbox_clock.set_clock(start.isoformat())

    def late(route):
        # The patient took six minutes between the options and the answer.
        sandbox_clock.set_clock((start + timedelta(minutes=6)).isoformat())
        route.continue_()

    phone_page.route("**/card/signin/verify", late)
    start_read(phone_page)
    expect_refused(phone_page, "受付時間（5分）が過ぎました")


def test_browser_without_webauthn_gets_a_message_not_a_dead_button(phone_page):
    phone_page.add_init_script("delete window.PublicKeyCredential;")
    phone_page.goto("/card/signin")
    expect(phone_page.get_by_role("alert").filter(has_text="対応していません")).to_be_visible()
    expect(phone_page.get_by_role("button", name=READ)).to_be_hidden()


def test_a_card_is_reused_in_a_new_browser_context_from_its_current_count(phone_page, nfc_card, sandbox, browser,
                                                                          base_url):
    """GET /sandbox/cards/<id> gives the count the service last accepted: a second context that
    starts from it is not taken for a clone (from the issued JSON's 0 it was)."""
    start_read(phone_page)
    phone_page.wait_for_url("**/card/me", timeout=15_000)
    state = sandbox.get_card(nfc_card.card_id)
    assert state == {"card_id": nfc_card.card_id, "status": "active", "sign_count": 1}
    context = browser.new_context(base_url=base_url, locale="ja-JP")
    try:
        page = context.new_page()
        card = install_card(page, {**nfc_card.card, **state}, person=nfc_card.person)
        start_read(page)
        page.wait_for_url("**/card/me", timeout=15_000)
        expect(page.get_by_text(f"{nfc_card.person['name']} 様のカードを確認しました")).to_be_visible()
        assert sandbox.get_card(nfc_card.card_id)["sign_count"] == 2
        card.remove()
    finally:
        context.close()
