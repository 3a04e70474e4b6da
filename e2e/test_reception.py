"""The patient's reception flow on a phone, with a virtual NFC card, in real Chromium."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from consent.clock import JST

ALL_LABELS = ["薬剤・処方", "特定健診", "診療・アレルギー・検査", "手術・傷病名・感染症", "特定疾病療養受療証", "限度額"]


def deadline_for(day: date) -> str:
    nxt = day + timedelta(days=1)
    return f"{nxt.year}年{nxt.month}月{nxt.day}日 23:59まで"


def today_jst() -> date:
    return datetime.now(timezone.utc).astimezone(JST).date()


def no_horizontal_scroll(page, width=320):
    page.set_viewport_size({"width": width, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    # Touch targets: every visible button, button-styled link and checkbox row is at least 44 px tall.
    small = page.evaluate("""() => [...document.querySelectorAll('button, a.button, label.check, input[type=date]')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
        .map(e => e.textContent.trim() || e.outerHTML)""")
    assert small == [], (page.url, small)
    page.set_viewport_size({"width": 412, "height": 839})


def register(page, pharmacy, *, labels=None):
    page.goto(pharmacy["reception_url"])
    register_from_top(page, labels=labels)


def register_from_top(page, *, labels=None, date_asked: bool = True):
    """From the top page to 「同意登録が完了しました」, as the patient does it (the tablet does not
    ask for the 診療日: `date_asked=False` checks that)."""
    page.get_by_role("link", name="同意登録をする").click()
    if not date_asked:
        expect(page.get_by_label("診療日")).to_have_count(0)
    if labels is None:
        page.get_by_role("button", name="すべて同意する").click()
    else:
        for label in labels:
            page.get_by_label(label).check()
        page.get_by_role("button", name="選択した項目で進む").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)


def test_whole_flow_with_all_categories(phone_page, nfc_card, pharmacy):
    page = phone_page
    page.goto(pharmacy["reception_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text(pharmacy["name"])
    no_horizontal_scroll(page)
    page.get_by_role("link", name="同意登録をする").click()
    date_field = page.get_by_label("診療日")
    assert date_field.input_value() == today_jst().isoformat()
    no_horizontal_scroll(page)
    page.get_by_role("button", name="すべて同意する").click()

    confirm = page.locator("main")
    for label in ALL_LABELS:
        expect(confirm.get_by_text(label, exact=True)).to_be_visible()
    no_horizontal_scroll(page)
    page.get_by_role("button", name="読み取り開始").click()

    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)
    main = page.locator("main")
    expect(main).to_contain_text(pharmacy["name"])
    expect(main).to_contain_text("閲覧期限")
    expect(main).to_contain_text(deadline_for(today_jst()))
    expect(main).to_contain_text(f"{nfc_card.person['name']} 様のカードで登録しました")
    no_horizontal_scroll(page)
    assert page.console.errors == []


def test_chosen_categories_only_and_none_is_refused(phone_page, nfc_card, pharmacy):
    page = phone_page
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_role("button", name="選択した項目で進む").click()
    expect(page.get_by_role("alert")).to_contain_text("1つ以上選んでください")
    page.get_by_label("薬剤・処方").check()
    page.get_by_label("限度額").check()
    page.get_by_role("button", name="選択した項目で進む").click()
    main = page.locator("main")
    expect(main.get_by_text("薬剤・処方", exact=True)).to_be_visible()
    expect(main.get_by_text("限度額", exact=True)).to_be_visible()
    expect(main.get_by_text("特定健診", exact=True)).to_have_count(0)
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)


def test_past_and_far_dates_are_refused(phone_page, pharmacy):
    page = phone_page
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_label("診療日").fill((today_jst() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="すべて同意する").click()
    expect(page.get_by_role("alert")).to_contain_text("過去の日付")
    page.get_by_label("診療日").fill((today_jst() + timedelta(days=31)).isoformat())
    page.get_by_role("button", name="すべて同意する").click()
    expect(page.get_by_role("alert")).to_contain_text("30日後まで")


def test_appointment_link_fixes_the_date(phone_page, nfc_card, pharmacy):
    day = today_jst() + timedelta(days=3)
    page = phone_page
    page.goto(f"{pharmacy['reception_url']}?date={day.isoformat()}")
    page.get_by_role("link", name="同意登録をする").click()
    field = page.get_by_label("診療日")
    assert field.input_value() == day.isoformat()
    assert field.get_attribute("readonly") is not None
    page.get_by_role("button", name="すべて同意する").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.locator("main")).to_contain_text(deadline_for(day), timeout=15_000)


def open_review(page, pharmacy):
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="同意照会・更新").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意の内容")).to_be_visible(timeout=15_000)


def test_review_shows_and_changes_the_consent(phone_page, nfc_card, pharmacy):
    page = phone_page
    register(page, pharmacy)
    open_review(page, pharmacy)
    section = page.locator("section.card")
    expect(section).to_have_count(1)
    expect(section).to_contain_text("有効")
    expect(section).to_contain_text("特定健診")
    section.get_by_label("特定健診").uncheck()
    section.get_by_label("手術・傷病名・感染症").uncheck()
    section.get_by_role("button", name="変更する").click()
    expect(page.get_by_role("status").filter(has_text="変更しました")).to_be_visible()
    dd = page.locator("section.card > dl.fields")  # the consent's summary (each category's state below it)
    expect(dd).not_to_contain_text("特定健診")
    expect(dd).to_contain_text("薬剤・処方")
    expect(page.locator("main")).to_contain_text("まだ閲覧されていません")


def test_revoke_all(phone_page, nfc_card, pharmacy):
    page = phone_page
    register(page, pharmacy)
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="すべての同意を取消す").click()
    page.get_by_role("button", name="読み取り開始").click()
    page.get_by_role("button", name="取り消す").click()
    expect(page.get_by_role("heading", name="同意を取り消しました")).to_be_visible()
    # Pressing back and 「取り消す」 again does not fail or revoke anything new.
    page.go_back()
    if page.get_by_role("button", name="取り消す").count():
        page.get_by_role("button", name="取り消す").click()
        expect(page.get_by_role("alert")).to_be_visible()
    open_review(page, pharmacy)
    expect(page.locator("section.card")).to_contain_text("取消")


def test_a_double_tapped_revoke_says_already_revoked(phone_page, nfc_card, pharmacy):
    page = phone_page
    register(page, pharmacy)
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="すべての同意を取消す").click()
    page.get_by_role("button", name="読み取り開始").click()
    button = page.get_by_role("button", name="取り消す")
    expect(button).to_be_visible(timeout=15_000)
    button.dblclick()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("すでに取り消されています|同意を取り消しました"))
    expect(page.locator("main")).not_to_contain_text("0件")
    page.reload()  # what a second tap after the first answer sees
    expect(heading).to_have_text("すでに取り消されています")
    page.go_back()
    expect(heading).to_have_text("すでに取り消されています")
    expect(page.get_by_role("button", name="取り消す")).to_have_count(0)
    assert page.console.errors == []


def test_nothing_to_revoke_shows_no_button(phone_page, nfc_card, pharmacy):
    page = phone_page
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="すべての同意を取消す").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="取り消せる同意はありません")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="取り消す")).to_have_count(0)
    expect(page.locator("main").get_by_role("link", name="同意照会・更新")).to_be_visible()


@pytest.mark.parametrize(
    "status, words", [("expired", "有効期限が切れています"), ("revoked", "失効しています"), ("locked", "ロックされています")]
)
def test_card_in_a_bad_state_at_reception(phone_page, nfc_card, sandbox, pharmacy, status, words):
    sandbox.card_status(nfc_card.card_id, status)
    page = phone_page
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_role("button", name="すべて同意する").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("alert").filter(has_text=words)).to_be_visible(timeout=15_000)
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_have_count(0)


def test_invalid_qualification_still_registers_and_says_whom_to_ask(phone_page, sandbox, pharmacy):
    from e2e.virtual_card import install_card

    person = sandbox.patient(validity=2)
    card = install_card(phone_page, sandbox.card(person["person_id"]), person=person)
    try:
        register(phone_page, pharmacy)
        expect(phone_page.get_by_role("alert")).to_contain_text("保険者")
    finally:
        card.remove()


def test_reload_and_back_never_duplicate_or_lose_the_consent(phone_page, nfc_card, pharmacy):
    page = phone_page
    page.goto(pharmacy["reception_url"])
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_role("button", name="すべて同意する").click()
    # Wait until the submission has landed: reloading mid-navigation detaches the page.
    expect(page.get_by_role("heading", name="内容の確認")).to_be_visible()
    page.reload()  # reload on the confirmation page keeps the choice
    expect(page.get_by_role("heading", name="内容の確認")).to_be_visible()
    expect(page.get_by_role("button", name="読み取り開始")).to_be_visible()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)
    page.reload()  # the session ended: a calm page that says the consent stands
    expect(page.get_by_role("heading", name="同意は登録済みです")).to_be_visible()
    # Back to the confirmation page and to the form: never a blank form that would replace it.
    for _ in range(2):
        page.go_back()
        expect(page.get_by_role("heading", name="同意は登録済みです")).to_be_visible()
        expect(page.get_by_role("button", name="すべて同意する")).to_have_count(0)
        expect(page.get_by_role("button", name="読み取り開始")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="同意は登録済みです")).to_be_visible()
    page.get_by_role("link", name="同意照会・更新").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意の内容")).to_be_visible(timeout=15_000)
    expect(page.locator("section.card")).to_have_count(1)
    # Starting again from the top is a deliberate new registration: the same date updates the
    # one consent in place.
    register(page, pharmacy)
    open_review(page, pharmacy)
    expect(page.locator("section.card")).to_have_count(1)


def test_old_reception_url_is_gone(phone_page, live_server, pharmacy):
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "APP_ENV": "sandbox", "DATABASE_URL": live_server.database_url,
           "ORIGINS": live_server.url, "SECRET_KEY": "x" * 64}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "reception", "rotate",
                          pharmacy["institution_code"]], cwd=root, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    response = phone_page.goto(pharmacy["reception_url"])
    assert response.status == 410
    expect(phone_page.get_by_role("alert")).to_contain_text("このURLは現在使用できません")
    new_url = out.stdout.strip().splitlines()[-1]
    assert phone_page.goto(new_url).status == 200
