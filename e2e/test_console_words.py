"""Issue 36's defects where patient and clerk meet, in real Chromium: an ended home-visit
relationship as the patient (phone, 390 px) and an API read it; a never-consented category neither
requested nor logged as a refused read, refused attempts apart in the patient's log; the
console's words (記号・番号・枝番, the disaster banner, 未委託 medical aid) and a clerk's 403 inside
the console - each console page touched checked with axe-core."""
from __future__ import annotations

import base64
import json
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from e2e.accessibility import assert_accessible
from e2e.test_home_visits import at, put_away, reinquire, tomorrow_jst
from e2e.test_patient_words import card_390, clinic, phone_390, small_phone  # noqa: F401 - fixtures
from e2e.test_reception import open_review, register
from e2e.test_tablet import register_on_tablet
from e2e.virtual_card import install_card


def api_consent(base_url: str, institution: dict, consent_id: str) -> dict:
    """GET /api/v1/consents/<id> with the institution's system client (client credentials)."""
    client = institution["api_client"]
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    token_request = urllib.request.Request(base_url + "/oauth/token", method="POST",
                                           data=urlencode({"grant_type": "client_credentials"}).encode(),
                                           headers={"Authorization": f"Basic {basic}"})
    with urllib.request.urlopen(token_request, timeout=30) as resp:
        token = json.loads(resp.read())["access_token"]
    read = urllib.request.Request(base_url + f"/api/v1/consents/{consent_id}",
                                  headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(read, timeout=30) as resp:
        return json.loads(resp.read())


# --- defect 3: after 訪問終了, when and why it ended, and no lapse ---------------------------------


def test_an_ended_relationship_shows_when_and_why_and_no_lapse(
        signed_in_tablet, tablet_card, sandbox_clock, sandbox, browser, playwright, base_url, pharmacy, staff_page):
    # The institution sets a lapse (none by default): after 訪問終了 it is no longer shown.
    sandbox.change_institution(pharmacy["institution_code"], home_visit_lapse_days=90)
    first = tomorrow_jst()
    sandbox_clock.set_clock(at(first, 10))
    tablet = signed_in_tablet("home_visit")
    register_on_tablet(tablet.page)
    put_away(tablet)
    name = tablet_card.person["name"]

    ended_day = first + timedelta(days=14)
    sandbox_clock.set_clock(at(ended_day, 15))
    console = staff_page("pharmacist")
    console.goto("/pharmacy/home-visits")
    row = console.locator("tr", has=console.get_by_role("link", name=name))
    consent_id = row.get_by_role("link", name=name).get_attribute("href").rstrip("/").split("/")[-1]
    row.get_by_role("button", name="訪問終了").click()
    console.get_by_role("button", name="訪問終了").click()
    expect(console.get_by_role("status")).to_contain_text("訪問終了を記録しました")
    console.goto(f"/pharmacy/consents/{consent_id}")
    expect(console.locator("main")).not_to_contain_text("訪問の記録がないままなら")
    assert_accessible(console, "console patient page (ended relationship)")

    assert api_consent(base_url, pharmacy, consent_id)["lapses_at"] is None

    # The patient, on their phone (390 px), with the same card.
    card = {**tablet_card.card, "sign_count": sandbox.get_card(tablet_card.card_id)["sign_count"]}
    with phone_390(browser, playwright, base_url) as page:
        phone = install_card(page, card, person=tablet_card.person)
        try:
            open_review(page, pharmacy)
            section = page.locator("section.card")
            expect(section).to_contain_text("取消")
            expect(section).to_contain_text(f"{ended_day.year}年{ended_day.month}月{ended_day.day}日 15:00")
            expect(section).to_contain_text("医療機関等による取消")
            expect(section).not_to_contain_text("訪問の記録がないままなら")
            expect(section.get_by_text("閲覧期限", exact=True)).to_have_count(0)
            assert_accessible(page, "review (ended relationship)")
            assert page.console.errors == []
        finally:
            phone.remove()


# --- defect 4: a category never consented to is not requested; refused attempts apart ----------


def test_a_drug_only_consent_is_not_asked_for_the_rest_and_the_patients_log_says_why_apart(
        small_phone, card_390, clinic, staff_page, sandbox_clock):
    page = small_phone
    register(page, clinic, labels=["薬剤・処方"])
    console = staff_page("pharmacist", clinic)
    console.get_by_role("link", name=card_390.person["name"]).click()
    checkup = console.locator("section", has=console.get_by_role("heading", name="特定健診情報", exact=True))
    limit = console.locator("section", has=console.get_by_role("heading", name="限度額", exact=True))
    for section in (checkup, limit):
        expect(section).to_contain_text("同意の対象外")
        expect(section).not_to_contain_text("閲覧できません")
        expect(section).not_to_contain_text("取り消され")
    assert_accessible(console, "console patient page (drug only)")
    patient_url = console.url

    open_review(page, clinic)
    log = page.get_by_role("list", name="閲覧の記録", exact=True)
    expect(log).to_contain_text("「薬剤・処方」を閲覧しました")
    expect(page.get_by_role("heading", name="閲覧できなかった記録")).to_have_count(0)
    page.get_by_role("button", name="終了する").click()

    # After the window: the pharmacist's next look is refused, and the patient sees it apart.
    sandbox_clock.set_clock(at(tomorrow_jst() + timedelta(days=1), 9))  # today's consent ended at midnight
    console.goto(patient_url)
    drug = console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drug).to_contain_text("閲覧できません")
    expect(checkup).to_contain_text("同意の対象外")
    open_review(page, clinic)
    expect(page.get_by_role("heading", name="閲覧できなかった記録")).to_be_visible()
    refused = page.get_by_role("list", name="閲覧できなかった記録")
    expect(refused).to_contain_text("「薬剤・処方」：閲覧期限後のため")
    expect(refused).not_to_contain_text("特定健診")
    expect(log).not_to_contain_text("閲覧期限後")
    assert_accessible(page, "review (a refused attempt)")


# --- defect 7: the console's words; defect 8: a clerk's 403 ------------------------------------


def person_without_symbol(sandbox) -> dict:
    """A synthetic patient whose insurance has no 記号 (many do: 国民健康保険, 後期高齢者)."""
    for _ in range(40):
        person = sandbox.patient()
        if not person.get("symbol"):
            return person
    pytest.fail("the sandbox made no patient without a 記号 in 40 tries")


def registered_in_a_phone(browser, playwright, base_url, sandbox, institution, person) -> None:
    """`person` registers every category at `institution` from a 390 px phone of their own."""
    with phone_390(browser, playwright, base_url) as page:
        card = install_card(page, sandbox.card(person["person_id"]), person=person)
        try:
            register(page, institution)
        finally:
            card.remove()


def test_the_console_writes_what_is_missing_and_names_the_disaster_area(
        sandbox, staff_page, browser, playwright, base_url):
    institution = sandbox.institution(name="ことば薬局")
    person = person_without_symbol(sandbox)
    # A medical-aid recipient whose ticket is not entrusted here (未委託: 有効（未登録）).
    aided = sandbox.patient(medical_aid=True, entrusted_institution_codes=[])
    for who in (person, aided):
        registered_in_a_phone(browser, playwright, base_url, sandbox, institution, who)

    console = staff_page("clerk", institution)
    console.get_by_role("link", name=person["name"]).click()
    keys = console.locator("dt", has_text="記号・番号・枝番").locator("xpath=following-sibling::dd[1]")
    expect(keys).to_have_text(f"記号なし・{person['number']}・{person['branch'] or '枝番なし'}")
    assert_accessible(console, "console patient page (clerk)")

    console.goto("/pharmacy/")
    console.get_by_role("link", name=aided["name"]).click()
    qualification = console.locator("section", has=console.get_by_role("heading", name="資格情報", exact=True))
    expect(qualification).to_contain_text("有効（未登録）")
    for dd in qualification.locator("dl.fields > dd").all():
        text = dd.inner_text().strip()
        assert text and text != "〜", qualification.inner_text()

    # A clerk opens 「管理」 and 「医療券・調剤券」: the console's own 403 page, its menu and the way back.
    console.goto("/pharmacy/admin")
    expect(console.get_by_role("heading", name="この画面は使えません")).to_be_visible()
    expect(console.get_by_role("navigation", name="メニュー")).to_be_visible()
    assert_accessible(console, "console 403")
    console.get_by_role("link", name="同意取得済み患者一覧に戻る").click()
    expect(console.get_by_role("heading", name="同意取得済み患者一覧")).to_be_visible()
    console.goto("/pharmacy/medical-aid/tickets")
    expect(console.get_by_role("heading", name="この画面は使えません")).to_be_visible()

    # The disaster banner names the institution, not its code (the area is this institution only).
    sandbox.disaster(name="ことば地震", start="2020-01-01T00:00:00+09:00", until="2099-01-01T00:00:00+09:00",
                     institution_codes=[institution["institution_code"]])
    console.goto("/pharmacy/")
    banner = console.locator(".disaster-banner")
    expect(banner).to_contain_text("対象 ことば薬局")
    expect(banner).not_to_contain_text(institution["institution_code"])
    # The list's 診療区分 select keeps its own width on a desktop row.
    width = console.get_by_label("診療区分").bounding_box()["width"]
    assert width < 300, width
    assert_accessible(console, "console list with the disaster banner")
