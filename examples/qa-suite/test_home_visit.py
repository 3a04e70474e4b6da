"""A home visit (訪問診療等): the first visit on the institution's tablet with the card, then three
weeks later, at the patient's home, 「再照会」 with the insurance keys and 「訪問を記録」."""
from __future__ import annotations

from playwright.sync_api import expect

from steps import register_from_top, reinquire


def test_first_visit_on_the_tablet_then_a_reinquiry_three_weeks_later(
        signed_in_tablet, tablet_card, institution, institution_clock, staff_page):
    tablet = signed_in_tablet("home_visit")
    register_from_top(tablet.page, date_asked=False)
    name = tablet_card.person["name"]
    expect(tablet.page.locator("main")).to_contain_text("訪問診療等が続く間")
    tablet.page.goto("about:blank")  # the tablet leaves the patient's home

    later = institution_clock.advance(days=21)
    console = staff_page("pharmacist")
    reinquire(console, tablet_card.person)
    result = console.locator("main")
    expect(result).to_contain_text(name)
    expect(result).to_contain_text("訪問中")
    console.get_by_role("button", name="訪問を記録").click()
    expect(console.get_by_role("status")).to_contain_text("訪問を記録しました")
    row = console.locator("tr", has=console.get_by_role("link", name=name))
    expect(row).to_contain_text(f"{later.year}年{later.month}月{later.day}日")
