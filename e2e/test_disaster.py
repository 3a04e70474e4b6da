"""The disaster measure (災害時特別措置) in real Chromium: a pharmacist of a pharmacy inside a declared
disaster finds a patient without the card and reads their data after recording oral consent (the
real 災害時 screen's choices: 「口頭で同意を得た」 or 「同意なし」); a clerk is refused; the patient later
sees the reads, with the consent recorded, in 同意照会・更新's 閲覧の記録."""
from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from consent.clock import JST
from e2e.test_reception import open_review


def _declare_over(sandbox, pharmacy) -> int:
    # The area is this test's own pharmacy: other tests' pharmacies (same server) stay outside.
    now = datetime.now(JST)
    return sandbox.disaster(name="E2E訓練地震", institution_codes=[pharmacy["institution_code"]],
                            start=(now - timedelta(hours=1)).isoformat(), until=(now + timedelta(days=1)).isoformat())


def test_a_pharmacist_reads_without_the_card_and_the_patient_sees_it(
        phone_page, nfc_card, sandbox, pharmacy, staff_page):
    _declare_over(sandbox, pharmacy)
    person = nfc_card.person
    console = staff_page("pharmacist")
    console.goto("/pharmacy/")
    expect(console.locator("header")).to_contain_text("災害時特別措置（実施中）：E2E訓練地震")
    console.get_by_role("link", name="災害時閲覧").click()
    expect(console.get_by_role("heading", name="災害時閲覧", level=1)).to_be_visible()
    console.get_by_label("保険者番号").fill(person["insurer_number"])
    console.get_by_label("記号").fill(person["symbol"] or "")
    console.get_by_label("番号", exact=True).fill(person["number"])
    console.get_by_label("枝番").fill(person["branch"] or "")
    by_numbers = console.locator("section", has=console.get_by_role("heading", name="保険証・資格確認書等の番号で探す"))
    by_numbers.get_by_label("生年月日").fill(person["birth_date"])  # required with the numbers (issue 31)
    console.get_by_role("button", name="番号で探す").click()
    found = console.locator("section", has=console.get_by_role("heading", name="該当した方"))
    expect(found).to_contain_text(person["name"])
    expect(found.get_by_role("button", name="同意なし", exact=True)).to_be_visible()
    expect(found).not_to_contain_text("同意取得困難")
    console.get_by_role("button", name="口頭で同意を得た").click()
    for heading in ("資格情報", "薬剤情報", "特定健診情報"):
        expect(console.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(console.locator("main")).to_contain_text("記録した同意：口頭で同意を得た")
    expect(console.locator("main")).not_to_contain_text("閲覧できません")
    qualification = console.locator("section", has=console.get_by_role("heading", name="資格情報", exact=True))
    expect(qualification).to_contain_text(person["insurer_number"])
    assert console.console.errors == []

    open_review(phone_page, pharmacy)
    log = phone_page.get_by_role("list", name="閲覧の記録", exact=True)
    expect(log.get_by_role("listitem").filter(has_text="災害時特別措置による閲覧")).to_have_count(3)
    expect(log.get_by_role("listitem").filter(has_text="同意の記録：口頭で同意を得た")).to_have_count(3)
    expect(log).to_contain_text("薬剤・処方")


def test_a_clerk_is_refused_the_disaster_read(sandbox, pharmacy, staff_page):
    _declare_over(sandbox, pharmacy)
    clerk = staff_page("clerk")
    clerk.goto("/pharmacy/")
    expect(clerk.locator("header")).to_contain_text("災害時特別措置（実施中）")
    expect(clerk.get_by_role("link", name="災害時閲覧")).to_have_count(0)
    clerk.goto("/pharmacy/disaster")
    expect(clerk.get_by_role("alert")).to_have_text("閲覧できません：有資格者のみ閲覧できます")
    expect(clerk.get_by_role("button", name="番号で探す")).to_have_count(0)
