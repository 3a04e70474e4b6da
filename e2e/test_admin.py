"""「管理」 in real Chromium (issue 37): each page answers at its top (role="status", focused),
staff are added with a chosen role and stopped, restarted, reset and re-roled after confirming,
the URL rotation says which links stop and the old URL names the institution, appointments are
edited and deleted, the audit log filters and exports, and 一括照会 reads 和暦 and gives an .xlsx.
axe-core finds no WCAG A/AA violation on any of these pages."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

from playwright.sync_api import expect

from consent.clock import JST
from consent.vocabulary import LAPSE_RULE_NONE, lapse_rule_text
from consent.wareki import era_of, wareki_date
from e2e.accessibility import assert_accessible
from e2e.test_console import open_patient
from e2e.test_reception import register

LAPSE_LABEL = "訪問の記録がないまま終了するまでの日数（空欄＝終了しない、1〜3650日）"
ADMIN_PAGES = ("受付URL", "職員", "予約", "API連携", "環境設定", "監査ログ")


def admin_menu(page, label: str) -> None:
    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"管理：{label}")


def expect_message(page, text: str) -> None:
    """The answer is at the top of the page, said as a status, and has the focus."""
    message = page.get_by_role("status").filter(has_text=text)
    expect(message).to_be_visible()
    expect(message).to_be_focused()
    expect(message).to_be_in_viewport()  # seen without scrolling, not 2,780 px down
    # Before everything the page holds (its sections and forms).
    assert message.evaluate("(m) => { const first = document.querySelector('main section, main form');"
                            " return !first || !!(m.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING); }")


def test_every_admin_page_passes_axe_and_answers_at_the_top(staff_page):
    admin = staff_page("admin")
    admin.goto("/pharmacy/admin")
    for label in ADMIN_PAGES:
        admin_menu(admin, label)
        assert_accessible(admin, f"管理：{label}")
    admin_menu(admin, "環境設定")
    field = admin.get_by_label(LAPSE_LABEL)
    field.fill("45")
    admin.get_by_role("button", name="日数を保存").click()
    expect_message(admin, "保存しました。最後の訪問日から45日間、訪問の記録がないと同意は終了します")
    admin.get_by_label("電話番号（例: 03-1234-5678）").fill("03-1234-5678")
    admin.get_by_label("プライバシーポリシー（個人情報の取扱い）のURL").fill("https://example.jp/privacy")
    admin.get_by_role("button", name="連絡先を保存").click()
    expect_message(admin, "電話番号を03-1234-5678に")
    assert_accessible(admin, "環境設定（保存のあと）")
    assert admin.console.errors == []


def test_the_lapse_is_empty_by_default_and_each_save_says_what_it_means(staff_page):
    """環境設定's lapse (the project's own rule): empty = no lapse, or a number 1-3650; the save's
    message says which (issue 39)."""
    admin = staff_page("admin")
    admin.goto("/pharmacy/admin/settings")
    field = admin.get_by_label(LAPSE_LABEL)
    rule = admin.locator("#lapse-rule")
    expect(field).to_have_value("")
    expect(rule).to_contain_text(LAPSE_RULE_NONE)
    # 0 is no number of days here: the browser keeps the form and says why.
    field.fill("0")
    admin.get_by_role("button", name="日数を保存").click()
    assert field.evaluate("(f) => f.validity.rangeUnderflow")
    expect(rule).to_contain_text(LAPSE_RULE_NONE)
    field.fill("30")
    admin.get_by_role("button", name="日数を保存").click()
    expect_message(admin, "保存しました。" + lapse_rule_text(30))
    expect(admin.get_by_label(LAPSE_LABEL)).to_have_value("30")
    expect(rule).to_contain_text(lapse_rule_text(30))
    assert_accessible(admin, "環境設定（日数を保存したあと）")
    admin.get_by_label(LAPSE_LABEL).fill("")
    admin.get_by_role("button", name="日数を保存").click()
    expect_message(admin, "保存しました。訪問が途絶えても同意は失効しません。")
    expect(admin.get_by_label(LAPSE_LABEL)).to_have_value("")
    expect(rule).to_contain_text(LAPSE_RULE_NONE)
    assert_accessible(admin, "環境設定（空欄で保存したあと）")
    assert admin.console.errors == []


def test_staff_need_a_chosen_role_and_each_action_confirms_answers_and_is_audited(staff_page, base_url):
    admin = staff_page("admin")
    admin.goto("/pharmacy/admin/staff")
    admin.get_by_label("ログインID（半角英数字、3〜64文字）").fill("e2e-newcomer")
    admin.get_by_label("氏名").fill("新人 太郎")
    # No role chosen: the browser keeps the form (nothing is created as a pharmacist by default).
    admin.get_by_role("button", name="職員を追加").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("管理：職員")
    assert admin.locator("input[name=role]:checked").count() == 0
    assert admin.evaluate("() => document.querySelector('input[name=role]').validity.valueMissing")
    expect(admin.get_by_text("有資格者です。同意を得た患者さんの資格情報に加え")).to_be_visible()
    admin.get_by_role("radio", name="事務").check()
    admin.get_by_role("button", name="職員を追加").click()
    expect_message(admin, "e2e-newcomer（事務）を登録しました。初期パスワード：")
    password = admin.locator(".one-time-password").inner_text()
    assert len(password) >= 12
    assert_accessible(admin, "職員（追加のあと）")
    row = admin.locator("tr", has=admin.get_by_role("cell", name="e2e-newcomer", exact=True))

    # 利用停止: a confirmation page first, then the message, then 利用再開 is offered.
    row.get_by_role("link", name="利用停止").click()
    expect(admin.get_by_role("heading", name="e2e-newcomer（新人 太郎）を利用停止しますか")).to_be_visible()
    assert_accessible(admin, "利用停止の確認")
    admin.get_by_role("button", name="利用停止する").click()
    expect_message(admin, "e2e-newcomer（新人 太郎）を利用停止しました。")
    expect(row.get_by_role("cell", name="利用停止中")).to_be_visible()
    row.get_by_role("link", name="利用再開").click()
    admin.get_by_role("button", name="利用再開する").click()
    expect_message(admin, "e2e-newcomer（新人 太郎）を利用再開しました。")

    # パスワード再発行: a new one-time password, shown once.
    row.get_by_role("link", name="パスワード再発行").click()
    admin.get_by_role("button", name="パスワード再発行する").click()
    expect_message(admin, "e2e-newcomer（事務）のパスワードを再発行しました。")
    new_password = admin.locator(".one-time-password").inner_text()
    assert new_password != password
    admin.reload()
    expect(admin.locator(".one-time-password")).to_have_count(0)

    # Role change.
    row.get_by_label("e2e-newcomerの役割").select_option(label="薬剤師（有資格者）")
    row.get_by_role("button", name="役割を変更").click()
    expect_message(admin, "e2e-newcomer の役割を薬剤師（有資格者）に変更しました。")

    # Each change in the audit log.
    admin_menu(admin, "監査ログ")
    admin.get_by_label("種類").select_option(label="管理の操作")
    admin.get_by_role("button", name="絞り込む").click()
    table = admin.locator("#audit-entries")
    for label in ("職員の追加", "職員の利用停止", "職員の利用再開", "パスワード再発行", "役割の変更"):
        expect(table.get_by_role("cell", name=label, exact=True)).to_be_visible()
    expect(table.get_by_text("事務 → 薬剤師")).to_be_visible()
    assert admin.console.errors == []


def test_rotation_names_the_appointment_links_and_the_old_url_names_the_institution(
        staff_page, phone_page, pharmacy):
    admin = staff_page("admin")
    admin.goto("/pharmacy/admin/appointments")
    day = datetime.now(JST).date() + timedelta(days=3)
    admin.get_by_label("診療日", exact=True).fill(day.isoformat())
    admin.get_by_label("メモ（患者さんには表示されません）").fill("15時 オンライン")
    admin.get_by_role("button", name="予約を追加").click()
    expect_message(admin, "の予約を追加しました。")
    old_link = admin.locator(".appointment-link").first.get_attribute("href")

    admin_menu(admin, "受付URL")
    admin.get_by_role("link", name="URLを変更する", exact=True).click()
    expect(admin.get_by_role("heading", name="オンライン診療等（患者さんのスマートフォン）のURLを変更しますか")).to_be_visible()
    expect(admin.get_by_text("患者さんに送った予約の受付リンク：1件")).to_be_visible()
    expect(admin.get_by_role("cell", name="15時 オンライン")).to_be_visible()
    assert_accessible(admin, "URL変更の確認")
    admin.get_by_role("button", name="URLを変更する").click()
    expect_message(admin, "URLを変更しました。前のURLは使えません。")
    admin.get_by_role("link", name="予約の新しいリンクを見る（1件）").click()
    new_link = admin.locator(".appointment-link").first.get_attribute("href")
    assert new_link != old_link

    for gone in (pharmacy["reception_url"], old_link):
        response = phone_page.goto(gone)
        assert response.status == 410
        expect(phone_page.get_by_role("heading", level=1)).to_have_text("このURLは現在使用できません")
        expect(phone_page.get_by_role("alert")).to_contain_text(f"{pharmacy['name']}の受付URLは変更されました")
        expect(phone_page.get_by_text(f"新しい受付URLを{pharmacy['name']}にお問い合わせください")).to_be_visible()
    assert_accessible(phone_page, "古い受付URL")
    phone_page.goto(new_link)
    phone_page.get_by_role("link", name="同意登録をする").click()
    expect(phone_page.get_by_label("診療日")).to_have_value(day.isoformat())


def test_an_appointment_for_a_patient_is_edited_and_deleted_with_its_qr(staff_page):
    admin = staff_page("admin")
    admin.goto("/pharmacy/admin/appointments")
    day = datetime.now(JST).date() + timedelta(days=2)
    admin.get_by_label("診療日", exact=True).fill(day.isoformat())
    admin.get_by_label("フリガナ").fill("ヤマダ ハナコ")
    admin.get_by_label("生年月日（例: 1954-02-01、S29.2.1、昭和29年2月1日）").fill("S29.2.1")
    admin.get_by_role("button", name="予約を追加").click()
    expect_message(admin, "の予約を追加しました。")
    row = admin.locator("#appointments tr", has_text="ヤマダ ハナコ")
    expect(row).to_contain_text("1954年2月1日（昭和29年）")
    link = row.locator(".appointment-link").get_attribute("href")
    assert re.fullmatch(r"http://localhost:\d+/r/[A-Za-z0-9_-]+\?a=[A-Za-z0-9_-]+", link), link
    qr = row.get_by_role("img")
    expect(qr).to_have_attribute("alt", re.compile("予約の受付QRコード"))
    assert admin.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())

    row.get_by_role("link", name=re.compile("を変更$")).click()
    later = day + timedelta(days=1)
    admin.get_by_label("診療日", exact=True).fill(later.isoformat())
    admin.get_by_label("メモ（患者さんには表示されません）").fill("10時")
    assert_accessible(admin, "予約の変更")
    admin.get_by_role("button", name="変更を保存").click()
    expect_message(admin, f"予約を変更しました（診療日 {later.year}年{later.month}月{later.day}日）。受付リンクは変わりません。")
    row = admin.locator("#appointments tr", has_text="ヤマダ ハナコ")
    expect(row).to_contain_text("10時")
    assert row.locator(".appointment-link").get_attribute("href") == link

    row.get_by_role("link", name=re.compile("を削除$")).click()
    expect(admin.get_by_role("heading", name=re.compile("の予約を削除しますか"))).to_be_visible()
    admin.get_by_role("button", name="削除する").click()
    expect_message(admin, f"{later.year}年{later.month}月{later.day}日の予約を削除しました。")
    expect(admin.get_by_text("今後の予約はありません。")).to_be_visible()


def test_the_audit_log_filters_by_patient_and_decision_and_exports_a_csv(
        staff_page, phone_page, nfc_card, pharmacy):
    register(phone_page, pharmacy, labels=["薬剤・処方"])
    clerk = staff_page("clerk")
    open_patient(clerk, nfc_card.person["name"])  # 薬剤情報 refused to a clerk: audited

    admin = staff_page("admin")
    admin.goto("/pharmacy/admin/audit")
    expect(admin.locator("#chain-state")).to_contain_text("改ざんは見つかりませんでした")
    admin.get_by_label("患者さん（氏名・カナ）").fill(nfc_card.person["name"])
    admin.get_by_label("閲覧の結果").select_option(label="閲覧できなかった")
    admin.get_by_role("button", name="絞り込む").click()
    rows = admin.locator("#audit-entries tbody tr")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):
        expect(rows.nth(i)).to_contain_text("閲覧できなかった")
        expect(rows.nth(i)).to_contain_text(nfc_card.person["name"])
    expect(rows.filter(has_text="薬剤情報").first).to_be_visible()
    assert_accessible(admin, "監査ログ（絞り込み）")
    with admin.expect_download() as info:
        admin.get_by_role("link", name="この条件でCSVをダウンロード").click()
    raw = open(info.value.path(), "rb").read()
    assert raw.startswith("\ufeff".encode())
    cells = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert cells[0][:3] == ["番号", "日時", "操作"] and len(cells) - 1 == rows.count()
    assert all(row[7] == "閲覧できなかった" and row[5] == nfc_card.person["name"] for row in cells[1:])


def test_a_wareki_batch_row_gives_name_copay_and_an_xlsx_with_codes_as_text(staff_page, sandbox, tmp_path):
    from openpyxl import load_workbook

    # Born 昭和29年2月2日: not the messages' example S29.2.1, and under 75, so with 記号 and 枝番
    # (whose leading zero the xlsx keeps as text). A random patient was sometimes 75 or more
    # (後期高齢者医療, no 記号), and the CSV then said "None".
    person = sandbox.patient(birth_date="1954-02-02")
    born = date.fromisoformat(person["birth_date"])
    era = era_of(born)
    letter = f"{era.letter}{era.year_of(born)}.{born.month}.{born.day}"
    # 後期高齢者医療 (a patient of 75 or more, as the sandbox may make) has no 記号 and no 枝番: blank cells.
    keys = ",".join(person[key] or "" for key in ("insurer_number", "symbol", "number", "branch"))
    upload = tmp_path / "予約.csv"
    upload.write_text("保険者番号,記号,番号,枝番,生年月日,照会番号\r\n"
                      f"{keys},{letter},0012\r\n{keys},{wareki_date(born)},\r\n{keys},X99.1.1,\r\n", encoding="utf-8")
    clerk = staff_page("clerk")
    clerk.get_by_role("navigation", name="メニュー").get_by_role("link", name="一括照会").click()
    clerk.get_by_label("CSVファイル").set_input_files(str(upload))
    clerk.get_by_role("button", name="照会する").click()
    expect(clerk.get_by_role("heading", name="照会結果")).to_be_visible()
    expect(clerk.get_by_text("有効 2件 ／ 無効 0件 ／ エラー 1件")).to_be_visible()
    table = clerk.locator("#batch-results")
    expect(table.get_by_role("columnheader", name="氏名")).to_be_visible()
    expect(table.get_by_role("columnheader", name="負担割合")).to_be_visible()
    expect(table.locator("tr", has_text=letter)).to_contain_text(person["name"])
    expect(table.locator("tr", has_text="X99.1.1")).to_contain_text("生年月日")
    assert_accessible(clerk, "一括照会の結果")
    with clerk.expect_download() as info:
        clerk.get_by_role("link", name="結果をExcel（.xlsx）でダウンロード").click()
    assert info.value.suggested_filename == "batch-result.xlsx"
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][-4:] == ["結果", "理由", "氏名", "負担割合"]
    assert rows[1][0] == person["insurer_number"] and rows[1][3] == person["branch"] and rows[1][5] == "0012"
    assert rows[1][6] == "有効" and rows[1][8] == person["name"] and rows[1][9].endswith("割")
    assert all(sheet.cell(row=2, column=c).data_type == "s" for c in range(1, 7))
