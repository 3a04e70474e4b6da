"""「デモ用カードを登録」: a visitor's own authenticator (here Chromium's virtual one) becomes a card."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.test_reception import register


@pytest.mark.parametrize("transport, synced", [("nfc", False), ("internal", True)])
def test_a_registered_demo_card_completes_reception_and_shows_in_the_console(
        phone_page, pharmacy, staff_page, transport, synced):
    cdp = phone_page.context.new_cdp_session(phone_page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": transport, "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
        # A platform passkey that syncs (backup eligible): accepted for demo cards, and marked so.
        **({"defaultBackupEligibility": True, "defaultBackupState": True} if synced else {})}})["authenticatorId"]
    try:
        phone_page.goto("/demo/cards")
        phone_page.get_by_role("button", name="デモ用カードを登録").click()
        notice = phone_page.get_by_role("status").filter(has_text="デモ用カードを登録しました")
        expect(notice).to_be_visible(timeout=15_000)
        name = re.match(r"(.+) さんのデモ用カードを登録しました", notice.inner_text()).group(1)
        if synced:
            expect(notice).to_contain_text("同期されるパスキー")
        # The card's birth date as its face prints it (the tablet's photo check asks for it).
        expect(phone_page.locator("main")).to_contain_text("このカードの生年月日（券面の記載）：")
        register(phone_page, pharmacy)
        expect(phone_page.locator("main")).to_contain_text(f"{name} 様のカードで登録しました")
        console = staff_page("clerk")
        expect(console.get_by_role("link", name=name)).to_be_visible()
    finally:
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
