"""「資格確認書で確認」 in real Chromium: a patient who holds only a 資格確認書 (the sandbox's `"card":
false`) is refused at the card read, then confirmed from the document on the tablet and in the
console's 「訪問患者」; the page shows the qualification and says no data can be read that way, and
why; the console lists the confirmation and refuses every data section. Each page passes axe."""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from e2e.accessibility import assert_accessible
from e2e.fixtures import confirm_by_certificate
from e2e.test_reception import no_horizontal_scroll
from e2e.virtual_card import install_card
from consent.wareki import wareki_date

NO_DATA = "資格確認書での確認では薬剤情報などは閲覧できません"
WHY = "薬剤情報や特定健診情報などの提供への同意は、マイナンバーカードでしか行えません"
LISTED = "資格確認書で確認（資格情報のみ）"


def wareki(iso: str) -> str:
    """A birth date as printed on the document, in 和暦 (「昭和33年7月7日」)."""
    return wareki_date(date.fromisoformat(iso))


def test_the_card_is_refused_and_the_tablet_confirms_from_the_certificate(
        signed_in_tablet, certificate_holder, sandbox, staff_page):
    person = certificate_holder
    tablet = signed_in_tablet("outpatient")
    page = tablet.page
    # Her card is not registered for health insurance use: the card read says what to do.
    card = sandbox.card(person["person_id"])
    install_card(page, card, person=person)
    page.get_by_role("link", name="同意登録をする").click()
    page.get_by_role("button", name="すべて同意する").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("alert")).to_contain_text("健康保険証としての利用登録がされていません", timeout=15_000)
    expect(page.get_by_role("alert")).to_contain_text("資格確認書")
    assert page.console.errors == ["Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"]
    page.console.errors.clear()  # the refused read itself

    tablet.start()
    # A wrong birth date is "not found", as the 再照会 answers it.
    confirm_by_certificate(page, person, birth_date="1900-01-01")
    expect(page.get_by_role("alert")).to_contain_text("該当する方が見つかりませんでした")
    assert_accessible(page, "資格確認書で確認（該当なし）")
    page.console.errors.clear()  # the 404 itself
    page.get_by_label("生年月日").fill(wareki(person["birth_date"]))
    page.get_by_role("button", name="資格を確認する").click()

    expect(page.get_by_role("heading", name="資格確認書で資格を確認しました")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text(person["name"])
    expect(main).to_contain_text(person["insurer_number"])
    expect(main).to_contain_text("1：有効")
    expect(page.get_by_role("status")).to_contain_text(NO_DATA)
    expect(main).to_contain_text(WHY)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_accessible(page, "資格確認書で資格を確認しました")
    no_horizontal_scroll(page, width=390)
    # The next patient sees nothing of her.
    page.get_by_role("link", name="次の方の受付へ").click()
    expect(page.get_by_role("link", name="同意登録をする")).to_be_visible()
    expect(main).not_to_contain_text(person["name"])
    assert page.console.errors == []

    console = staff_page("clerk", institution=tablet.institution)
    row = console.locator("tr", has=console.get_by_role("link", name=person["name"]))
    expect(row).to_contain_text(LISTED)
    expect(row).to_contain_text("有効")
    console.get_by_role("link", name=person["name"]).click()
    qualification = console.locator("section", has=console.get_by_role("heading", name="資格情報", exact=True))
    expect(qualification).to_contain_text(person["insurer_number"])
    expect(console.get_by_role("alert")).to_contain_text(f"閲覧できません：{NO_DATA}")
    for heading in ("限度額", "薬剤情報", "特定健診情報"):
        expect(console.get_by_role("heading", name=heading, exact=True)).to_have_count(0)
    assert_accessible(console, "患者ページ（資格確認書）")
    assert console.console.errors == []


def test_the_home_visit_console_confirms_from_the_certificate(certificate_holder, staff_page):
    person = certificate_holder
    console = staff_page("pharmacist")
    console.goto("/pharmacy/home-visits")
    assert_accessible(console, "訪問患者")
    confirm_by_certificate(console, person, birth_date=wareki(person["birth_date"]))
    expect(console.get_by_role("heading", name="資格確認書で確認した結果")).to_be_visible()
    expect(console.locator("main")).to_contain_text(person["name"])
    expect(console.get_by_role("status")).to_contain_text(NO_DATA)
    expect(console.locator("main")).to_contain_text(WHY)
    assert_accessible(console, "資格確認書で確認した結果")

    console.get_by_role("link", name="訪問患者の一覧に戻る").click()
    listed = console.locator("#certificate-list")
    expect(listed).to_contain_text(person["name"])
    expect(listed).to_contain_text("確認")
    listed.get_by_role("link", name=person["name"]).click()
    # A licensed pharmacist too: nothing but the qualification, with the reason.
    expect(console.get_by_role("alert")).to_contain_text(f"閲覧できません：{NO_DATA}")
    expect(console.get_by_role("heading", name="薬剤情報", exact=True)).to_have_count(0)
    assert console.console.errors == []
