"""Issue 36 in real Chromium: what a patient reads, at the size of the device they hold (a 390 px
phone; the institution's tablet), each defect of the walkthrough reproduced and checked fixed, the
institution's contact on every page, a card that never answers, and axe-core's WCAG A/AA check
of every patient page."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone

import pytest
from playwright.sync_api import expect

from consent.clock import JST
from consent.vocabulary import (
    CARD_POSITION_COUNTER, CARD_POSITION_TABLET, CATEGORY_NOTES, NEXT_STEP_TABLET, NEXT_STEP_WAIT,
    PERIOD_HOME_VISIT_NO_LAPSE,
    PERIOD_QUALIFICATION_ONLY, PERIOD_WINDOWED,
)
from e2e.accessibility import assert_accessible
from e2e.fixtures import PHONE, ConsoleWatch
from e2e.test_reception import open_review, register, register_from_top
from e2e.virtual_card import install_card

PHONE_390 = {"width": 390, "height": 844}
PHONE_NUMBER, PRIVACY_URL = "03-1234-5678", "https://example.jp/privacy"


@contextmanager
def phone_390(browser, playwright, base_url):
    """A phone page 390 px wide (a small phone: the issue's size), touch, Japanese locale and zone."""
    device = {**playwright.devices[PHONE], "viewport": PHONE_390}
    device.pop("default_browser_type", None)
    context = browser.new_context(**device, base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.console = ConsoleWatch(page)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def small_phone(browser, playwright, base_url):
    with phone_390(browser, playwright, base_url) as page:
        yield page


@pytest.fixture
def clinic(sandbox):
    """A pharmacy with its phone number and privacy notice set (PATCH /sandbox/institutions/<code>)."""
    made = sandbox.institution(phone=PHONE_NUMBER)
    return {**made, **sandbox.change_institution(made["institution_code"], privacy_url=PRIVACY_URL)}


@pytest.fixture
def card_390(small_phone, sandbox):
    person = sandbox.patient()
    virtual = install_card(small_phone, sandbox.card(person["person_id"]), person=person)
    try:
        yield virtual
    finally:
        virtual.remove()


def tomorrow_jst() -> date:
    return datetime.now(timezone.utc).astimezone(JST).date() + timedelta(days=1)


def at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), JST).isoformat()


def checked(page, where: str) -> None:
    """What every patient page owes: the institution's contact, no horizontal scroll at 390 px and
    at 320 px, and no WCAG A/AA violation (axe-core) at 390 px."""
    contact = page.get_by_label("お問い合わせ先")
    expect(contact.get_by_role("link", name=PHONE_NUMBER)).to_have_attribute("href", "tel:0312345678")
    expect(contact.get_by_role("link", name="個人情報の取り扱い")).to_have_attribute("href", PRIVACY_URL)
    for width in (320, 390):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (where, width)
    page.set_viewport_size(PHONE_390)
    assert_accessible(page, where)


def word_splits(page, word: str) -> list[str]:
    """The visible occurrences of `word` broken over two lines (a range with more than one line box)."""
    return page.evaluate("""(word) => {
        const broken = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            let at = node.data.indexOf(word);
            while (at >= 0) {
                const range = document.createRange();
                range.setStart(node, at); range.setEnd(node, at + word.length);
                const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (tops.size > 1) broken.push(node.parentElement.textContent.trim().slice(0, 60));
                at = node.data.indexOf(word, at + 1);
            }
        }
        return broken;
    }""", word)


# --- every patient page: contact, layout, axe ---------------------------------------------------


def test_every_patient_page_names_whom_to_ask_and_passes_axe_at_390px(small_phone, card_390, clinic):
    page = small_phone
    page.goto(clinic["reception_url"])
    checked(page, "top")
    page.get_by_role("link", name="同意登録をする").click()
    # One plain line per category, before choosing.
    for code, note in CATEGORY_NOTES.items():
        expect(page.locator(f"#note-{code}")).to_have_text(note)
    expect(page.get_by_label("限度額")).to_have_attribute("aria-describedby", "note-limit")
    checked(page, "consent")
    page.get_by_role("button", name="選択した項目で進む").click()  # nothing chosen: the error page of the form
    expect(page.get_by_role("alert")).to_be_visible()
    checked(page, "consent (error)")
    page.console.errors.clear()  # the form's 400 itself
    page.get_by_label("薬剤・処方").check()
    page.get_by_label("限度額").check()
    page.get_by_role("button", name="選択した項目で進む").click()
    expect(page.get_by_role("heading", name="内容の確認")).to_be_visible()
    checked(page, "confirm")
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)
    # What happens next: no appointment time, so the wait.
    expect(page.get_by_role("status").filter(has_text=NEXT_STEP_WAIT)).to_be_visible()
    checked(page, "done")
    page.reload()
    expect(page.get_by_role("heading", name="同意は登録済みです")).to_be_visible()
    checked(page, "done again")

    open_review(page, clinic)
    checked(page, "review")
    page.get_by_role("button", name="終了する").click()
    page.get_by_role("link", name="同意照会・更新").click()
    checked(page, "review start")
    page.goto(clinic["reception_url"])
    page.get_by_role("link", name="すべての同意を取消す").click()
    checked(page, "revoke start")
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意を取り消しますか")).to_be_visible(timeout=15_000)
    checked(page, "revoke confirm")
    page.get_by_role("button", name="取り消す").click()
    expect(page.get_by_role("heading", name="同意を取り消しました")).to_be_visible()
    checked(page, "revoked")

    assert page.console.errors == []
    # An error page of a patient URL: a stale form (400, CSRF).
    page.goto(clinic["reception_url"] + "/consent")
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'stale'")
    page.get_by_role("button", name="すべて同意する").click()
    expect(page.get_by_role("heading", name="ご利用いただけません")).to_be_visible()
    checked(page, "error 400")


def test_a_function_switched_off_and_the_qualification_only_reception(small_phone, card_390, clinic, sandbox):
    page = small_phone
    code = clinic["institution_code"]
    sandbox.change_institution(code, functions={"online": False})
    page.goto(clinic["reception_url"])
    expect(page.get_by_role("heading", name="この受付は現在行っていません")).to_be_visible()
    checked(page, "closed")
    page.console.errors.clear()  # the 404 itself
    sandbox.change_institution(code, functions={"online": True}, qualification_only=True)
    # The URL is now the institution's own device (here its smartphone): its staff sign in first.
    page.goto(clinic["reception_url"])
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    checked(page, "qualification-only staff login")
    clerk = next(s for s in clinic["staff"] if s["role"] == "clerk")
    page.get_by_label("ログインID").fill(clerk["login_id"])
    page.get_by_label("パスワード").fill(clerk["password"])
    page.get_by_role("button", name="ログイン", exact=True).click()
    checked(page, "qualification-only top")
    page.get_by_role("link", name="資格確認をする").click()
    expect(page.locator("main")).to_contain_text(PERIOD_QUALIFICATION_ONLY)
    expect(page.locator("main")).to_contain_text(CARD_POSITION_COUNTER)
    checked(page, "qualification-only read")
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="資格確認が完了しました")).to_be_visible(timeout=15_000)
    checked(page, "qualification-only done")
    assert page.console.errors == []


# --- defect 1: every entry point states its own period; defect 2: the tablet's own words ---------


def test_the_home_visit_tablet_states_the_home_visit_period_and_the_tablet_back(
        signed_in_tablet, tablet_card, sandbox_clock, sandbox):
    first = tomorrow_jst()
    sandbox_clock.set_clock(at(first, 10))
    tablet = signed_in_tablet("home_visit")
    page = tablet.page
    # The sandbox institution sets no lapse (the default): until 訪問終了 or 取消, no days named.
    home_visit_period = PERIOD_HOME_VISIT_NO_LAPSE
    page.get_by_role("link", name="同意登録をする").click()
    main = page.locator("main")
    expect(main).to_contain_text(home_visit_period)
    expect(main).not_to_contain_text("翌日")
    expect(main).not_to_contain_text("日たつと")
    page.get_by_role("button", name="すべて同意する").click()
    expect(main).to_contain_text(home_visit_period)
    expect(main).not_to_contain_text("翌日")
    # Defect 2: the card goes to the tablet, not to 「スマートフォンの背面」.
    expect(main).to_contain_text(f"カードを{CARD_POSITION_TABLET}にあて")
    expect(page.locator("body")).not_to_contain_text("スマートフォン")
    assert_accessible(page, "tablet confirm (home visit)")
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)
    expect(main).to_contain_text("訪問診療等が続く間")
    expect(page.get_by_role("status").filter(has_text=NEXT_STEP_TABLET)).to_be_visible()
    assert_accessible(page, "tablet done (home visit)")
    assert page.console.errors == []


@pytest.mark.parametrize("setting", ["outpatient", "house_call"])
def test_the_windowed_tablet_entry_points_state_the_day_after(signed_in_tablet, setting):
    page = signed_in_tablet(setting).page
    page.get_by_role("link", name="同意登録をする").click()
    expect(page.locator("main")).to_contain_text(PERIOD_WINDOWED)
    page.get_by_role("button", name="すべて同意する").click()
    expect(page.locator("main")).to_contain_text(PERIOD_WINDOWED)
    expect(page.locator("main")).to_contain_text(CARD_POSITION_TABLET)
    assert_accessible(page, f"tablet confirm ({setting})")


# --- defect 5: the revoke lists what the consent holds ------------------------------------------


def test_the_revoke_confirmation_lists_what_the_consent_holds(small_phone, card_390, clinic):
    page = small_phone
    held = ["薬剤・処方", "特定健診", "特定疾病療養受療証", "限度額"]
    register(page, clinic, labels=held)
    page.goto(clinic["reception_url"])
    page.get_by_role("link", name="すべての同意を取消す").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意を取り消しますか")).to_be_visible(timeout=15_000)
    effect = page.locator(".card", has_text="閲覧できなくなるもの")
    expect(effect.get_by_role("listitem")).to_have_text(held)
    expect(effect).not_to_contain_text("手術・傷病名・感染症")
    assert page.console.errors == []


# --- defect 6: 同意照会・更新 reads on a small phone -------------------------------------------


def test_the_review_reads_at_320_and_390px_without_broken_dates_or_words(small_phone, card_390, clinic, staff_page):
    page = small_phone
    register(page, clinic)
    # A read, so the log has a row too.
    console = staff_page("pharmacist", clinic)
    console.get_by_role("link", name=card_390.person["name"]).click()
    console.get_by_role("heading", name="薬剤情報", exact=True).wait_for()
    open_review(page, clinic)
    for width in (320, 390):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for word in ("閲覧", "同意しています", "同意していません", "期限なし"):
            assert word_splits(page, word) == [], (width, word)
        # Every date and time stays on one line (at most: date, then time on the next).
        lines = page.evaluate("""() => [...document.querySelectorAll('.state dd, .log-when')].map(e => {
            const lh = parseFloat(getComputedStyle(e).lineHeight);
            return [e.textContent.trim(), Math.round(e.getBoundingClientRect().height / lh)];
        }).filter(([text, n]) => /\\d{4}年/.test(text) && n > 2)""")
        assert lines == [], (width, lines)
    page.set_viewport_size(PHONE_390)
    assert page.console.errors == []


# --- defect 7: no doubled 「受付のはじめに戻る」 -----------------------------------------------------


def test_the_ended_reception_offers_the_way_back_once(small_phone, clinic):
    page = small_phone
    page.goto(clinic["reception_url"] + "/done")
    expect(page.get_by_role("heading", name="この受付は終了しています")).to_be_visible()
    expect(page.get_by_role("link", name="受付のはじめに戻る")).to_have_count(1)
    checked(page, "reception ended")


# --- a card that never answers ------------------------------------------------------------------


def test_a_card_that_never_answers_can_be_stopped_and_advice_comes_after_a_minute(small_phone, card_390, clinic):
    page = small_phone
    # The page's timers run on Playwright's clock: a minute passes without waiting for it.
    page.clock.install()
    page.goto(clinic["reception_url"])
    page.get_by_role("link", name="同意照会・更新").click()
    card_390.never_answer()
    advice_ms = int(page.locator("[data-card-read]").get_attribute("data-advice-ms"))
    assert advice_ms == 60_000
    page.get_by_role("button", name="読み取り開始").click()
    stop = page.get_by_role("button", name="読み取りをやめる")
    expect(stop).to_be_visible()
    expect(page.get_by_role("button", name="読み取り開始")).to_be_disabled()
    advice = page.locator("[data-advice]")
    page.clock.run_for(advice_ms - 1000)
    expect(advice).to_be_hidden()
    page.clock.run_for(1000)
    expect(advice).to_be_visible()
    expect(advice).to_contain_text("カードが読み取れていないようです")
    expect(advice).to_contain_text("ケースやカバーを外す")
    assert_accessible(page, "card read: advice")
    stop.click()
    expect(page.get_by_role("status").filter(has_text="読み取りをやめました")).to_be_visible()
    expect(stop).to_be_hidden()
    expect(advice).to_be_hidden()
    # The card answers again: 「読み取り開始」 works at once.
    card_390.cdp.send("WebAuthn.setAutomaticPresenceSimulation",
                      {"authenticatorId": card_390.authenticator_id, "enabled": True})
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意の内容")).to_be_visible(timeout=15_000)
    assert page.console.errors == []


def test_axe_reports_a_violation_when_there_is_one(small_phone):
    """The check above is not vacuous: the same helper finds a missing label and low contrast."""
    from e2e.accessibility import violations

    small_phone.set_content('<html lang="ja"><body><main><h1>t</h1><input type="checkbox">'
                            '<p style="color:#aaa;background:#fff">うすい文字</p></main></body></html>')
    assert {"label", "color-contrast"} <= {v["id"] for v in violations(small_phone)}


def test_after_done_an_appointments_time_says_when_the_call_comes(small_phone, card_390, clinic):
    """The appointment's reception link (「管理」's 予約, with its time) carries the time to the done page."""
    page = small_phone
    today = datetime.now(timezone.utc).astimezone(JST).date()
    page.goto(f"{clinic['reception_url']}?date={today.isoformat()}&time=14:30")
    page.get_by_role("link", name="同意登録をする").click()
    expect(page.locator("main")).to_contain_text("予約の時間は 14:30 です")
    page.get_by_role("button", name="すべて同意する").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status").filter(has_text="ご予約の時間は")).to_have_text(
        f"ご予約の時間は {today.month}月{today.day}日 14:30 です。その時間に、{clinic['name']}からの連絡をお待ちください。")
    expect(page.locator("main")).not_to_contain_text(NEXT_STEP_WAIT)
    checked(page, "done (appointment)")
    assert page.console.errors == []


def test_the_tablets_start_its_choice_and_its_exit_and_the_other_pages_pass_axe(signed_in_tablet, small_phone,
                                                                               live_server, clinic):
    tablet = signed_in_tablet("outpatient", institution=clinic)
    page = tablet.page
    assert_accessible(page, "tablet neutral start")
    page.get_by_role("link", name="同意登録をする").click()
    expect(page.locator("main")).to_contain_text(PERIOD_WINDOWED)
    assert_accessible(page, "tablet consent")
    page.get_by_role("link", name="受付モードを終了（職員用）").click()
    expect(page.get_by_role("heading", name="受付モードの終了")).to_be_visible()
    assert_accessible(page, "tablet leave")
    assert page.console.errors == []

    # The service's landing page and a URL that is no reception, at 390 px.
    small_phone.goto("/")
    assert_accessible(small_phone, "landing page")
    small_phone.goto("/r/no-such-reception")
    expect(small_phone.get_by_role("heading", name="ページが見つかりません")).to_be_visible()
    assert_accessible(small_phone, "404")
