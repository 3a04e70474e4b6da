"""A 資格確認限定型 (qualification-only) institution in real Chromium: the patient confirms the
qualification on a phone with a virtual NFC card, and every role of the institution sees the
qualification and a refusal in place of the data sections."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.test_console import open_patient
from e2e.test_reception import no_horizontal_scroll

REFUSAL = "閲覧できません：資格確認限定型の医療機関等では、資格情報以外の情報"


@pytest.fixture
def clinic(sandbox):
    return sandbox.institution(name="健診クリニック 駅前", qualification_only=True)


def test_the_patient_confirms_the_qualification_and_every_role_is_refused_the_data(
        phone_page, nfc_card, clinic, staff_page):
    page = phone_page
    page.goto(clinic["reception_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text(clinic["name"])
    main = page.locator("main")
    expect(main).to_contain_text("健康保険の資格の確認だけ")
    expect(main).to_contain_text("それ以外の情報は提供されません")
    expect(page.get_by_role("link", name="同意登録をする")).to_have_count(0)
    no_horizontal_scroll(page)
    page.get_by_role("link", name="資格確認をする").click()
    expect(page.get_by_role("checkbox")).to_have_count(0)
    no_horizontal_scroll(page)
    page.get_by_role("button", name="読み取り開始").click()

    expect(page.get_by_role("heading", name="資格確認が完了しました")).to_be_visible(timeout=15_000)
    name = nfc_card.person["name"]
    expect(main).to_contain_text(f"{name} 様のカードで資格を確認しました")
    expect(main).to_contain_text("資格情報以外の情報は提供していません")
    expect(page.get_by_role("alert")).to_have_count(0)
    no_horizontal_scroll(page)

    # 同意照会・更新 shows the confirmation, with nothing to consent to.
    page.goto(clinic["reception_url"])
    page.get_by_role("link", name="同意照会・更新").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意の内容")).to_be_visible(timeout=15_000)
    expect(main).to_contain_text("資格確認のみ")
    expect(page.get_by_role("checkbox")).to_have_count(0)
    assert page.console.errors == []

    for role in ("pharmacist", "clerk", "admin"):
        console = staff_page(role, institution=clinic)
        expect(console.locator("main")).to_contain_text("この医療機関等は資格確認限定型です")
        row = console.locator("tr", has=console.get_by_role("link", name=name))
        expect(row).to_contain_text("資格確認のみ")
        expect(row).to_contain_text("有効")
        open_patient(console, name)
        qualification = console.locator("section", has=console.get_by_role("heading", name="資格情報", exact=True))
        expect(qualification).to_contain_text("保険者番号")
        expect(console.locator(".refusal")).to_have_count(1)
        expect(console.get_by_role("alert")).to_contain_text(REFUSAL)
        for heading in ("限度額", "薬剤情報", "特定健診情報"):
            expect(console.get_by_role("heading", name=heading, exact=True)).to_have_count(0)
        assert console.console.errors == [], role
