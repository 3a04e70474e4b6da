"""The pharmacist's console: today's list, the patient's data, and the refusal once the viewing
window has passed on the institution's own clock (nobody else's time moves)."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from steps import register, window_end


def test_the_list_shows_the_patient_and_reads_stop_when_the_window_ends(
        phone_page, nfc_card, institution, institution_clock, signed_in_pharmacist):
    console = signed_in_pharmacist
    name = nfc_card.person["name"]
    register(phone_page, institution)
    expect(console.get_by_role("link", name=name)).to_be_visible(timeout=15_000)  # the list refreshes itself
    console.get_by_role("link", name=name).click()
    drugs = console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drugs).to_be_visible()
    expect(console.locator("main")).not_to_contain_text("閲覧できません")
    patient_url = console.url

    now = institution_clock.now()
    end = window_end(now.date(), now.tzinfo)
    institution_clock.set(end - timedelta(seconds=1))  # the last second of the window: still open
    console.goto(patient_url)
    expect(drugs).not_to_contain_text("閲覧できません")
    institution_clock.set(end)  # the window's end: refused
    console.goto(patient_url)
    expect(drugs).to_contain_text("閲覧できません")
    expect(drugs).to_contain_text("同意有効期限切れ")
