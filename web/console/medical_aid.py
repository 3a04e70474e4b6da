"""「医療券・調剤券 一括取得」 (委託先資格情報の一括取得, docs/sources.md [004]): the month's medical-aid tickets naming
this institution, with their qualifications, as a table and an Excel-safe CSV.

Admins and pharmacists only (clerks are refused): the list names every recipient entrusted to the
institution, patients who gave no consent here included, as the real interface's bulk fetch does.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, abort, render_template, request

from consent.app import batch
from consent.date_input import parse_month
from consent.decision import QUALIFICATION_ONLY
from consent.institutions import runs_function
from consent.vocabulary import FUNCTION_MEDICAL_AID
from integrations.oqs import EntrustedTicket, InvalidInput
from integrations.oqs.inputs import month_of
from web.console.excel import excel_cell
from web.context import now, oqs_for, today_jst
from web.db import db, reader
from web.error_messages import TICKETS_QUALIFICATION_ONLY, describe
from web.errors import ApiError
from web.console.routes import Routes
from web.staff_session import current_staff, staff_required

routes = Routes()

CSV_HEADER = ["受給者番号", "公費負担者番号", "氏名", "カナ氏名", "生年月日", "医療券・調剤券別", "診療年月", "診療別",
              "有効開始年月日", "有効終了年月日", "単独・併用別", "交付番号", "指定医療機関コード", "処方箋発行医療機関コード",
              "処方箋発行医療機関名", "福祉事務所名", "地区担当員名", "取扱担当者名", "傷病名", "医療保険の保険者番号",
              "医療保険の記号・番号・枝番", "照会番号"]
# Columns that hold codes or numbers: kept as text so Excel keeps the leading zeros.
CODE_COLUMNS = frozenset({"受給者番号", "公費負担者番号", "医療券・調剤券別", "診療年月", "診療別", "単独・併用別", "交付番号",
                          "指定医療機関コード", "処方箋発行医療機関コード", "医療保険の保険者番号", "照会番号"})
def allowed_staff():
    """The signed-in admin or pharmacist; 403 for a clerk; 404 when 医療扶助 is switched off (環境設定)."""
    staff = current_staff()
    if not (staff.is_admin or staff.licensed):
        abort(403)
    if not runs_function(reader(), staff.institution_id, FUNCTION_MEDICAL_AID):
        raise ApiError(404, "function_off", "医療扶助の機能は環境設定で停止中です（管理画面の「環境設定」）。")
    return staff


def _month(raw: str | None, today: date) -> str | None:
    """`2026-11` (a month input) or `202611`; this month when absent; None when malformed."""
    if raw is None or raw == "":
        return month_of(today)
    # Years 1900-2099: `0000-01` passed a digits-only check and broke the month's first day (a 500).
    return parse_month(raw)


def _ymd(day: date | None) -> str:
    return day.isoformat() if day else ""


def csv_row(entry: EntrustedTicket) -> dict[str, str]:
    """One ticket as the CSV's columns (plain strings, codes as the interface has them)."""
    ticket, aid = entry.ticket, entry.qualification
    insurance = next((r for r in entry.records if r.insurer_number), None)
    return {
        "受給者番号": aid.recipient_number or "", "公費負担者番号": aid.public_payer_number or "",
        "氏名": aid.name or "", "カナ氏名": aid.kana or "", "生年月日": _ymd(aid.birth_date),
        "医療券・調剤券別": ticket.ticket_type_code, "診療年月": ticket.treatment_month, "診療別": ticket.care_kind,
        "有効開始年月日": _ymd(ticket.valid_from), "有効終了年月日": _ymd(ticket.valid_until),
        "単独・併用別": ticket.combination_code, "交付番号": ticket.issue_number,
        "指定医療機関コード": ticket.institution_code,
        "処方箋発行医療機関コード": ticket.prescribing_institution_code or "",
        "処方箋発行医療機関名": ticket.prescribing_institution_name or "",
        "福祉事務所名": aid.welfare_office or "", "地区担当員名": ticket.district_officer, "取扱担当者名": ticket.handler,
        "傷病名": "、".join(ticket.diseases),
        "医療保険の保険者番号": insurance.insurer_number if insurance else "",
        "医療保険の記号・番号・枝番": "・".join(x or "" for x in (insurance.symbol, insurance.number, insurance.branch))
        if insurance else "",
        "照会番号": aid.reference_number or "",
    }


def tickets_csv(entries: list[EntrustedTicket]) -> str:
    """UTF-8 with BOM (Excel then reads the Japanese), CRLF, formulas neutralised, codes as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in entries:
        row = csv_row(entry)
        writer.writerow([excel_cell(row[name], code=name in CODE_COLUMNS) for name in CSV_HEADER])
    return "\ufeff" + out.getvalue()


def _fetch(staff, month: str):
    """The month's tickets, the fetch audited (consent/ticket_reads.py); 403 at a 資格確認限定型 institution."""
    entries = batch.fetch_entrusted_tickets(db(), reader(), oqs_for(reader()), actor=staff.actor(),
                                            institution_code=staff.institution_code, month=month,
                                            today=today_jst(), now=now())
    if entries is None:
        raise ApiError(403, QUALIFICATION_ONLY, TICKETS_QUALIFICATION_ONLY)
    return entries


@routes.get("/medical-aid/tickets")
@staff_required
def entrusted_tickets():
    staff = allowed_staff()
    today = today_jst()
    month = _month(request.args.get("month"), today)
    error, entries = None, None
    if month is None:
        error = "診療年月は「2026-11」のような年月で指定してください。"
    else:
        try:
            entries = _fetch(staff, month)
        except InvalidInput as exc:
            error = describe(exc).message
    return render_template(
        "console/entrusted_tickets.html", staff=staff, month=month or "", this_month=month_of(today),
        entries=entries, rows=[csv_row(e) for e in entries or ()], error=error,
    ), 400 if error else 200


@routes.get("/medical-aid/tickets.csv")
@staff_required
def entrusted_tickets_csv():
    staff = allowed_staff()
    month = _month(request.args.get("month"), today_jst())
    if month is None:
        abort(400)
    try:
        entries = _fetch(staff, month)
    except InvalidInput:
        abort(400)
    return Response(tickets_csv(entries), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=entrusted-tickets-{month}.csv"})
