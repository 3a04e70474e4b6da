"""Home visits (訪問診療等) in real Chromium: the first visit on the institution's tablet, a later
visit's 再照会 and a drug read without the card in the console, 訪問終了 and the refusal after it,
and the patient ending the relationship from their own phone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from playwright.sync_api import expect

from consent.clock import JST
from e2e.virtual_card import install_card
from e2e.test_tablet import register_on_tablet


def tomorrow_jst() -> date:
    return datetime.now(timezone.utc).astimezone(JST).date() + timedelta(days=1)


def at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), JST).isoformat()


def put_away(tablet) -> None:
    """The visit is over: the tablet leaves the patient's home. (Left on its page, its idle poll
    would keep navigating while the test moves the clock.)"""
    tablet.page.goto("about:blank")


def drug_section(console):
    return console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))


def reinquire(console, person: dict) -> None:
    """「訪問患者」 → 「再照会」 with the insurance card's keys and the birth date."""
    console.goto("/pharmacy/home-visits")
    console.get_by_label("保険者番号").fill(person["insurer_number"])
    console.get_by_label("記号").fill(person["symbol"] or "")
    console.get_by_label("番号", exact=True).fill(person["number"])
    console.get_by_label("枝番").fill(person["branch"] or "")
    console.get_by_label("生年月日").fill(person["birth_date"])
    console.get_by_role("button", name="再照会", exact=True).click()
    console.get_by_role("heading", name="再照会の結果").wait_for()


def test_first_visit_on_the_tablet_later_visits_without_the_card_then_visit_end(
        signed_in_tablet, tablet_card, sandbox_clock, staff_page):
    first = tomorrow_jst()
    sandbox_clock.set_clock(at(first, 10))
    tablet = signed_in_tablet("home_visit")
    register_on_tablet(tablet.page)
    name = tablet_card.person["name"]
    main = tablet.page.locator("main")
    expect(main).to_contain_text(f"{name} 様のカードで登録しました")
    expect(main).to_contain_text("訪問診療等が続く間")
    assert tablet.page.console.errors == []
    put_away(tablet)

    # Three weeks later, at the patient's home: no card, the insurance keys.
    later = first + timedelta(days=21)
    sandbox_clock.set_clock(at(later, 14))
    console = staff_page("pharmacist")
    reinquire(console, tablet_card.person)
    result = console.locator("main")
    expect(result).to_contain_text(name)
    expect(result).to_contain_text("1：有効")
    expect(result).to_contain_text("訪問中")
    console.get_by_role("button", name="訪問を記録").click()
    expect(console.get_by_role("status")).to_contain_text("訪問を記録しました")
    row = console.locator("tr", has=console.get_by_role("link", name=name))
    expect(row).to_contain_text(f"{later.year}年{later.month}月{later.day}日")
    # No lapse unless the institution sets one (the default): nothing to count down.
    expect(row).to_contain_text("期限なし")
    expect(row).not_to_contain_text("あと")

    # The drug read, under the first visit's consent.
    row.get_by_role("link", name=name).click()
    expect(drug_section(console)).to_be_visible()
    expect(drug_section(console)).not_to_contain_text("閲覧できません")
    patient_url = console.url

    # 訪問終了, confirmed on a second page; then reads and visits are refused.
    console.goto("/pharmacy/home-visits")
    console.locator("tr", has=console.get_by_role("link", name=name)).get_by_role("button", name="訪問終了").click()
    expect(console.get_by_role("heading", name="訪問終了の確認")).to_be_visible()
    console.get_by_role("button", name="訪問終了").click()
    expect(console.get_by_role("status")).to_contain_text("訪問終了を記録しました")
    row = console.locator("tr", has=console.get_by_role("link", name=name))
    expect(row).to_contain_text("訪問終了")
    expect(row.get_by_role("button", name="訪問を記録")).to_have_count(0)
    console.goto(patient_url)
    expect(drug_section(console)).to_contain_text("閲覧できません")
    expect(drug_section(console)).to_contain_text("医療機関等による取消")
    reinquire(console, tablet_card.person)
    expect(console.locator("main")).to_contain_text("訪問診療等の同意は終了しています")
    expect(console.get_by_role("button", name="訪問を記録")).to_have_count(0)
    assert console.console.errors == []


def test_the_patient_ends_the_relationship_from_their_phone(
        signed_in_tablet, tablet_card, sandbox_clock, sandbox, phone_page, pharmacy, staff_page):
    first = tomorrow_jst()
    sandbox_clock.set_clock(at(first, 10))
    tablet = signed_in_tablet("home_visit")
    register_on_tablet(tablet.page)
    put_away(tablet)
    name = tablet_card.person["name"]

    # A week later the patient opens the pharmacy's URL on their own phone, with the same card.
    sandbox_clock.set_clock(at(first + timedelta(days=7), 19))
    card = {**tablet_card.card, "sign_count": sandbox.get_card(tablet_card.card_id)["sign_count"]}
    phone = install_card(phone_page, card, person=tablet_card.person)
    try:
        page = phone_page
        page.goto(pharmacy["reception_url"])
        page.get_by_role("link", name="同意照会・更新").click()
        page.get_by_role("button", name="読み取り開始").click()
        review = page.locator("section.card")
        expect(review).to_contain_text(f"訪問診療等（初回訪問 {first.year}年{first.month}月{first.day}日）")
        expect(review).to_contain_text("訪問診療等が続く間")
        page.get_by_role("button", name="終了する").click()

        page.get_by_role("link", name="すべての同意を取消す").click()
        page.get_by_role("button", name="読み取り開始").click()
        expect(page.locator("main")).to_contain_text("訪問診療等（初回訪問")
        page.get_by_role("button", name="取り消す").click()
        expect(page.get_by_role("heading", name="同意を取り消しました")).to_be_visible()
        assert page.console.errors == []
    finally:
        phone.remove()

    console = staff_page("pharmacist")
    console.goto("/pharmacy/home-visits")
    row = console.locator("tr", has=console.get_by_role("link", name=name))
    expect(row).to_contain_text("患者による取消")
    row.get_by_role("link", name=name).click()
    expect(drug_section(console)).to_contain_text("閲覧できません")
