"""The patient's consent on their phone, 同意照会, and revocation: each test on its own institution,
whose clock stands still at the moment the test starts (`institution_clock`)."""
from __future__ import annotations

from playwright.sync_api import expect

from steps import deadline_text, open_review, register, revoke_all


def test_the_patient_consents_with_the_card(phone_page, nfc_card, institution, institution_clock):
    today = institution_clock.now().date()  # the institution's day, in JST as the service writes it
    phone_page.goto(institution["reception_url"])
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(institution["name"])
    phone_page.get_by_role("link", name="同意登録をする").click()
    assert phone_page.get_by_label("診療日").input_value() == today.isoformat()
    phone_page.get_by_role("button", name="すべて同意する").click()
    phone_page.get_by_role("button", name="読み取り開始").click()
    expect(phone_page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)
    main = phone_page.locator("main")
    expect(main).to_contain_text(f"{nfc_card.person['name']} 様のカードで登録しました")
    expect(main).to_contain_text(deadline_text(today))
    assert phone_page.console.errors == []


def test_the_patient_reviews_the_consent(phone_page, nfc_card, institution, institution_clock):
    register(phone_page, institution)
    open_review(phone_page, institution)
    consent = phone_page.locator("section.card")
    expect(consent).to_have_count(1)
    expect(consent).to_contain_text("有効")
    expect(consent).to_contain_text("薬剤・処方")
    expect(phone_page.locator("main")).to_contain_text("まだ閲覧されていません")


def test_the_patient_revokes_every_consent(phone_page, nfc_card, institution, institution_clock):
    register(phone_page, institution)
    revoke_all(phone_page, institution)
    open_review(phone_page, institution)
    expect(phone_page.locator("section.card")).to_contain_text("取消")
