"""Console pages beyond the patient list: consent cancel, 照会番号, batch inquiry, admin pages."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime, time, timedelta

from flask import Response, abort, redirect, render_template, request, session, url_for

from consent import audit
from consent.actors import CLIENT_LABEL
from consent.clock import JST
from consent.date_input import parse_birth_date, parse_date, parse_time
from consent.app import batch as batch_reads, revocation, staff_admin
from consent.errors import ConsentError
from consent.grants import person_ids_of_institution as consents_person_ids
from consent.institutions import (
    LICENSED_ROLES, MAX_LAPSE_DAYS, MIN_LAPSE_DAYS, ROLES, FunctionNotAllowed, Institution, InstitutionError, StaffChangeError, appointment_of, appointments_of, member_of,
    staff_of,
)
from consent.vocabulary import (
    APPOINTMENT_CHANGE_LABELS, AUDIT_DECISION_LABELS, AUDIT_EVENT_LABELS, AUDIT_GROUP_LABELS, BATCH_STATUSES,
    DISASTER_CONSENT_KINDS, DISASTER_READ_HEADING, FUNCTIONS, HEADINGS, INSTITUTION_REVOCATION_REASONS,
    INSURANCE_KEY_LABELS, LICENSED_NOTE, RECEPTION_ONLINE, RECEPTION_SETTINGS, REFERENCE_NUMBER_LABEL, ROLE_HELP,
    ROLE_LABELS, VERIFICATION_PHOTO, VERIFICATIONS, disaster_consent_kind, lapse_rule_text, role_label,
)
from consent.wareki import format_birth_date
from consent.window import format_jst
from integrations.oqs import InvalidInput
from web.console import own_consent_or_404, patient_page
from web.context import now, oqs_for, settings, today_jst
from web import metrics
from web.console.excel import excel_cell
from web.db import db, reader
from web.error_messages import INSTITUTION_FORM, ApiError, describe, function_not_allowed
from web.console.routes import Routes
from web import sessions
from web.staff_session import admin_required, current_staff, staff_required

routes = Routes()


def jst_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JST)

def _role_word(role: str | None) -> str:
    """A role as this institution calls it (the audit log's rows); "" for none."""
    return role_label(role, current_staff().institution_kind) if role in ROLE_LABELS else ""


# The vocabulary's labels, licensed roles marked where a role is chosen.
def role_choices(kind: str) -> dict[str, str]:
    """The roles as the staff list names them at this kind of institution (医師（有資格者） at a clinic)."""
    return {role: role_label(role, kind) + (LICENSED_NOTE if role in LICENSED_ROLES else "") for role in ROLES}


@routes.post("/consents/<consent_id>/cancel")
@staff_required
def cancel_consent(consent_id: str):
    """The institution ends a consent (reason 1 or 3): an admin or a pharmacist, after confirming."""
    staff = current_staff()
    if not (staff.is_admin or staff.licensed):
        abort(403)
    consent = own_consent_or_404(staff, consent_id)
    if consent.nothing_to_end:  # the page offers no 「同意の取消」 for it: nothing was consented
        raise ConsentError("confirmation_only")
    raw = request.form.get("reason", "")
    reason = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 3 else -1
    if request.form.get("confirm") != "yes":
        if reason not in INSTITUTION_REVOCATION_REASONS:
            raise ConsentError("invalid_reason", field="reason", detail=raw[:8])
        if consent.revoked:
            raise ConsentError("already_revoked")
        person = oqs_for(reader()).person(consent.person_id)
        return render_template("console/revoke_confirm.html", staff=staff, consent=consent, person=person,
                               reason=reason, reason_label=INSTITUTION_REVOCATION_REASONS[reason])
    revocation.end_consent(db(), actor=staff.actor(), consent_id=consent.id, reason=reason, now=now(),
                           metrics=metrics)
    return redirect(url_for("console.patient", consent_id=consent_id), code=303)


@routes.post("/consents/<consent_id>/reference-number")
@staff_required
def register_reference(consent_id: str):
    staff = current_staff()
    consent = own_consent_or_404(staff, consent_id)
    value = request.form.get("reference_number", "")
    try:
        batch_reads.register_reference_number(db(), oqs_for(db()), institution_code=staff.institution_code,
                                              person_id=consent.person_id, reference_number=value)
    except InvalidInput as exc:
        # Said beside the field on the patient page, the typed value kept for correcting.
        answer = describe(exc)
        page, _ = patient_page(consent_id, reference_error=answer.message, reference_entered=value[:200])
        return page, answer.status
    return redirect(url_for("console.patient", consent_id=consent_id), code=303)


# --- batch inquiry (一括照会) -------------------------------------------------------------------

CSV_HEADER = [*INSURANCE_KEY_LABELS.values(), REFERENCE_NUMBER_LABEL]
CSV_KEYS = [*INSURANCE_KEY_LABELS, "reference_number"]
MAX_BATCH_ROWS = 1000


class BatchUploadError(ApiError):
    """A CSV upload the batch page refuses: the web layer's own validation, worded here."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "invalid_csv", message)


def decode_upload(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or Shift_JIS (Excel's CSV), nothing else."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BatchUploadError("文字コードを判別できません。UTF-8 または Shift_JIS のCSVを選んでください。")


def parse_batch_csv(text: str) -> list[dict]:
    if "\x00" in text:
        raise BatchUploadError("CSVファイルではないようです。")
    try:
        # newline="": the reader sees CR-only line ends (old Mac files) as line ends, not as data.
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:  # a cell past the csv module's limit (128 KiB): a 500 before
        raise BatchUploadError("CSVとして読み取れません。長すぎる項目がないかご確認ください。") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise BatchUploadError("CSVが空です。")
    header = [cell.strip() for cell in rows[0]]
    if header[:5] != CSV_HEADER[:5]:
        raise BatchUploadError("1行目は「保険者番号,記号,番号,枝番,生年月日,照会番号」にしてください。")
    body = rows[1:]
    if not body:
        raise BatchUploadError("照会する行がありません。")
    if len(body) > MAX_BATCH_ROWS:
        raise BatchUploadError(f"一度に照会できるのは{MAX_BATCH_ROWS}行までです。")
    parsed = []
    for cells in body:
        cells = [c.strip() for c in cells] + [""] * len(CSV_KEYS)
        row = dict(zip(CSV_KEYS, cells))
        row["reference_number"] = row["reference_number"] or None
        parsed.append(row)
    return parsed


# 結果 and 理由 right after the uploaded columns, as before; 氏名 and 負担割合 after them, so a script
# reading the old columns by position still finds them.
RESULT_COLUMNS = ["結果", "理由", "氏名", "負担割合"]


def result_table(rows: list[dict], results) -> list[list[tuple[str, bool]]]:
    """The result as cells (text, is a code): the uploaded columns, then 結果, 理由, 氏名, 負担割合.
    The CSV and the .xlsx are written from it, so both say the same."""
    table = []
    for row, result in zip(rows, results):
        q = result.qualification
        table.append([(row.get(k) or "", True) for k in CSV_KEYS]
                     + [(result.status, False), (result.reason, False),
                        ((q.name or "") if q else "", False), ((q.copay_ratio_text or "") if q else "", False)])
    return table


def results_csv(table: list[list[tuple[str, bool]]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER + RESULT_COLUMNS)
    for cells in table:
        writer.writerow([excel_cell(text, code=code) for text, code in cells])
    return out.getvalue()


def results_xlsx(table: list[list[tuple[str, bool]]]) -> bytes:
    """The same result as an Excel workbook: every cell a string (codes keep their leading zeros
    and never turn into numbers or dates), with no formulas."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "一括照会結果"
    sheet.append(CSV_HEADER + RESULT_COLUMNS)
    for cells in table:
        sheet.append([text for text, _ in cells])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            # openpyxl reads a string starting with "=" as a formula: keep it as text.
            cell.data_type = "s"
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@routes.route("/batch", methods=["GET", "POST"])
@staff_required
def batch():
    staff = current_staff()
    if request.method == "GET":
        return render_template("console/batch.html", staff=staff)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("console/batch.html", staff=staff, error="CSVファイルを選んでください。"), 400
    name = upload.filename.lower()
    if not name.endswith((".csv", ".txt")):
        return render_template("console/batch.html", staff=staff, error="CSVファイル（.csv）を選んでください。"), 415
    try:
        rows = parse_batch_csv(decode_upload(upload.read()))
    except BatchUploadError as exc:
        return render_template("console/batch.html", staff=staff, error=exc.message), exc.status
    results = batch_reads.inquire_as_staff(db(), oqs_for(reader()), rows, actor=staff.actor(),
                                           institution_code=staff.institution_code, today=today_jst(), now=now())
    # Kept server-side for the download links (the session lives in the database).
    session["batch_table"] = result_table(rows, results)
    return render_template("console/batch.html", staff=staff, rows=rows, results=results,
                           batch_statuses=BATCH_STATUSES)


@routes.get("/batch/result.csv")
@staff_required
def batch_download():
    table = session.get("batch_table")
    if not table:
        abort(404)
    # UTF-8 with BOM: Excel then opens it with the right characters.
    return Response("\ufeff" + results_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=batch-result.csv"})


@routes.get("/batch/result.xlsx")
@staff_required
def batch_download_xlsx():
    table = session.get("batch_table")
    if not table:
        abort(404)
    return Response(results_xlsx(table),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=batch-result.xlsx"})


# --- admin (「管理」: one page per subject, messages at the top of each) ------------------------

ADMIN_PAGES = (  # (endpoint, label): the sub-menu of every admin page, in this order
    ("console.admin_home", "受付URL"),
    ("console.admin_staff", "職員"),
    ("console.admin_appointments", "予約"),
    ("console.admin_api", "API連携"),
    ("console.admin_settings", "環境設定"),
    ("console.admin_audit", "監査ログ"),
)
LOGIN_ID = re.compile(r"[A-Za-z0-9_-]{3,64}")


def _institution() -> Institution:
    return db().get(Institution, current_staff().institution_id)


def notify(text: str, *, alert: bool = False) -> None:
    """A message for the top of the next admin page (role="status", or "alert" for a refusal)."""
    session.setdefault("admin_messages", []).append({"text": text, "alert": alert})
    session.modified = True


def _page(template: str, status: int = 200, **context):
    """An admin page: the sub-menu, the messages waiting for it, the page's own context."""
    messages = session.pop("admin_messages", [])
    return render_template(template, staff=current_staff(), admin_pages=ADMIN_PAGES, messages=messages,
                           **context), status


def _refused(exc: Exception, endpoint: str, **values):
    notify(describe(exc).message, alert=True)
    return redirect(url_for(endpoint, **values), code=303)


def reception_url_of(token: str, consultation_date: date | None = None) -> str:
    url = settings().origins[0] + url_for("reception.top", token=token)
    if not consultation_date:
        return url
    return f"{url}?date={consultation_date.isoformat()}"


def _setting_arg(raw: str | None) -> str:
    """An entry point's name from a form or query (default: online); 400 for anything else."""
    if not raw:
        return "online"
    if raw not in RECEPTION_SETTINGS:
        abort(400)
    return raw


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@routes.get("/admin")
@admin_required
def admin_home():
    """受付URL: the patient's reception URL and the tablets', each with its QR code and 「URLを変更する」."""
    institution = _institution()
    functions = institution.functions
    tablet_urls = [(setting, reception_url_of(institution.token_of(setting.name)), functions[setting.function])
                   for setting in RECEPTION_SETTINGS.values() if setting.tablet]
    return _page("console/admin.html", institution=institution, tablet_urls=tablet_urls,
                 reception_url=reception_url_of(institution.reception_token),
                 reissue=session.pop("reissue_appointments", None))


@routes.get("/admin/qr.svg")
@admin_required
def admin_qr():
    import segno

    institution = _institution()
    setting = _setting_arg(request.args.get("setting"))
    consultation = request.args.get("date")
    day = parse_date(consultation) if consultation and setting == "online" else None
    if consultation and setting == "online" and day is None:
        abort(400)
    appointment_ref = request.args.get("appointment", "")
    if appointment_ref:
        appointment = _appointment_or_404(appointment_ref)
        url = appointment_link(institution, appointment)
    else:
        url = reception_url_of(institution.token_of(setting), day)
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, title="受付用QRコード")
    return Response(buffer.getvalue(), mimetype="image/svg+xml")


@routes.route("/admin/rotate", methods=["GET", "POST"])
@admin_required
def admin_rotate():
    """「URLを変更する」: first a page saying which links stop working (the appointment links sent
    on the online URL included), then the change, then the appointments' new links to send again."""
    setting = _setting_arg(request.values.get("setting"))
    institution = _institution()
    affected = appointments_of(db(), institution.id, since=today_jst()) if setting == RECEPTION_ONLINE else []
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return _page("console/admin_rotate_confirm.html", setting=RECEPTION_SETTINGS[setting],
                     url=reception_url_of(institution.token_of(setting)), affected=affected, day=_day)
    staff_admin.rotate_reception_url(db(), institution_id=institution.id, setting=setting, now=now(),
                                     actor=current_staff().actor())
    notify(f"{RECEPTION_SETTINGS[setting].label}のURLを変更しました。前のURLは使えません。新しいURLとQRコードを掲示・送付してください。")
    if affected:
        session["reissue_appointments"] = [a.id for a in affected]
    return redirect(url_for("console.admin_home"), code=303)


# --- 環境設定 ---------------------------------------------------------------------------------------

@routes.get("/admin/settings")
@admin_required
def admin_settings():
    institution = _institution()
    return _page("console/admin_settings.html", institution=institution, functions=institution.functions,
                 # Only what the kind may run is offered (a visiting-nurse station: 訪問診療等 and 医療扶助).
                 function_labels={name: text for name, text in FUNCTIONS.items()
                                  if name in institution.kind_info.functions},
                 min_lapse_days=MIN_LAPSE_DAYS, max_lapse_days=MAX_LAPSE_DAYS,
                 lapse_rule=lapse_rule_text(institution.home_visit_lapse_days),
                 entered=session.pop("settings_entered", None))


@routes.post("/admin/functions")
@admin_required
def admin_functions():
    """環境設定: which functions run (a switched-off function's URLs answer 「この受付は現在行っていません」)."""
    chosen = set(request.form.getlist("functions"))
    if chosen - set(FUNCTIONS):
        abort(400)
    try:
        staff_admin.set_functions(db(), institution_id=current_staff().institution_id,
                                  running={name: name in chosen for name in FUNCTIONS}, actor=current_staff().actor(),
                                  now=now())
    except FunctionNotAllowed as refused:
        db().rollback()
        notify(function_not_allowed(refused.kind, refused.function), alert=True)
        return redirect(url_for("console.admin_settings"), code=303)
    on = "、".join(FUNCTIONS[name] for name in FUNCTIONS if name in chosen) or "なし"
    notify(f"使う機能を保存しました（{on}）。")
    return redirect(url_for("console.admin_settings"), code=303)


@routes.post("/admin/lapse-days")
@admin_required
def admin_lapse_days():
    """The project's own lapse rule (訪問診療等): days without a recorded visit before a home-visit
    relationship ends, or empty - no lapse (the default); the open relationships follow from their
    last visit. 0 is refused as the sandbox refuses it (empty is how to say "never")."""
    # Full-width digits typed with a Japanese input method read as the same number.
    raw = unicodedata.normalize("NFKC", request.form.get("home_visit_lapse_days", "")).strip()[:8]
    days = int(raw) if raw.isascii() and raw.isdigit() else None
    if raw and (days is None or not MIN_LAPSE_DAYS <= days <= MAX_LAPSE_DAYS):
        notify(f"訪問の記録がないまま終了するまでの日数は、空欄（終了しない）か、{MIN_LAPSE_DAYS}から{MAX_LAPSE_DAYS}"
               "までの整数で入力してください。", alert=True)
        session["settings_entered"] = {"home_visit_lapse_days": raw}
        return redirect(url_for("console.admin_settings"), code=303)
    staff_admin.set_lapse_days(db(), institution_id=current_staff().institution_id, days=days, now=now(),
                               actor=current_staff().actor())
    notify(f"保存しました。{lapse_rule_text(days)}")
    return redirect(url_for("console.admin_settings"), code=303)


@routes.post("/admin/contact")
@admin_required
def admin_contact():
    """環境設定: the phone number and privacy-notice URL shown on every patient page."""
    phone = request.form.get("phone", "")[:40]
    privacy_url = request.form.get("privacy_url", "")[:600]
    try:
        institution = staff_admin.set_contact(db(), actor=current_staff().actor(), phone=phone,
                                              privacy_url=privacy_url, now=now())
    except InstitutionError as exc:
        session["settings_entered"] = {"phone": phone, "privacy_url": privacy_url}
        notify(INSTITUTION_FORM[exc.code], alert=True)
        return redirect(url_for("console.admin_settings"), code=303)
    said = [f"電話番号を{institution.phone}に" if institution.phone else "電話番号を表示しないように",
            "プライバシーポリシーのURLを保存" if institution.privacy_url else "プライバシーポリシーのURLを表示しないように"]
    notify("、".join(said) + "しました。患者さんの画面に表示されます。")
    return redirect(url_for("console.admin_settings"), code=303)


# --- 職員 -------------------------------------------------------------------------------------------

@routes.get("/admin/staff")
@admin_required
def admin_staff():
    return _page("console/admin_staff.html", members=staff_of(db(), current_staff().institution_id),
                 role_labels=role_choices(current_staff().institution_kind), roles=ROLES, role_help=ROLE_HELP,
                 new_member=session.pop("new_member", None), entered=session.pop("staff_entered", {}))


@routes.post("/admin/staff")
@admin_required
def admin_add_staff():
    login_id = request.form.get("login_id", "").strip()[:65]
    role = request.form.get("role", "")
    display_name = request.form.get("display_name", "").strip()[:100]
    session["staff_entered"] = {"login_id": login_id, "display_name": display_name, "role": role}
    if not LOGIN_ID.fullmatch(login_id):
        return _refused(StaffChangeError("invalid_login_id"), "console.admin_staff")
    try:
        password = staff_admin.add_member(db(), actor=current_staff().actor(), login_id=login_id, role=role,
                                          display_name=display_name, now=now())
    except StaffChangeError as exc:
        return _refused(exc, "console.admin_staff")
    session.pop("staff_entered", None)
    # Shown once at the top of the next page, then forgotten.
    session["new_member"] = {"password": password, "what": f"{login_id}（{role_label(role, current_staff().institution_kind)}）を登録しました。"}
    return redirect(url_for("console.admin_staff"), code=303)


# Ids are 32-bit integer columns: a longer number is no id (the database refused it: a 500).
STAFF_ID = "<int(max=2147483647):staff_id>"
STAFF_ACTIONS = {  # action -> (button, what the confirmation page says it does, done message)
    "disable": ("利用停止", "この職員はログインできなくなり、ログイン中の画面もすぐに終了します。"
                "この職員のAPI連携のトークンも使えなくなります。あとで「利用再開」できます。", "利用停止しました"),
    "enable": ("利用再開", "この職員は、停止前のパスワードで再びログインできるようになります。", "利用再開しました"),
    "reset": ("パスワード再発行", "新しい初期パスワードを発行します。今のパスワードは使えなくなり、ログイン中の画面も終了します。"
              "初期パスワードは次の画面に一度だけ表示されます。", "パスワードを再発行しました"),
}


@routes.route(f"/admin/staff/{STAFF_ID}/<any(disable, enable, reset):action>", methods=["GET", "POST"])
@admin_required
def admin_staff_action(staff_id: int, action: str):
    """「利用停止」「利用再開」「パスワード再発行」: a confirmation page, then the change (audited)."""
    me = current_staff()
    try:
        member = member_of(db(), institution_id=me.institution_id, staff_id=staff_id)
    except StaffChangeError:
        abort(404)
    button, explanation, done = STAFF_ACTIONS[action]
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return _page("console/admin_staff_confirm.html", member=member, action=action, button=button,
                     explanation=explanation, role_labels=role_choices(current_staff().institution_kind))
    try:
        if action == "disable":
            staff_admin.disable_member(db(), actor=me.actor(), staff_id=staff_id, now=now(), browser_sessions=sessions)
        elif action == "enable":
            staff_admin.enable_member(db(), actor=me.actor(), staff_id=staff_id, now=now())
        else:
            member, password = staff_admin.reset_member_password(db(), actor=me.actor(), staff_id=staff_id, now=now(),
                                                                 browser_sessions=sessions)
            session["new_member"] = {"password": password,
                                     "what": f"{member.login_id}（{role_label(member.role, current_staff().institution_kind)}）の{done}。"}
            return redirect(url_for("console.admin_staff"), code=303)
    except StaffChangeError as exc:
        return _refused(exc, "console.admin_staff")
    notify(f"{member.login_id}（{member.display_name or role_label(member.role, current_staff().institution_kind)}）を{done}。")
    return redirect(url_for("console.admin_staff"), code=303)


@routes.post(f"/admin/staff/{STAFF_ID}/role")
@admin_required
def admin_staff_role(staff_id: int):
    me = current_staff()
    try:
        member = staff_admin.change_member_role(db(), actor=me.actor(), staff_id=staff_id,
                                                role=request.form.get("role", ""), now=now())
    except StaffChangeError as exc:
        if exc.code == "not_found":
            abort(404)
        return _refused(exc, "console.admin_staff")
    notify(f"{member.login_id} の役割を{role_choices(current_staff().institution_kind)[member.role]}に変更しました。")
    return redirect(url_for("console.admin_staff"), code=303)


# --- API連携 ---------------------------------------------------------------------------------------

@routes.get("/admin/api")
@admin_required
def admin_api():
    """API連携: the pharmacy systems' clients and the webhook endpoints (api_clients.py, webhooks.py)."""
    return _page("console/admin_api.html")


# --- 予約 -------------------------------------------------------------------------------------------

# Katakana (full or half width after NFKC), long vowel mark and spaces; hiragana is turned into katakana.
KANA = re.compile(r"[ァ-ヶー・\s\u3000]{1,100}")


def appointment_link(institution: Institution, appointment) -> str:
    """The deep link: the reception URL and the appointment's opaque reference, nothing else."""
    return reception_url_of(institution.reception_token) + f"?a={appointment.token}"


def _appointment_or_404(raw: str | int):
    ref = int(raw) if str(raw).isascii() and str(raw).isdigit() and len(str(raw)) < 10 else None
    appointment = appointment_of(db(), institution_id=current_staff().institution_id, appointment_id=ref) \
        if ref is not None else None
    if appointment is None:
        abort(404)
    return appointment


def _appointment_form() -> tuple[staff_admin.AppointmentInput | None, str | None, dict]:
    """The form parsed, or the first problem's words; the typed values kept for the form."""
    form = request.form
    entered = {k: form.get(k, "").strip()[:200] for k in ("consultation_date", "start_time", "memo", "patient_kana",
                                                           "patient_birth_date")}
    day = parse_date(entered["consultation_date"])
    if day is None:
        return None, "診療日を選んでください。", entered
    start_time = parse_time(entered["start_time"]) if entered["start_time"] else None
    if entered["start_time"] and start_time is None:
        return None, "時刻は 14:30 のように入力してください。", entered
    kana = unicodedata.normalize("NFKC", entered["patient_kana"])
    kana = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in kana).strip()
    birth_raw = entered["patient_birth_date"]
    birth = parse_birth_date(birth_raw, wareki=True) if birth_raw else None
    if kana and not KANA.fullmatch(kana):
        return None, "患者さんのフリガナはカタカナで入力してください。", entered
    if birth_raw and birth is None:
        return None, "患者さんの生年月日を正しく入力してください（例: 1954-02-01、S29.2.1）。", entered
    if bool(kana) != bool(birth):
        return None, "患者さんを指定するときは、フリガナと生年月日の両方を入力してください。", entered
    return staff_admin.AppointmentInput(day, entered["memo"], kana, birth, start_time), None, entered


@routes.get("/admin/appointments")
@admin_required
def admin_appointments():
    institution = _institution()
    appointments = appointments_of(db(), institution.id, since=today_jst())
    return _page("console/admin_appointments.html", institution=institution,
                 appointments=[(a, appointment_link(institution, a)) for a in appointments],
                 today=today_jst(), max_date=today_jst() + timedelta(days=settings().max_days_ahead),
                 entered=session.pop("appointment_entered", {}), day=_day, birth=format_birth_date)


@routes.post("/admin/appointments")
@admin_required
def admin_appointment():
    parsed, problem, entered = _appointment_form()
    if parsed is None:
        session["appointment_entered"] = entered
        notify(problem, alert=True)
        return redirect(url_for("console.admin_appointments"), code=303)
    try:
        staff_admin.add_appointment(db(), institution_id=current_staff().institution_id,
                                    consultation_date=parsed.consultation_date, memo=parsed.memo, now=now(),
                                    max_days_ahead=settings().max_days_ahead, actor=current_staff().actor(),
                                    patient_kana=parsed.patient_kana, patient_birth_date=parsed.patient_birth_date,
                                    start_time=parsed.start_time)
    except ConsentError as exc:
        session["appointment_entered"] = entered
        return _refused(exc, "console.admin_appointments")
    notify(f"{_day(parsed.consultation_date)}の予約を追加しました。受付リンクとQRコードを患者さんにお送りください。")
    return redirect(url_for("console.admin_appointments"), code=303)


APPOINTMENT_ID = "<int(max=2147483647):appointment_id>"


@routes.route(f"/admin/appointments/{APPOINTMENT_ID}", methods=["GET", "POST"])
@admin_required
def admin_appointment_edit(appointment_id: int):
    """「変更」: the same link, a new date, memo or patient."""
    appointment = _appointment_or_404(appointment_id)
    if request.method == "GET":
        return _page("console/admin_appointment_edit.html", appointment=appointment, today=today_jst(),
                     max_date=today_jst() + timedelta(days=settings().max_days_ahead), day=_day,
                     link=appointment_link(_institution(), appointment))
    parsed, problem, entered = _appointment_form()
    if parsed is None:
        notify(problem, alert=True)
        return redirect(url_for("console.admin_appointment_edit", appointment_id=appointment_id), code=303)
    try:
        staff_admin.update_appointment(db(), actor=current_staff().actor(), appointment_id=appointment_id,
                                       change=parsed, now=now(), max_days_ahead=settings().max_days_ahead)
    except ConsentError as exc:
        return _refused(exc, "console.admin_appointment_edit", appointment_id=appointment_id)
    notify(f"予約を変更しました（診療日 {_day(parsed.consultation_date)}）。受付リンクは変わりません。")
    return redirect(url_for("console.admin_appointments"), code=303)


@routes.route(f"/admin/appointments/{APPOINTMENT_ID}/delete", methods=["GET", "POST"])
@admin_required
def admin_appointment_delete(appointment_id: int):
    """「削除」: a confirmation page, then the appointment goes (its link opens the reception without a date)."""
    appointment = _appointment_or_404(appointment_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return _page("console/admin_appointment_delete.html", appointment=appointment, day=_day)
    staff_admin.delete_appointment(db(), actor=current_staff().actor(), appointment_id=appointment_id, now=now())
    notify(f"{_day(appointment.consultation_date)}の予約を削除しました。")
    return redirect(url_for("console.admin_appointments"), code=303)


# --- 監査ログ ---------------------------------------------------------------------------------------

AUDIT_LIMIT = 500


def _audit_filter() -> tuple[audit.LogFilter, dict, list[str]]:
    """The filters from the query string (each optional), what was typed, and the problems."""
    args = request.args
    entered = {k: args.get(k, "").strip()[:100] for k in ("patient", "staff", "group", "category", "decision",
                                                         "from", "to")}
    problems = []
    staff_id = int(entered["staff"]) if entered["staff"].isascii() and entered["staff"].isdigit() \
        and len(entered["staff"]) < 10 else None
    days = {}
    for key in ("from", "to"):
        days[key] = parse_date(entered[key]) if entered[key] else None
        if entered[key] and days[key] is None:
            problems.append("期間の日付を正しく入力してください（例: 2026-12-01）。")
    person_ids = None
    if entered["patient"]:
        person_ids = tuple(_patients_matching(entered["patient"]))
    wanted = audit.LogFilter(
        person_ids=person_ids, staff_id=staff_id,
        group=entered["group"] if entered["group"] in audit.EVENT_GROUPS else None,
        category=entered["category"] if entered["category"] in HEADINGS else None,
        decision=entered["decision"] if entered["decision"] in audit.DECISIONS else None,
        since=jst_midnight(days["from"]) if days["from"] else None,
        until=jst_midnight(days["to"] + timedelta(days=1)) if days["to"] else None,
    )
    return wanted, entered, problems


def _patients_matching(text: str) -> list[str]:
    """The institution's patients (anyone who consented here) whose name or kana holds `text`."""
    wanted = search_text(text)
    oqs = oqs_for(reader())
    found = []
    for person_id in consents_person_ids(reader(), current_staff().institution_id):
        person = oqs.person(person_id)
        if person is not None and (wanted in search_text(person.name or "") or wanted in search_text(person.kana or "")):
            found.append(person_id)
    return found


def search_text(text: str) -> str:
    """Full/half width, hiragana/katakana and spaces read alike."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)
    return re.sub(r"\s+", "", text)


def _audit_rows(entries: list) -> list[dict]:
    """Entries in words: who (login id), which patient (name), what, the outcome."""
    institution_id = current_staff().institution_id
    members = {str(m.id): m for m in staff_of(db(), institution_id)}
    oqs = oqs_for(reader())
    names: dict[str, str] = {}
    rows = []
    for e in entries:
        if e.person_id and e.person_id not in names:
            person = oqs.person(e.person_id)
            names[e.person_id] = person.name if person is not None else ""
        member = members.get(e.actor_id) if e.actor_kind == "staff" else None
        target = members.get(str(e.detail.get("staff_id"))) if "staff_id" in e.detail else None
        what = []
        if target is not None:
            what.append(f"対象: {target.login_id}")
        if "role" in e.detail and e.event == "staff_role_changed":
            what.append(f"{_role_word(e.detail.get('from_role'))} → {_role_word(e.detail.get('role'))}")
        if "setting" in e.detail:
            what.append(RECEPTION_SETTINGS[e.detail["setting"]].label if e.detail["setting"] in RECEPTION_SETTINGS
                        else e.detail["setting"])
        if "change" in e.detail:
            what.append(APPOINTMENT_CHANGE_LABELS.get(e.detail["change"], ""))
        if e.detail.get("consent_kind"):  # a disaster read: the consent kind staff recorded (oral, none)
            kind = disaster_consent_kind(e.detail["consent_kind"])
            what.append(f"{DISASTER_READ_HEADING}（{DISASTER_CONSENT_KINDS.get(kind, kind)}）")
        if e.detail.get("verification") == VERIFICATION_PHOTO:
            # The photo check (目視確認): the staff member who compared the card's face photo.
            checker = members.get(str(e.detail.get("verified_by")))
            what.append(f"本人確認: {VERIFICATIONS[VERIFICATION_PHOTO]}（"
                        f"{checker.login_id if checker else '職員 ' + str(e.detail.get('verified_by'))}）")
        if e.event == "person_searched":
            what.append({"found": "1人見つかった", "not_found": "見つからなかった"}.get(e.detail.get("outcome"), ""))
        rows.append({
            "seq": e.seq, "at": format_jst(e.at), "event": AUDIT_EVENT_LABELS.get(e.event, e.event),
            "staff": (member.login_id if member else f"職員 {e.actor_id}") if e.actor_kind == "staff"
            else (CLIENT_LABEL if e.actor_kind == "client" else "患者さん・システム"),
            "role": _role_word(e.actor_role),
            "patient": names.get(e.person_id, "") if e.person_id else "",
            "category": HEADINGS.get(e.category or "", ""),
            "decision": "閲覧できた" if e.event == "read_allowed" else ("閲覧できなかった" if e.event in
                                                                     ("read_denied", "action_refused") else ""),
            "reason": e.reason or "", "detail": "　".join(w for w in what if w),
        })
    return rows


AUDIT_CSV_COLUMNS = (("seq", "番号"), ("at", "日時"), ("event", "操作"), ("staff", "職員"), ("role", "役割"),
                     ("patient", "患者"), ("category", "情報"), ("decision", "結果"), ("reason", "理由"),
                     ("detail", "内容"))


@routes.get("/admin/audit")
@admin_required
def admin_audit():
    """監査ログ: the institution's chain, filtered, its verification state, and the CSV."""
    me = current_staff()
    wanted, entered, problems = _audit_filter()
    entries = [] if problems else audit.log_entries(reader(), me.institution_id, wanted, limit=AUDIT_LIMIT)
    broken = audit.verify_chain(reader(), me.institution_id, keyed_since=settings().audit_keyed_since)
    state = audit.chain_state(reader(), me.institution_id)
    for problem in problems:
        notify(problem, alert=True)
    return _page("console/admin_audit.html", 422 if problems else 200, rows=_audit_rows(entries), entered=entered,
                 members=staff_of(db(), me.institution_id), groups=AUDIT_GROUP_LABELS, categories=HEADINGS,
                 decisions=AUDIT_DECISION_LABELS, broken=broken, state=state, checked_at=format_jst(now()),
                 limit=AUDIT_LIMIT, query=request.query_string.decode("ascii", "replace"))


@routes.get("/admin/audit.csv")
@admin_required
def admin_audit_csv():
    """The filtered log as CSV: UTF-8 with BOM, cells Excel shows as written (web/console/excel.py)."""
    wanted, _, problems = _audit_filter()
    if problems:
        abort(422)
    entries = audit.log_entries(reader(), current_staff().institution_id, wanted, limit=100_000)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label for _, label in AUDIT_CSV_COLUMNS])
    for row in _audit_rows(entries):
        writer.writerow([excel_cell(str(row[key]), code=key == "seq") for key, _ in AUDIT_CSV_COLUMNS])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
