"""The institution's own tablet in real Chromium (a tablet-sized context, the virtual NFC card):
the staff login, 「受付モード」, the outpatient flow and its window, house calls, the neutral start."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from playwright.sync_api import expect

from consent.clock import JST
from e2e.test_reception import register_from_top

ALL_LABELS = ["薬剤・処方", "特定健診", "診療・アレルギー・検査", "手術・傷病名・感染症", "特定疾病療養受療証", "限度額"]


def tomorrow_jst() -> date:
    return datetime.now(timezone.utc).astimezone(JST).date() + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> str:
    return datetime.combine(day, time(hour, minute, second), JST).isoformat()


def ymd(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def register_on_tablet(page, *, labels=None) -> None:
    """From the neutral start to 「同意登録が完了しました」; the 診療日 is not asked (today)."""
    register_from_top(page, labels=labels, date_asked=False)


def open_patient(console, name: str, day: date, setting: int | None = None) -> None:
    query = f"?date={day.isoformat()}" + (f"&setting={setting}" if setting else "")
    console.goto("/pharmacy/" + query)
    console.get_by_role("link", name=name).click()
    console.get_by_role("heading", name="薬剤情報", exact=True).wait_for()


@pytest.mark.parametrize("setting", ["outpatient", "home_visit", "house_call"])
def test_the_staff_login_when_nobody_is_signed_in(tablet_page, pharmacy, setting):
    page = tablet_page
    page.goto(pharmacy["reception_urls"][setting])
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    expect(page.get_by_label("ログインID")).to_be_visible()
    expect(page.get_by_role("link", name="同意登録をする")).to_have_count(0)
    page.goto(pharmacy["reception_urls"][setting] + "/consent")
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    expect(page.get_by_role("button", name="すべて同意する")).to_have_count(0)
    assert page.console.errors == []


def test_the_outpatient_flow_and_its_window_one_second_before_and_after(
        signed_in_tablet, tablet_card, sandbox_clock, staff_page):
    day = tomorrow_jst()
    sandbox_clock.set_clock(at(day, 10))
    tablet = signed_in_tablet("outpatient")
    page = tablet.page
    expect(page.get_by_role("heading", level=1)).to_have_text(tablet.institution["name"])
    register_on_tablet(page)
    expect(page.locator("main")).to_contain_text(f"{tablet_card.person['name']} 様のカードで登録しました")
    expect(page.locator("main")).to_contain_text(f"{ymd(day + timedelta(days=1))} 23:59まで")

    console = staff_page("pharmacist")
    open_patient(console, tablet_card.person["name"], day, setting=1)
    expect(console.locator("main")).to_contain_text("外来")
    patient_url = console.url
    end = datetime.combine(day + timedelta(days=2), time(0, 0), JST)
    sandbox_clock.set_clock((end - timedelta(seconds=1)).isoformat())
    console.goto(patient_url)
    drug = console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drug).not_to_contain_text("閲覧できません")
    sandbox_clock.set_clock(end.isoformat())
    console.goto(patient_url)
    expect(drug).to_contain_text("閲覧できません：薬剤・処方の同意有効期限切れ")
    assert page.console.errors == []


def test_a_house_call_twice_on_two_days_is_two_consents(signed_in_tablet, tablet_card, sandbox_clock, staff_page):
    first, second = tomorrow_jst(), tomorrow_jst() + timedelta(days=1)
    sandbox_clock.set_clock(at(first, 14))
    tablet = signed_in_tablet("house_call")
    register_on_tablet(tablet.page)
    expect(tablet.page.locator("main")).to_contain_text(f"{ymd(first + timedelta(days=1))} 23:59まで")
    tablet.page.get_by_role("link", name="次の方の受付へ").click()
    sandbox_clock.set_clock(at(second, 15))
    tablet.start()
    register_on_tablet(tablet.page, labels=["薬剤・処方", "限度額"])
    expect(tablet.page.locator("main")).to_contain_text(f"{ymd(second + timedelta(days=1))} 23:59まで")

    console = staff_page("clerk")
    name = tablet_card.person["name"]
    for day in (first, second):
        console.goto(f"/pharmacy/?date={day.isoformat()}&setting=2")
        row = console.locator("tr", has=console.get_by_role("link", name=name))
        expect(row).to_have_count(1)
        expect(row).to_contain_text("往診")
    ids = set()
    for day in (first, second):
        console.goto(f"/pharmacy/?date={day.isoformat()}")
        ids.add(console.get_by_role("link", name=name).get_attribute("href"))
    assert len(ids) == 2


def test_after_a_registration_the_tablet_starts_over_with_nothing_of_the_patient(
        signed_in_tablet, tablet_card, sandbox_clock):
    sandbox_clock.set_clock(at(tomorrow_jst(), 9))
    tablet = signed_in_tablet("outpatient")
    page = tablet.page
    register_on_tablet(page)
    name = tablet_card.person["name"]
    expect(page.locator("main")).to_contain_text(name)
    page.get_by_role("link", name="次の方の受付へ").click()
    expect(page.get_by_role("link", name="同意登録をする")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(name)
    page.go_back()
    expect(page.locator("body")).not_to_contain_text(name)
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_have_count(0)
    # The next patient starts with nothing chosen, the staff member still signed in.
    tablet.start()
    page.get_by_role("link", name="同意登録をする").click()
    for label in ALL_LABELS:
        expect(page.get_by_label(label)).not_to_be_checked()


def test_after_two_idle_minutes_the_tablet_returns_to_its_neutral_start(signed_in_tablet, sandbox_clock):
    start = datetime.combine(tomorrow_jst(), time(11, 0), JST)
    sandbox_clock.set_clock(start.isoformat())
    tablet = signed_in_tablet("outpatient")
    page = tablet.page
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_label("特定健診").check()
    page.get_by_role("button", name="選択した項目で進む").click()
    expect(page.get_by_role("heading", name="内容の確認")).to_be_visible()
    sandbox_clock.set_clock((start + timedelta(minutes=2)).isoformat())
    # The page goes back by itself (it asks the server every few seconds).
    expect(page.get_by_role("link", name="同意登録をする")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="内容の確認")).to_have_count(0)
    page.get_by_role("link", name="同意登録をする").click()
    expect(page.get_by_label("特定健診")).not_to_be_checked()
    assert page.console.errors == []


def test_leaving_reception_mode_needs_the_staff_password(signed_in_tablet):
    tablet = signed_in_tablet("outpatient")
    page = tablet.page
    page.goto("/pharmacy/")
    expect(page.get_by_role("link", name="同意登録をする")).to_be_visible()  # the console stays out of reach
    page.get_by_role("link", name="受付モードを終了（職員用）").click()
    page.get_by_label("パスワード").fill("not-the-password")
    page.get_by_role("button", name="受付モードを終了する").click()
    expect(page.get_by_role("alert")).to_contain_text("パスワードが正しくありません")
    page.get_by_label("パスワード").fill(tablet.staff["password"])
    page.get_by_role("button", name="受付モードを終了する").click()
    expect(page.get_by_role("button", name="受付モード")).to_be_visible()
