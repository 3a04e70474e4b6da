"""The pharmacist console in real Chromium, next to a patient on a phone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from consent.clock import JST
from e2e.test_reception import register


def open_patient(page, name: str):
    page.goto("/pharmacy/")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_patient_appears_without_reload_and_pharmacist_reads_drugs_and_checkups(
        phone_page, sandbox, pharmacy, signed_in_pharmacist):
    from e2e.virtual_card import install_card

    # 58 years old, in the 特定健診 age range; seed 5 gives checkups and years of prescriptions.
    person = sandbox.patient(birth_date="1968-05-20", validity=1, seed=5)
    install_card(phone_page, sandbox.card(person["person_id"]), person=person)
    console = signed_in_pharmacist
    name = person["name"]
    expect(console.get_by_role("link", name=name)).to_have_count(0)
    register(phone_page, pharmacy)
    # The list refreshes itself: no reload here.
    expect(console.get_by_role("link", name=name)).to_be_visible(timeout=15_000)
    console.get_by_role("link", name=name).click()
    for heading in ("資格情報", "限度額", "薬剤情報", "特定健診情報"):
        expect(console.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(console.locator("main")).not_to_contain_text("閲覧できません")
    drug = console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drug.locator("tbody tr").first).to_be_visible()
    expect(drug).to_contain_text("閲覧期限")
    checkup = console.locator("section", has=console.get_by_role("heading", name="特定健診情報", exact=True))
    expect(checkup.locator("table")).to_be_visible()
    assert console.console.errors == []


def test_clerk_sees_qualification_and_is_refused_drugs(phone_page, nfc_card, pharmacy, staff_page):
    register(phone_page, pharmacy)
    clerk = staff_page("clerk")
    open_patient(clerk, nfc_card.person["name"])
    qualification = clerk.locator("section", has=clerk.get_by_role("heading", name="資格情報", exact=True))
    expect(qualification).to_contain_text("保険者番号")
    drug = clerk.locator("section", has=clerk.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drug).to_contain_text("閲覧できません：有資格者のみ閲覧できます")


def test_other_pharmacy_cannot_reach_the_patient(phone_page, nfc_card, pharmacy, sandbox, staff_page):
    register(phone_page, pharmacy)
    mine = staff_page("pharmacist")
    open_patient(mine, nfc_card.person["name"])
    url = mine.url
    stranger = staff_page("pharmacist", institution=sandbox.institution())
    response = stranger.goto(url)
    assert response.status == 404
    expect(stranger.locator("main")).not_to_contain_text(nfc_card.person["name"])


def test_refusals_after_the_window_and_after_a_revoke(phone_page, nfc_card, pharmacy, staff_page, sandbox_clock):
    register(phone_page, pharmacy)
    console = staff_page("pharmacist")
    open_patient(console, nfc_card.person["name"])
    patient_url = console.url
    today = datetime.now(timezone.utc).astimezone(JST).date()
    end = datetime.combine(today + timedelta(days=2), datetime.min.time(), JST)
    sandbox_clock.set_clock(end.isoformat())
    console.goto(patient_url)
    nxt = today + timedelta(days=1)
    expect(console.locator("main")).to_contain_text(
        f"閲覧できません：薬剤・処方の同意有効期限切れ（{nxt.year}年{nxt.month}月{nxt.day}日 23:59まで）")
    sandbox_clock.reset_clock()

    phone_page.goto(pharmacy["reception_url"])
    phone_page.get_by_role("link", name="すべての同意を取消す").click()
    phone_page.get_by_role("button", name="読み取り開始").click()
    phone_page.get_by_role("button", name="取り消す").click()
    expect(phone_page.get_by_role("heading", name="同意を取り消しました")).to_be_visible()
    console.goto(patient_url)
    expect(console.locator("main")).to_contain_text("閲覧できません：薬剤・処方の同意が取り消されました")


def test_patient_sees_who_read_what(phone_page, nfc_card, pharmacy, staff_page):
    register(phone_page, pharmacy)
    clerk = staff_page("clerk")
    open_patient(clerk, nfc_card.person["name"])
    phone_page.goto(pharmacy["reception_url"])
    phone_page.get_by_role("link", name="同意照会・更新").click()
    phone_page.get_by_role("button", name="読み取り開始").click()
    # The clerk read the qualification; their attempt at 薬剤・処方 was refused and is listed apart.
    reads = phone_page.get_by_role("list", name="閲覧の記録", exact=True)
    expect(reads).to_contain_text("事務が「資格情報」を閲覧しました")
    expect(reads).not_to_contain_text("薬剤・処方")
    refused = phone_page.get_by_role("list", name="閲覧できなかった記録")
    expect(refused).to_contain_text("事務の「薬剤・処方」：薬剤師など資格のある人だけが見られる情報のため")


def test_staff_adds_a_passkey_and_signs_in_with_it(signed_in_pharmacist):
    page = signed_in_pharmacist
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]
    try:
        page.get_by_role("link", name="パスキー").click()
        page.get_by_role("button", name="パスキーを追加").click()
        expect(page.get_by_role("status").filter(has_text="パスキーを追加しました")).to_be_visible(timeout=15_000)
        page.get_by_role("button", name="ログアウト").click()
        expect(page.get_by_label("ログインID")).to_be_visible()
        page.get_by_role("button", name="パスキーでログイン").click()
        expect(page.get_by_role("heading", name="同意取得済み患者一覧")).to_be_visible(timeout=15_000)
        assert page.console.errors == []
    finally:
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})


def test_pharmacist_sees_each_category_and_ends_the_consent_after_confirming(phone_page, nfc_card, pharmacy,
                                                                            staff_page):
    register(phone_page, pharmacy, labels=["薬剤・処方", "限度額"])
    console = staff_page("pharmacist")
    open_patient(console, nfc_card.person["name"])
    states = console.locator("section", has=console.get_by_role("heading", name="項目ごとの同意"))
    expect(states.get_by_role("row", name="薬剤・処方")).to_contain_text("1：同意あり")
    expect(states.get_by_role("row", name="限度額")).to_contain_text("期限なし")
    expect(states.get_by_role("row", name="特定健診")).to_contain_text("0：同意なし（同意の対象外）")
    # The items (2025) follow the categories chosen: 薬剤・処方 covers 処方情報 alone.
    items = states.get_by_role("table").filter(has_text="処方情報")
    expect(items.get_by_role("row", name="処方情報")).to_contain_text("1：同意あり")
    for item in ("傷病名", "感染症", "その他アレルギー等", "薬剤アレルギー等", "検査"):
        expect(items.get_by_role("row", name=item)).to_contain_text("0：同意なし")

    console.get_by_label("利用目的の変更").check()
    console.get_by_role("button", name="この同意を取り消す").click()
    expect(console.get_by_role("heading", name="同意の取消", level=1)).to_be_visible()
    expect(console.locator("main")).to_contain_text("取消の理由：利用目的の変更")
    console.get_by_role("button", name="取り消す").click()
    expect(console.locator("main")).to_contain_text("閲覧できません：限度額の同意が取り消されました")
    states = console.locator("section", has=console.get_by_role("heading", name="項目ごとの同意"))
    expect(states.get_by_role("row", name="薬剤・処方")).to_contain_text("利用目的の変更")
    # 限度額's flag is 0 or 1 only: 0 once revoked, worded from its reason - never 「同意の対象外」.
    limit = states.get_by_role("row", name="限度額")
    expect(limit).to_contain_text("0：同意なし（取消）")
    expect(limit).to_contain_text("利用目的の変更")
    expect(limit).not_to_contain_text("同意の対象外")
    expect(states.get_by_role("row", name="処方情報")).to_contain_text("2：同意有効期限切れ（取消）")
    expect(console.get_by_role("button", name="この同意を取り消す")).to_have_count(0)
    assert console.console.errors == []
