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
