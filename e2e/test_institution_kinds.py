"""The institution's kind fixes the words, in real Chromium: a clinic's doctor is no pharmacist."""
from __future__ import annotations

from playwright.sync_api import expect

from e2e.test_console import open_patient
from e2e.test_reception import register


def test_a_clinics_doctor_sees_the_medical_console_and_never_pharmacy_words(phone_page, nfc_card, sandbox,
                                                                             staff_page):
    clinic = sandbox.institution(kind="clinic")
    assert clinic["institution_code"][2] == "1"
    # The patient's page names the place as a 医療機関.
    phone_page.goto(clinic["reception_url"])
    expect(phone_page.locator("main")).to_contain_text("こちらの医療機関に")
    expect(phone_page.locator("main")).not_to_contain_text("薬局")
    register(phone_page, clinic)

    doctor = staff_page("pharmacist", institution=clinic)
    expect(doctor).to_have_title("同意取得済み患者一覧｜医療機関コンソール")
    banner = doctor.get_by_role("banner")
    expect(banner).to_contain_text("医療機関コンソール")
    expect(banner).to_contain_text(f"{clinic['name']}（医師）")
    for word in ("薬剤師", "薬局"):
        expect(doctor.locator("body")).not_to_contain_text(word)
    open_patient(doctor, nfc_card.person["name"])
    expect(doctor.get_by_role("banner")).to_contain_text("医療機関コンソール")
    expect(doctor.locator("body")).not_to_contain_text("薬剤師")
    expect(doctor.get_by_role("banner")).not_to_contain_text("薬局")

    # The clerk's refusal names the clinic's licensed role.
    clerk = staff_page("clerk", institution=clinic)
    open_patient(clerk, nfc_card.person["name"])
    drug = clerk.locator("section", has=clerk.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drug).to_contain_text("閲覧できません：有資格者（医師）のみ閲覧できます")


def test_a_visiting_nurse_station_records_a_first_visit_and_a_reinquiry_with_a_nurses_login(
        tablet_page, tablet_card, sandbox, sandbox_clock, staff_page):
    from datetime import timedelta

    from e2e.fixtures import open_tablet
    from e2e.test_home_visits import at, put_away, reinquire, tomorrow_jst
    from e2e.test_tablet import register_on_tablet

    station = sandbox.institution(kind="visiting_nurse")
    nurse = next(s for s in station["staff"] if s["role"] == "pharmacist")
    assert nurse["role_label"] == "看護師" and station["institution_code"][2] == "6"
    # Home visits only: the patient's-phone URL is closed.
    tablet_page.goto(station["reception_urls"]["online"])
    expect(tablet_page.get_by_role("heading", level=1)).to_have_text("この受付は現在行っていません")

    first = tomorrow_jst()
    sandbox_clock.set_clock(at(first, 10))
    tablet = open_tablet(tablet_page, station, setting="home_visit", role="pharmacist")
    expect(tablet.page.locator("main")).to_contain_text("こちらの医療機関に")
    register_on_tablet(tablet.page)
    name = tablet_card.person["name"]
    expect(tablet.page.locator("main")).to_contain_text("訪問診療等が続く間")
    put_away(tablet)

    # A week later at the patient's home, without the card: the nurse's 再照会 and the visit.
    later = first + timedelta(days=7)
    sandbox_clock.set_clock(at(later, 14))
    console = staff_page("pharmacist", institution=station)
    expect(console.get_by_role("banner")).to_contain_text("医療機関コンソール")
    expect(console.get_by_role("banner")).to_contain_text(f"{station['name']}（看護師）")
    reinquire(console, tablet_card.person)
    result = console.locator("main")
    expect(result).to_contain_text(name)
    expect(result).to_contain_text("1：有効")
    expect(result).to_contain_text("訪問中")
    console.get_by_role("button", name="訪問を記録").click()
    expect(console.get_by_role("status")).to_contain_text("訪問を記録しました")
    expect(console.locator("body")).not_to_contain_text("薬剤師")
