"""A 資格確認限定型 (qualification-only) clinic in real Chromium: its reception URL is the clinic's
own device at the counter (docs/sources.md [000], [001]: 「マイナ資格確認アプリ」 on the institution's PC, tablet
or smartphone). Nobody signed in: the staff login. Signed in, the staff member reads the patient's
card and sees the qualification, then the next person starts clean; another institution's staff
member is refused; the console lists 「資格確認」 and shows the qualification alone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.accessibility import assert_accessible
from e2e.fixtures import card_in
from e2e.test_console import open_patient

WIDTHS = (768, 1024, 1280)  # tablet sizes, and a counter PC's window


@pytest.fixture
def clinic(sandbox):
    made = sandbox.institution(name="健診クリニック 駅前", kind="clinic", qualification_only=True)
    yield made
    sandbox.delete_institution(made["institution_code"], missing_ok=True)


def fits(page, where: str) -> None:
    """At each width: no horizontal scroll and no WCAG A/AA violation (axe-core)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (where, width)
        assert_accessible(page, f"{where} at {width} px")


def sign_in_at_the_counter(page, staff: dict) -> None:
    page.get_by_label("ログインID").fill(staff["login_id"])
    page.get_by_label("パスワード").fill(staff["password"])
    page.get_by_role("button", name="ログイン", exact=True).click()


def confirm(page, person: dict) -> None:
    """「資格確認をする」 → 「読み取り開始」 → 「資格確認が完了しました」 for `person`'s card."""
    page.get_by_role("link", name="資格確認をする").click()
    expect(page.get_by_role("checkbox")).to_have_count(0)
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="資格確認が完了しました")).to_be_visible(timeout=15_000)
    expect(page.locator("dl.qualification-card")).to_contain_text(person["name"])


def test_the_counter_needs_its_staff_then_confirms_a_card_and_starts_clean_for_the_next_person(
        tablet_page, clinic, sandbox):
    page = tablet_page
    clerk = next(s for s in clinic["staff"] if s["role"] == "clerk")
    page.goto(clinic["reception_url"])
    # Nobody of the clinic signed in on this device: the staff login, nothing of the reception.
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    expect(page.locator("main")).to_contain_text("資格確認を始めるには、職員がログインしてください")
    expect(page.get_by_role("link", name="資格確認をする")).to_have_count(0)
    fits(page, "counter login")

    sign_in_at_the_counter(page, clerk)
    expect(page.get_by_role("heading", level=1)).to_have_text(clinic["name"])
    main = page.locator("main")
    expect(main).to_contain_text("健康保険の資格を確認します")
    for absent in ("同意登録をする", "同意照会・更新", "すべての同意を取消す", "受付モード"):
        expect(page.get_by_text(absent)).to_have_count(0)
    fits(page, "counter start")

    with card_in(page, sandbox) as first:
        page.get_by_role("link", name="資格確認をする").click()
        expect(main).to_contain_text("この端末の読み取り位置")
        fits(page, "counter read")
        page.get_by_role("button", name="読み取り開始").click()
        expect(page.get_by_role("heading", name="資格確認が完了しました")).to_be_visible(timeout=15_000)
        card = page.locator("dl.qualification-card")
        expect(card).to_contain_text(first.person["name"])
        for item in ("氏名", "負担割合", "保険者", "有効期限", "資格の状態"):
            expect(card.locator("dt", has_text=re.compile(f"^{item}$"))).to_have_count(1)
        expect(card).to_contain_text("1：有効")
        expect(page.get_by_role("alert")).to_have_count(0)
        fits(page, "counter done")
        first_name = first.person["name"]

    # The next person: back to the start with nothing of the previous one, not even by 「戻る」.
    page.get_by_role("link", name="次の方の資格確認へ").click()
    expect(page.get_by_role("link", name="資格確認をする")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(first_name)
    page.go_back()
    expect(page.get_by_role("heading", name="この資格確認は終了しています")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(first_name)
    fits(page, "counter done, revisited")
    page.get_by_role("link", name="次の方の資格確認へ").click()

    with card_in(page, sandbox) as second:
        confirm(page, second.person)
        expect(page.locator("body")).not_to_contain_text(first_name)
    assert page.console.errors == []


def test_another_institutions_staff_member_is_refused_at_the_counter(tablet_page, clinic, pharmacy):
    page = tablet_page
    stranger = next(s for s in pharmacy["staff"] if s["role"] == "clerk")
    page.goto(clinic["reception_url"])
    sign_in_at_the_counter(page, stranger)
    expect(page.get_by_role("alert")).to_contain_text("この医療機関の職員のログインIDでログインしてください")
    expect(page.get_by_role("link", name="資格確認をする")).to_have_count(0)
    # Signed in on their own pharmacy's tablet URL, then the clinic's counter URL opened there.
    page.goto(pharmacy["reception_urls"]["outpatient"])
    sign_in_at_the_counter(page, stranger)
    expect(page.get_by_role("button", name="受付モード")).to_be_visible()
    answer = page.goto(clinic["reception_url"])
    assert answer.status == 403
    expect(page.locator("main")).to_contain_text("この端末でログインしている職員の医療機関の受付ではありません")
    expect(page.get_by_role("link", name="資格確認をする")).to_have_count(0)


def test_the_console_lists_the_confirmation_as_qualification_and_shows_the_qualification_alone(
        tablet_page, clinic, sandbox, staff_page):
    page = tablet_page
    page.goto(clinic["reception_url"])
    sign_in_at_the_counter(page, next(s for s in clinic["staff"] if s["role"] == "clerk"))
    with card_in(page, sandbox) as card:
        confirm(page, card.person)
        name = card.person["name"]

    for role in ("pharmacist", "clerk", "admin"):
        console = staff_page(role, institution=clinic)
        expect(console.locator("main")).to_contain_text("この医療機関等は資格確認限定型です")
        row = console.locator("tr", has=console.get_by_role("link", name=name))
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text(re.compile(r"^\d\d:\d\d$"))  # the time of the confirmation
        expect(cells.nth(6)).to_have_text("資格確認")  # 診療区分's column
        expect(row).not_to_contain_text("オンライン診療等")
        expect(row).not_to_contain_text("外来")
        open_patient(console, name)
        qualification = console.locator("section", has=console.get_by_role("heading", name="資格情報", exact=True))
        expect(qualification).to_contain_text("保険者番号")
        main = console.locator("main")
        for absent in ("項目ごとの同意", "0：同意なし", "同意の取消", "閲覧できません", "診療区分", "確認事項"):
            expect(main).not_to_contain_text(absent)
        expect(console.get_by_role("button", name="この同意を取り消す")).to_have_count(0)
        for heading in ("限度額", "薬剤情報", "特定健診情報"):
            expect(console.get_by_role("heading", name=heading, exact=True)).to_have_count(0)
        if role == "pharmacist":
            assert_accessible(console, "console patient page of a confirmation")
        assert console.console.errors == [], role
