"""Console pages beyond the patient list: consent cancel, 照会番号, batch inquiry, admin pages."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, abort, redirect, render_template, request, session, url_for

from consent.date_input import parse_date
from consent.app import batch as batch_reads, revocation, staff_admin
from consent.errors import ConsentError
from consent.institutions import (
    LICENSED_ROLES, MAX_LAPSE_DAYS, ROLES, FunctionNotAllowed, Institution, appointments_of, staff_of,
)
from consent.vocabulary import (
    BATCH_STATUSES, FUNCTIONS, INSTITUTION_REVOCATION_REASONS, INSURANCE_KEY_LABELS, LICENSED_NOTE, RECEPTION_SETTINGS,
    REFERENCE_NUMBER_LABEL, role_label,
)
from integrations.oqs import InvalidInput
from web.console import own_consent_or_404, patient_page
from web.context import now, oqs_for, settings, today_jst
from web import metrics
from web.console.excel import excel_cell
from web.db import db, reader
from web.error_messages import ApiError, describe, function_not_allowed
from web.console.routes import Routes
from web import sessions
from web.staff_session import admin_required, current_staff, staff_required

routes = Routes()

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


def results_csv(rows: list[dict], results) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER + ["結果", "理由"])
    for row, result in zip(rows, results):
        writer.writerow([excel_cell(row.get(k) or "", code=True) for k in CSV_KEYS]
                        + [excel_cell(result.status), excel_cell(result.reason)])
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
    results = batch_reads.inquire(oqs_for(reader()), rows, institution_code=staff.institution_code, today=today_jst())
    # Kept server-side for the download link (the session lives in the database).
    session["batch_csv"] = results_csv(rows, results)
    return render_template("console/batch.html", staff=staff, rows=rows, results=results,
                           batch_statuses=BATCH_STATUSES)


@routes.get("/batch/result.csv")
@staff_required
def batch_download():
    text = session.get("batch_csv")
    if not text:
        abort(404)
    # UTF-8 with BOM: Excel then opens it with the right characters.
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=batch-result.csv"})


# --- admin --------------------------------------------------------------------------------------

def _institution() -> Institution:
    return db().get(Institution, current_staff().institution_id)


def reception_url_of(token: str, consultation_date: date | None = None) -> str:
    url = settings().origins[0] + url_for("reception.top", token=token)
    return f"{url}?date={consultation_date.isoformat()}" if consultation_date else url


def _setting_arg(raw: str | None) -> str:
    """An entry point's name from a form or query (default: online); 400 for anything else."""
    if not raw:
        return "online"
    if raw not in RECEPTION_SETTINGS:
        abort(400)
    return raw


@routes.get("/admin")
@admin_required
def admin_home():
    institution = _institution()
    appointments = appointments_of(db(), institution.id, since=today_jst())
    functions = institution.functions
    tablet_urls = [(setting, reception_url_of(institution.token_of(setting.name)), functions[setting.function])
                   for setting in RECEPTION_SETTINGS.values() if setting.tablet]
    return render_template(
        "console/admin.html", staff=current_staff(), institution=institution,
        functions=functions,
        # Only what the kind may run is offered (a visiting-nurse station: 訪問診療等 and 医療扶助).
        function_labels={name: text for name, text in FUNCTIONS.items() if name in institution.kind_info.functions}, tablet_urls=tablet_urls, max_lapse_days=MAX_LAPSE_DAYS,
        reception_url=reception_url_of(institution.reception_token),
        appointments=[(a, reception_url_of(institution.reception_token, a.consultation_date)) for a in appointments],
        members=staff_of(db(), institution.id), role_labels=role_choices(institution.kind), roles=ROLES,
        new_member=session.pop("new_member", None), error=session.pop("admin_error", None), today=today_jst(),
        max_date=today_jst() + timedelta(days=settings().max_days_ahead),
    )


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
    buffer = io.BytesIO()
    segno.make(reception_url_of(institution.token_of(setting), day), error="m").save(
        buffer, kind="svg", scale=5, border=2, title="受付用QRコード")
    return Response(buffer.getvalue(), mimetype="image/svg+xml")


@routes.post("/admin/rotate")
@admin_required
def admin_rotate():
    setting = _setting_arg(request.form.get("setting"))
    staff_admin.rotate_reception_url(db(), institution_id=current_staff().institution_id, setting=setting, now=now())
    return redirect(url_for("console.admin_home"), code=303)


@routes.post("/admin/functions")
@admin_required
def admin_functions():
    """環境設定: which functions run (a switched-off function's URLs answer 「この受付は現在行っていません」)."""
    chosen = set(request.form.getlist("functions"))
    if chosen - set(FUNCTIONS):
        abort(400)
    try:
        staff_admin.set_functions(db(), institution_id=current_staff().institution_id,
                                  running={name: name in chosen for name in FUNCTIONS})
    except FunctionNotAllowed as refused:
        db().rollback()
        session["admin_error"] = function_not_allowed(refused.kind, refused.function)
    return redirect(url_for("console.admin_home"), code=303)


@routes.post("/admin/lapse-days")
@admin_required
def admin_lapse_days():
    """The project's own lapse rule (訪問診療等): days without a recorded visit before a home-visit
    relationship ends; the open relationships follow from their last visit."""
    raw = request.form.get("home_visit_lapse_days", "").strip()[:8]
    days = int(raw) if raw.isascii() and raw.isdigit() else None
    if days is None or days > MAX_LAPSE_DAYS:
        session["admin_error"] = f"訪問の記録がないまま終了するまでの日数は、0から{MAX_LAPSE_DAYS}までの日数（整数）を入力してください。"
        return redirect(url_for("console.admin_home"), code=303)
    staff_admin.set_lapse_days(db(), institution_id=current_staff().institution_id, days=days, now=now())
    return redirect(url_for("console.admin_home"), code=303)


@routes.post("/admin/appointments")
@admin_required
def admin_appointment():
    raw = request.form.get("consultation_date", "")
    memo = request.form.get("memo", "").strip()[:200]
    day = parse_date(raw)
    if day is None:
        abort(400)
    try:
        staff_admin.add_appointment(db(), institution_id=current_staff().institution_id, consultation_date=day,
                                    memo=memo, now=now(), max_days_ahead=settings().max_days_ahead)
    except ConsentError as exc:
        session["admin_error"] = describe(exc).message
        return redirect(url_for("console.admin_home"), code=303)
    return redirect(url_for("console.admin_home"), code=303)


@routes.post("/admin/staff")
@admin_required
def admin_add_staff():
    login_id = request.form.get("login_id", "").strip()
    role = request.form.get("role", "")
    display_name = request.form.get("display_name", "").strip()[:100]
    if role not in ROLES or not (3 <= len(login_id) <= 64) or not login_id.replace("-", "").replace("_", "").isalnum() \
            or not login_id.isascii():
        abort(400)
    password = staff_admin.add_member(db(), institution_id=current_staff().institution_id, login_id=login_id,
                                      role=role, display_name=display_name, now=now())
    if password is None:
        session["admin_error"] = "そのログインIDは使われています。"
        return redirect(url_for("console.admin_home"), code=303)
    # Shown once on the next page, then forgotten.
    session["new_member"] = {"login_id": login_id, "password": password}
    return redirect(url_for("console.admin_home"), code=303)


# Ids are 32-bit integer columns: a longer number is no id (the database refused it: a 500).
@routes.post("/admin/staff/<int(max=2147483647):staff_id>/disable")
@admin_required
def admin_disable_staff(staff_id: int):
    me = current_staff()
    if staff_id == me.staff_id:
        abort(400)
    if not staff_admin.disable_member(db(), institution_id=me.institution_id, staff_id=staff_id, now=now(),
                                      browser_sessions=sessions):
        abort(404)
    return redirect(url_for("console.admin_home"), code=303)
