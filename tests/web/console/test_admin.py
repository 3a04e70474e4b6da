"""「管理」 (issue 37): pages with their messages at the top, staff managed with confirmations and
audited, appointments edited and deleted, the rotation's confirmation, the old URL's page, the
audit log, and the batch inquiry's 和暦, 氏名, 負担割合 and .xlsx."""
from __future__ import annotations

import json
import csv
import io
import re

import pytest
from sqlalchemy import select

from console_support import login
from consent.models import AuditEntry


def csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def status_messages(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'role="status"[^>]*>(.*?)</div>', html, re.S)]


def alerts(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'role="alert"[^>]*>(.*?)</div>', html, re.S)]


def events(app, institution_id: int) -> list[tuple[str, str | None]]:
    with app.extensions["sessionmaker"]() as s:
        return [(e.event, e.detail) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.institution_id == institution_id).order_by(AuditEntry.seq))]


@pytest.fixture
def admin(world):
    client, _ = login(world.app, "admin")
    return client


def test_every_admin_page_has_the_sub_menu_and_only_admins_reach_them(world, admin):
    for path, heading in (("/pharmacy/admin", "受付URL"), ("/pharmacy/admin/staff", "職員"),
                          ("/pharmacy/admin/appointments", "予約"), ("/pharmacy/admin/api", "API連携"),
                          ("/pharmacy/admin/settings", "環境設定"), ("/pharmacy/admin/audit", "監査ログ")):
        html = admin.get(path).get_data(as_text=True)
        assert f"<h1>管理：{heading}</h1>" in html, path
        assert 'aria-current="page">' + heading in html, path
    clerk, _ = login(world.app, "clerk")
    for path in ("/pharmacy/admin/staff", "/pharmacy/admin/audit", "/pharmacy/admin/audit.csv"):
        assert clerk.get(path).status_code == 403


def test_adding_staff_needs_a_chosen_role_and_shows_the_password_once_at_the_top(world, admin):
    page = admin.get("/pharmacy/admin/staff").get_data(as_text=True)
    # No role is chosen in advance, and the licensed role says what it allows.
    assert not re.search(r'name="role" value="\w+" required[^>]*checked', page)
    assert "薬剤師（有資格者）" in page and "薬剤情報・特定健診情報・診療情報などを閲覧できます" in page
    token = csrf(admin, "/pharmacy/admin/staff")
    admin.post("/pharmacy/admin/staff", data={"csrf_token": token, "login_id": "new-one", "display_name": "新人"})
    refused = admin.get("/pharmacy/admin/staff").get_data(as_text=True)
    assert alerts(refused) == ["役割を選んでください。"]
    assert 'value="new-one"' in refused  # what was typed is kept
    assert "new-one" not in refused.split("職員の一覧")[1].split("職員を追加")[0]
    admin.post("/pharmacy/admin/staff", data={"csrf_token": token, "login_id": "new-one", "display_name": "新人",
                                              "role": "clerk"})
    html = admin.get("/pharmacy/admin/staff").get_data(as_text=True)
    [message] = status_messages(html)
    assert message.startswith("new-one（事務）を登録しました。初期パスワード：")
    assert html.index('id="new-member"') < html.index("職員の一覧")  # at the top
    assert "初期パスワード" not in admin.get("/pharmacy/admin/staff").get_data(as_text=True)  # shown once
    assert ("staff_added" in [e for e, _ in events(world.app, world.here)])


def test_disable_confirms_then_enable_reset_and_role_change_are_audited(world, admin):
    member = world.staff["clerk"]
    clerk, _ = login(world.app, "clerk")
    confirm = admin.get(f"/pharmacy/admin/staff/{member}/disable").get_data(as_text=True)
    assert "clerkを利用停止しますか" in confirm.replace("（clerk）", "")
    token = csrf(admin, "/pharmacy/admin/staff")
    resp = admin.post(f"/pharmacy/admin/staff/{member}/disable", data={"csrf_token": token, "confirm": "yes"})
    assert resp.status_code == 303
    html = admin.get("/pharmacy/admin/staff").get_data(as_text=True)
    assert status_messages(html) == ["clerk（clerk）を利用停止しました。"]
    assert "利用停止中" in html and f"/pharmacy/admin/staff/{member}/enable" in html
    assert clerk.get("/pharmacy/").status_code == 302  # signed out at once
    assert login(world.app, "clerk")[1].status_code == 401

    admin.post(f"/pharmacy/admin/staff/{member}/enable", data={"csrf_token": token, "confirm": "yes"})
    assert status_messages(admin.get("/pharmacy/admin/staff").get_data(as_text=True)) == ["clerk（clerk）を利用再開しました。"]
    assert login(world.app, "clerk")[1].status_code == 303

    admin.post(f"/pharmacy/admin/staff/{member}/reset", data={"csrf_token": token, "confirm": "yes"})
    html = admin.get("/pharmacy/admin/staff").get_data(as_text=True)
    password = re.search(r'<strong class="one-time-password">([^<]+)</strong>', html).group(1)
    assert login(world.app, "clerk")[1].status_code == 401  # the old password is gone
    again, resp = login(world.app, "clerk", password)
    assert resp.status_code == 303 and again.get("/pharmacy/").headers["Location"].endswith("/pharmacy/password")

    admin.post(f"/pharmacy/admin/staff/{member}/role", data={"csrf_token": token, "role": "pharmacist"})
    assert status_messages(admin.get("/pharmacy/admin/staff").get_data(as_text=True)) == [
        "clerk の役割を薬剤師（有資格者）に変更しました。"]
    admin.post(f"/pharmacy/admin/staff/{member}/role", data={"csrf_token": token, "role": ""})
    assert alerts(admin.get("/pharmacy/admin/staff").get_data(as_text=True)) == ["役割を選んでください。"]

    written = [(e, d) for e, d in events(world.app, world.here) if e.startswith("staff_")]
    assert [e for e, _ in written] == ["staff_disabled", "staff_enabled", "staff_password_reset",
                                       "staff_role_changed"]
    assert f'"staff_id":{member}' in written[0][1] and '"from_role":"clerk"' in written[3][1]
    log = admin.get("/pharmacy/admin/audit?group=admin").get_data(as_text=True)
    for label in ("職員の利用停止", "職員の利用再開", "パスワード再発行", "役割の変更", "事務 → 薬剤師"):
        assert label in log


def test_an_admin_cannot_stop_or_demote_themselves_or_touch_another_institutions_staff(world, admin):
    me, theirs = world.staff["admin"], world.staff["other-clerk"]
    token = csrf(admin, "/pharmacy/admin/staff")
    admin.post(f"/pharmacy/admin/staff/{me}/disable", data={"csrf_token": token, "confirm": "yes"})
    assert "ご自身のアカウントはここでは変更できません" in alerts(admin.get("/pharmacy/admin/staff").get_data(as_text=True))[0]
    assert admin.get(f"/pharmacy/admin/staff/{theirs}/disable").status_code == 404
    assert admin.post(f"/pharmacy/admin/staff/{theirs}/role",
                      data={"csrf_token": token, "role": "admin"}).status_code == 404
    assert admin.post(f"/pharmacy/admin/staff/{2**31}/reset", data={"csrf_token": token}).status_code == 404


def test_lapse_days_save_says_so_and_zero_is_refused(world, admin):
    token = csrf(admin, "/pharmacy/admin/settings")
    admin.post("/pharmacy/admin/lapse-days", data={"csrf_token": token, "home_visit_lapse_days": "0"})
    assert alerts(admin.get("/pharmacy/admin/settings").get_data(as_text=True))
    admin.post("/pharmacy/admin/lapse-days", data={"csrf_token": token, "home_visit_lapse_days": "3650"})
    assert status_messages(admin.get("/pharmacy/admin/settings").get_data(as_text=True)) == [
        "保存しました。最後の訪問日から3650日間、訪問の記録がないと同意は終了します（このサービス独自の決まりです）。"]
    admin.post("/pharmacy/admin/lapse-days", data={"csrf_token": token, "home_visit_lapse_days": ""})
    assert status_messages(admin.get("/pharmacy/admin/settings").get_data(as_text=True)) == [
        "保存しました。訪問が途絶えても同意は失効しません。訪問終了を記録するか、患者さんが取り消すまで続きます。"]
    # Each save is audited with what it set (None: no lapse).
    assert [json.loads(d)["home_visit_lapse_days"] for e, d in events(world.app, world.here)
            if e == "settings_changed" and "home_visit_lapse_days" in (d or "")] == [3650, None]


def test_rotation_lists_the_appointment_links_that_stop_and_the_old_url_names_the_institution(world, admin):
    token = csrf(admin, "/pharmacy/admin/appointments")
    admin.post("/pharmacy/admin/appointments", data={"csrf_token": token, "consultation_date": "2026-11-30",
                                                     "memo": "14時"})
    old_link = re.search(r'href="http://localhost:5000(/r/[^"]+)" class="appointment-link"',
                         admin.get("/pharmacy/admin/appointments").get_data(as_text=True)).group(1)
    confirm = admin.get("/pharmacy/admin/rotate?setting=online").get_data(as_text=True)
    assert "患者さんに送った予約の受付リンク：1件" in confirm and "2026年11月30日" in confirm
    admin.post("/pharmacy/admin/rotate", data={"csrf_token": token, "setting": "online", "confirm": "yes"})
    home = admin.get("/pharmacy/admin").get_data(as_text=True)
    assert status_messages(home)[0].startswith("オンライン診療等（患者さんのスマートフォン）のURLを変更しました。")
    assert "予約の新しいリンクを見る（1件）" in home
    gone = world.app.test_client().get(old_link)
    assert gone.status_code == 410
    text = gone.get_data(as_text=True)
    assert "このURLは現在使用できません" in text and "新しい受付URLを本町薬局にお問い合わせください" in text
    new_link = re.search(r'href="http://localhost:5000(/r/[^"]+)" class="appointment-link"',
                         admin.get("/pharmacy/admin/appointments").get_data(as_text=True)).group(1)
    assert new_link != old_link and world.app.test_client().get(new_link).status_code == 200
    assert "reception_url_rotated" in [e for e, _ in events(world.app, world.here)]


def test_an_appointment_for_a_patient_keeps_them_off_the_link_and_can_be_edited_and_deleted(world, admin):
    token = csrf(admin, "/pharmacy/admin/appointments")
    admin.post("/pharmacy/admin/appointments", data={
        "csrf_token": token, "consultation_date": "2026-11-30", "memo": "14時",
        "patient_kana": "やまだ はなこ", "patient_birth_date": "S29.2.1"})
    html = admin.get("/pharmacy/admin/appointments").get_data(as_text=True)
    assert "ヤマダ ハナコ" in html and "1954年2月1日（昭和29年）" in html
    link = re.search(r'href="(http://localhost:5000/r/[^"]+)" class="appointment-link"', html).group(1)
    assert "ヤマダ" not in link and "1954" not in link and "2026" not in link
    appointment_id = re.search(r'id="appointment-(\d+)"', html).group(1)
    admin.post(f"/pharmacy/admin/appointments/{appointment_id}", data={
        "csrf_token": token, "consultation_date": "2026-11-29", "memo": "10時",
        "patient_kana": "ヤマダ ハナコ", "patient_birth_date": "昭和29年2月1日"})
    html = admin.get("/pharmacy/admin/appointments").get_data(as_text=True)
    assert status_messages(html) == ["予約を変更しました（診療日 2026年11月29日）。受付リンクは変わりません。"]
    assert link in html and "10時" in html
    top = world.app.test_client().get(link.replace("http://localhost:5000", "")).get_data(as_text=True)
    assert "date=2026-11-29" in top
    # Half a patient is refused with a message, nothing written.
    admin.post("/pharmacy/admin/appointments", data={"csrf_token": token, "consultation_date": "2026-11-30",
                                                     "patient_kana": "ヤマダ"})
    assert alerts(admin.get("/pharmacy/admin/appointments").get_data(as_text=True)) == [
        "患者さんを指定するときは、フリガナと生年月日の両方を入力してください。"]
    assert "削除しますか" in admin.get(f"/pharmacy/admin/appointments/{appointment_id}/delete").get_data(as_text=True)
    admin.post(f"/pharmacy/admin/appointments/{appointment_id}/delete", data={"csrf_token": token, "confirm": "yes"})
    html = admin.get("/pharmacy/admin/appointments").get_data(as_text=True)
    assert status_messages(html) == ["2026年11月29日の予約を削除しました。"] and "今後の予約はありません" in html
    top = world.app.test_client().get(link.replace("http://localhost:5000", "")).get_data(as_text=True)
    assert "date=" not in top
    changes = [d for e, d in events(world.app, world.here) if e == "appointment_changed"]
    assert len(changes) == 3 and not any("ヤマダ" in d for d in changes)
    other, _ = login(world.app, "other-admin")
    assert other.get(f"/pharmacy/admin/appointments/{appointment_id}").status_code == 404


def test_the_audit_log_filters_verifies_and_exports_excel_safe(world, admin, clock):
    pharmacist, _ = login(world.app, "pharmacist")
    clerk, _ = login(world.app, "clerk")
    assert pharmacist.get(f"/pharmacy/consents/{world.consent}").status_code == 200
    assert clerk.get(f"/pharmacy/consents/{world.consent}").status_code == 200  # drug refused: a clerk
    log = admin.get("/pharmacy/admin/audit").get_data(as_text=True)
    assert "検証済み" in log and "改ざんは見つかりませんでした" in log
    denied = admin.get(f"/pharmacy/admin/audit?decision=denied&staff={world.staff['clerk']}").get_data(as_text=True)
    rows = re.findall(r"<tr><td>\d+</td>(.*?)</tr>", denied, re.S)
    assert rows and all("閲覧できなかった" in r and "clerk" in r for r in rows)
    assert any("薬剤情報" in r for r in rows)
    drugs = admin.get("/pharmacy/admin/audit?category=drug&decision=allowed").get_data(as_text=True)
    rows = re.findall(r"<tr><td>\d+</td>(.*?)</tr>", drugs, re.S)
    assert rows and all("薬剤情報" in r and "pharmacist" in r and world.person.name in r for r in rows)
    by_name = admin.get("/pharmacy/admin/audit?patient=" + world.person.kana[:3]).get_data(as_text=True)
    assert re.findall(r"<tr><td>\d+</td>", by_name)
    nobody = admin.get("/pharmacy/admin/audit?patient=ダレモイナイ").get_data(as_text=True)
    assert "条件に合う記録はありません" in nobody
    future = admin.get("/pharmacy/admin/audit?from=2030-01-01").get_data(as_text=True)
    assert "条件に合う記録はありません" in future
    bad = admin.get("/pharmacy/admin/audit?from=2026-13-01")
    assert bad.status_code == 422 and "期間の日付を正しく入力してください" in bad.get_data(as_text=True)

    export = admin.get("/pharmacy/admin/audit.csv?category=drug")
    assert export.data.startswith("\ufeff".encode()) and export.mimetype == "text/csv"
    cells = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"), newline="")))
    assert cells[0] == ["番号", "日時", "操作", "職員", "役割", "患者", "情報", "結果", "理由", "内容"]
    assert len(cells) > 1 and all(row[6] == "薬剤情報" for row in cells[1:])
    assert all(row[0].startswith("\t") for row in cells[1:])  # a number kept as text


def test_the_audit_log_says_when_the_chain_is_broken(world, admin):
    from sqlalchemy import update

    pharmacist, _ = login(world.app, "pharmacist")
    pharmacist.get(f"/pharmacy/consents/{world.consent}")
    with world.app.extensions["sessionmaker"]() as s:
        s.execute(update(AuditEntry).where(AuditEntry.institution_id == world.here, AuditEntry.seq == 1)
                  .values(reason="edited"))
        s.commit()
    log = admin.get("/pharmacy/admin/audit").get_data(as_text=True)
    assert "監査ログの連鎖が途切れています（1番目の記録" in log


@pytest.mark.parametrize("written", ["S33.7.7", "昭和33年7月7日", "s33/07/07", "Ｓ３３．７．７"])
def test_a_batch_row_with_a_wareki_birth_date_is_answered_with_name_and_copay(world, written):
    person = world.person  # born 1958-07-07 (昭和33年)
    lines = ["保険者番号,記号,番号,枝番,生年月日,照会番号",
             f"{person.insurer_number},{person.symbol},{person.number},{person.branch},{written},",
             f"{person.insurer_number},{person.symbol},{person.number},{person.branch},H33.7.7,"]
    client, _ = login(world.app, "clerk")
    resp = client.post("/pharmacy/batch", data={"csrf_token": csrf(client, "/pharmacy/batch"),
                                                "file": (io.BytesIO("\r\n".join(lines).encode()), "x.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "有効 1件 ／ 無効 0件 ／ エラー 1件" in html
    assert person.name in html and "生年月日の和暦が正しくありません" in html
    text = client.get("/pharmacy/batch/result.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][6] == "有効" and rows[1][8] == person.name and rows[1][9].endswith("割")
    # Audited as a search by insurance keys, one entry per row (found: the person's id).
    searched = [d for e, d in events(world.app, world.here) if e == "person_searched"]
    assert len(searched) == 2 and '"outcome":"found"' in searched[0] and '"outcome":"incomplete"' in searched[1]


def test_the_batch_result_as_xlsx_keeps_codes_as_text(world):
    from openpyxl import load_workbook

    person = world.person
    lines = ["保険者番号,記号,番号,枝番,生年月日,照会番号",
             f"{person.insurer_number},{person.symbol},{person.number},{person.branch},{person.birth_date:%Y%m%d},0012",
             "=1+1,記号,1,00,19500101,"]
    client, _ = login(world.app, "clerk")
    client.post("/pharmacy/batch", data={"csrf_token": csrf(client, "/pharmacy/batch"),
                                         "file": (io.BytesIO("\r\n".join(lines).encode()), "x.csv")},
                content_type="multipart/form-data")
    resp = client.get("/pharmacy/batch/result.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["保険者番号", "記号", "番号", "枝番", "生年月日", "照会番号", "結果", "理由", "氏名", "負担割合"]
    assert rows[1][0] == person.insurer_number and rows[1][3] == person.branch and rows[1][5] == "0012"
    assert rows[1][6] == "有効" and rows[1][8] == person.name
    assert all(isinstance(v, str) for row in rows[1:] for v in row if v is not None)
    assert rows[2][0] == "=1+1" and sheet["A3"].data_type == "s"  # text, never a formula
    assert rows[2][3] == "00"


def test_the_contact_settings_save_with_a_message_and_show_on_the_patient_pages(world, admin):
    token = csrf(admin, "/pharmacy/admin/settings")
    admin.post("/pharmacy/admin/contact", data={"csrf_token": token, "phone": "03-1234-567",
                                                "privacy_url": "https://example.jp/privacy"})
    refused = admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    assert alerts(refused) == ["電話番号は 03-1234-5678 のように、0で始まる10桁か11桁の数字をハイフンで区切って入力してください。"]
    assert 'value="03-1234-567"' in refused  # kept for correcting
    admin.post("/pharmacy/admin/contact", data={"csrf_token": token, "phone": "03-1234-5678",
                                                "privacy_url": "https://example.jp/privacy"})
    saved = admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    assert status_messages(saved) == [
        "電話番号を03-1234-5678に、プライバシーポリシーのURLを保存しました。患者さんの画面に表示されます。"]
    with world.app.extensions["sessionmaker"]() as s:
        from consent.institutions import Institution

        token_url = s.get(Institution, world.here).reception_token
    top = world.app.test_client().get(f"/r/{token_url}").get_data(as_text=True)
    assert "03-1234-5678" in top and "https://example.jp/privacy" in top
    assert ("settings_changed", '{"changed":["phone","privacy_url"]}') in events(world.app, world.here)
