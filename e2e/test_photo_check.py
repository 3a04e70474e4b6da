"""The photo check (目視確認) in real Chromium: on the tablet for 訪問診療等, a card that answers
without its PIN (Chromium's virtual authenticator without user verification) is read through
「暗証番号を使わずに確認（目視確認）」, its face photo shown, and the consent registered once the staff
member confirms 「本人であることを確認しました」; 「中止」 leaves nothing; the patient's phone refuses
the same card."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.accessibility import assert_accessible
from e2e.test_reception import no_horizontal_scroll

PHOTO_CHECK = "暗証番号を使わずに確認（目視確認）"
CONFIRMED = "本人であることを確認しました"


def to_the_card_step(page) -> None:
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_role("button", name="すべて同意する").click()
    page.get_by_role("heading", name="内容の確認").wait_for()


def photo_read(page, person: dict, *, check_accessibility: bool = False) -> None:
    """From the confirm page: 「暗証番号を使わずに確認（目視確認）」, the birth date printed on the
    card, the card read without the PIN, the face photo."""
    page.get_by_role("link", name=PHOTO_CHECK).click()
    expect(page.get_by_role("heading", name=PHOTO_CHECK)).to_be_visible()
    if check_accessibility:
        assert_accessible(page, "目視確認：生年月日")
    page.get_by_label("生年月日（カードの表面のとおり）").fill(person["birth_date"])
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_text("暗証番号の入力はいりません").first).to_be_visible()
    if check_accessibility:
        assert_accessible(page, "目視確認：カードの読み取り")
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="ご本人の確認（目視確認）")).to_be_visible(timeout=15_000)
    photo = page.get_by_role("img", name="マイナンバーカードの顔写真")
    expect(photo).to_be_visible()
    # The image itself arrived (not a broken-image box).
    page.wait_for_function("() => document.querySelector('.face-photo img').naturalWidth > 0")


def home_visit_row(console, name: str):
    console.goto("/pharmacy/home-visits")
    return console.locator("tr", has=console.get_by_role("link", name=name))


def test_a_photo_checked_first_visit_with_a_card_that_has_no_pin(
        signed_in_tablet, tablet_card_without_pin, staff_page):
    tablet = signed_in_tablet("home_visit")
    page = tablet.page
    name = tablet_card_without_pin.person["name"]
    to_the_card_step(page)
    # The PIN read first: this card has no PIN to give, and the read stops with advice.
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("alert")).to_contain_text("カードの読み取りが中断されたか")
    photo_read(page, tablet_card_without_pin.person, check_accessibility=True)
    expect(page.locator("main")).to_contain_text(name)
    assert_accessible(page, "目視確認：顔写真")
    no_horizontal_scroll(page)

    # Not yet confirmed: the form does not go (and nothing is recorded).
    page.get_by_role("button", name="同意を登録する").click()
    expect(page.get_by_role("heading", name="ご本人の確認（目視確認）")).to_be_visible()
    page.get_by_label(CONFIRMED).check()
    page.get_by_role("button", name="同意を登録する").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{name} 様のカードで登録しました")
    assert page.console.errors == []
    page.goto("about:blank")  # the visit is over (its idle poll would keep running)

    console = staff_page("admin")
    expect(home_visit_row(console, name)).to_contain_text("訪問中")
    console.goto("/pharmacy/admin/audit")
    expect(console.locator("#audit-entries")).to_contain_text(f"本人確認: 目視確認（{tablet.staff['login_id']}）")


def test_stopping_the_photo_check_records_nothing(signed_in_tablet, tablet_card_without_pin, staff_page):
    tablet = signed_in_tablet("home_visit")
    page = tablet.page
    to_the_card_step(page)
    photo_read(page, tablet_card_without_pin.person)
    page.get_by_role("button", name="中止").click()
    expect(page.get_by_role("link", name="同意登録をする")).to_be_visible()
    expect(page.get_by_text(tablet_card_without_pin.person["name"])).to_have_count(0)
    page.goto("about:blank")
    console = staff_page("pharmacist")
    expect(home_visit_row(console, tablet_card_without_pin.person["name"])).to_have_count(0)


@pytest.mark.parametrize("setting", ["outpatient"])
def test_the_photo_check_is_not_offered_on_the_outpatient_tablet(signed_in_tablet, tablet_card, setting):
    tablet = signed_in_tablet(setting)
    to_the_card_step(tablet.page)
    expect(tablet.page.get_by_role("link", name=PHOTO_CHECK)).to_have_count(0)


def test_the_patients_phone_refuses_a_card_without_its_pin(phone_page, nfc_card_without_pin, pharmacy):
    page = phone_page
    page.goto(pharmacy["reception_url"])
    to_the_card_step(page)
    expect(page.get_by_role("link", name=PHOTO_CHECK)).to_have_count(0)
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("alert")).to_contain_text("カードの読み取りが中断されたか")
    expect(page.get_by_role("heading", name="内容の確認")).to_be_visible()
    # The photo check's own pages do not exist here.
    response = page.goto(pharmacy["reception_url"] + "/photo")
    assert response.status == 404
