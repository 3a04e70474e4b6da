"""The pharmacist console: sign-in, 「同意取得済み患者一覧」, and the patient page.

Every read on the patient page goes through consent.decision.decide (and so into the audit log).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from consent import grants
from consent.date_input import parse_date, parse_month
from consent.app import reads, staff_admin
from consent.decision import CERTIFICATE_ONLY, QUALIFICATION_ONLY
from consent.login_throttle import LoginThrottled, sign_in_with_password
from consent.staff_auth import PasswordChangeError, load_identity
from consent.vocabulary import (
    CARE_SETTINGS, CATEGORY_LABELS, HEADINGS, INSTITUTION_REVOCATION_REASONS, NO_QUALIFICATION, PART_HEADINGS,
    QUALIFICATION, REVOCATION_REASONS, STATUS_ACTIVE, STATUS_LABELS, care_setting_label,
)
from consent.vocabulary import CERTIFICATE_LABEL, SOURCE_CERTIFICATE, SOURCES
from consent.vocabulary import (
    CONFIRMATION_LABEL, CONFIRMATION_ONLY_LABEL, CONSENT_LIST_LABELS, NO_EXPIRY_LABEL, QUALIFICATION_ONLY_LABEL, VALIDITY,
)
from consent.clock import JST
from consent.wareki import format_birth_date
from consent.window import aware
from integrations.oqs.inputs import REFERENCE_NUMBER_MAX
from web.consent_view import NotAsked, category_rows, deadline_label, item_rows, worded
from web.context import client_address, now, oqs_for, today_jst, wall_now
from web import metrics
from web.db import db, reader
from web.error_messages import LOGIN_MISSING, LOGIN_WRONG, describe
from web.console.patient_list import SORTS, list_sort, search_key, sort_rows
from web.console.review import history_months, review_context
from consent.actors import ROLE_LABELS
from web.console.routes import Routes
from web.errors import error_response, wants_json
from web.staff_session import current_staff, reception_mode_redirect, sign_in, sign_out, staff_required

routes = Routes()


def blueprint(*more: Routes) -> Blueprint:
    """The console blueprint (/pharmacy/, endpoints `console.*`): these routes and those of the
    console's other modules, which web/__init__.py names (admin, passkeys, API clients, ...)."""
    bp = Blueprint("console", __name__, url_prefix="/pharmacy", template_folder="templates")
    for module_routes in (routes, *more):
        module_routes.add_to(bp)
    bp.register_error_handler(403, _forbidden)
    return bp


def _forbidden(exc):
    """A page the staff member's role may not open (「管理」, 「医療券・調剤券」 for a clerk): inside the
    console's frame, with its menu and the way back (issue 36), not a bare error page."""
    staff = current_staff()
    if staff is None or wants_json():
        return error_response(403)
    return render_template("console/forbidden.html", staff=staff, role=ROLE_LABELS.get(staff.role, "")), 403


def _safe_next(target: str | None) -> str:
    # Only our own console paths: no open redirect through ?next=. Control characters (a CR/LF
    # would be refused as a Location header, a 500) never belong in one either.
    if target and any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return url_for("console.patients")
    if target and target.startswith("/pharmacy/") and not urlsplit(target).netloc and "//" not in target:
        return target
    if target and target.startswith("/oauth/authorize?") and not urlsplit(target).netloc:
        return target  # back to the API authorization page after signing in (its query holds URLs)
    return url_for("console.patients")


@routes.route("/login", methods=["GET", "POST"])
def login():
    if (back := reception_mode_redirect()) is not None:
        # A patient at a tablet in 「受付モード」 must not reach a sign-in (nor count failures against
        # the staff member's console login).
        return back
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(url_for("console.patients"))
        return render_template("console/login.html", next=request.args.get("next", ""))
    login_id = request.form.get("login_id", "").strip()[:64]
    password = request.form.get("password", "")[:256]
    next_url = request.form.get("next", "")
    if not login_id or not password:
        return render_template("console/login.html", error=LOGIN_MISSING,
                               login_id=login_id, next=next_url), 400
    try:
        identity = sign_in_with_password(db(), login_id=login_id, password=password, address=client_address(),
                                         now=wall_now())
    except LoginThrottled as exc:
        answer = describe(exc)
        return render_template("console/login.html", login_id=login_id, next=next_url,
                               error=answer.message), answer.status
    if identity is None:
        return render_template("console/login.html", login_id=login_id, next=next_url,
                               error=LOGIN_WRONG), 401
    sign_in(identity)
    return redirect(_safe_next(next_url), code=303)


@routes.route("/password", methods=["GET", "POST"])
@staff_required
def change_password():
    staff = current_staff()
    if request.method == "GET":
        return render_template("console/password.html", staff=staff)
    try:
        staff_admin.change_own_password(db(), staff_id=staff.staff_id, current=request.form.get("current", "")[:256],
                                        new=request.form.get("new", "")[:256],
                                        confirm=request.form.get("confirm", "")[:256])
    except PasswordChangeError as exc:
        answer = describe(exc)
        return render_template("console/password.html", staff=staff, error=answer.message), answer.status
    identity = load_identity(db(), staff.staff_id)
    sign_in(identity)  # a new session id with the new password
    return redirect(url_for("console.patients"), code=303)


@routes.post("/logout")
def logout():
    if (back := reception_mode_redirect()) is not None:
        return back  # leaving 「受付モード」 needs the password (web/patient/tablet.py), not a sign-out
    sign_out()
    return redirect(url_for("console.login"), code=303)


def _list_date() -> date:
    raw = request.args.get("date", "")
    if not raw:
        return today_jst()
    # YYYY-MM-DD in 1900-2099 only (fromisoformat also took week dates like 2026-W50-1).
    day = parse_date(raw)
    if day is None:
        abort(400)
    return day


def _list_setting() -> int | None:
    """The list's care-setting filter (?setting=1|2|3); None: every setting."""
    raw = request.args.get("setting", "")
    if not raw:
        return None
    # ASCII digits only: str.isdigit() also takes 「²」, which int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) == 1 and int(raw) in CARE_SETTINGS):
        abort(400)
    return int(raw)


def remaining_text(end: datetime | None, current: datetime) -> str:
    """「残り 1日 3時間」: how long the window still runs, for a glance; 「期限なし」 for a home-visit
    relationship at an institution that sets no lapse (end None)."""
    if end is None:
        return NO_EXPIRY_LABEL
    left = end - current
    if left <= timedelta(0):
        return "期限切れ"
    hours = int(left.total_seconds() // 3600)
    minutes = int(left.total_seconds() % 3600 // 60)
    if hours >= 24:
        return f"残り {hours // 24}日 {hours % 24}時間"
    if hours:
        return f"残り {hours}時間 {minutes}分"
    return f"残り {max(minutes, 1)}分"


def patient_rows(institution_id: int, institution_code: str, day: date,
                 care_setting: int | None = None, sort: str = "time") -> list[dict]:
    # Read-only: on SQLite, reading through db() would hold the write lock while the page renders.
    oqs = oqs_for(reader())
    current = now()
    consents = grants.consents_for_date(reader(), institution_id=institution_id, consultation_date=day)
    if care_setting is not None:
        # A 資格確認限定型 confirmation has no 診療区分: it is listed under 「すべて」 only.
        consents = [c for c in consents if c.care_setting == care_setting and not c.confirmation_only]
    person_ids = [c.person_id for c in consents]
    # Two queries for the whole day, not two per patient: a busy day has hundreds.
    people = oqs.identities(person_ids)
    references = oqs.reference_numbers(institution_code=institution_code, person_ids=person_ids)
    # url_for once, not once per row: it is the slowest part of a 500-row page.
    href = url_for("console.patient", consent_id="__id__")
    rows = []
    for consent in consents:
        person = people.get(consent.person_id)
        status = grants.status_code_at(consent, current)
        born = person.birth_date if person else None
        # A 資格確認限定型 confirmation: 「資格確認」 and its time; no consent, categories or 閲覧期限.
        confirmation = consent.confirmation_only
        # Neither it nor a 資格確認書's record holds any consent: no 「同意あり」 for them.
        consented = not confirmation and consent.source != SOURCE_CERTIFICATE
        # Text made here, not in the template: at 500 rows Jinja's per-cell work is most of the page.
        rows.append({
            "id": consent.id,
            "href": href.replace("__id__", consent.id),
            "name": person.name if person else "（不明）",
            "kana": person.kana if person else "",
            "born": format_birth_date(born) if born else "",  # 「1954年2月1日（昭和29年）」
            "status": CONSENT_LIST_LABELS[status] if consented else "",
            "search": search_key(person.name, person.kana) if person else "",
            "received": aware(consent.consented_at).astimezone(JST).strftime("%H:%M"),
            "status_code": status,
            "setting": CONFIRMATION_LABEL if confirmation else care_setting_label(consent.care_setting,
                                                                                  consent.house_call),
            # A 資格確認限定型 confirmation has no categories (and no 閲覧期限 to count down); a 資格確認書's
            # says so; a home-visit relationship with no category (a first visit without consent) 「資格確認のみ」.
            "labels": "" if confirmation else (
                CERTIFICATE_LABEL if consent.source == SOURCE_CERTIFICATE else
                "、".join(CATEGORY_LABELS[c] for c in consent.categories) or CONFIRMATION_ONLY_LABEL),
            "validity": VALIDITY.get(consent.validity_code, "未確認"),
            "remaining": (remaining_text(consent.ends_at, current)
                          if status == STATUS_ACTIVE and consent.categories else ""),
            "reference_number": references.get(consent.person_id) or "",
            "consented_at": consent.consented_at,
        })
    return sort_rows(rows, sort)


@routes.get("/")
@staff_required
def patients():
    staff = current_staff()
    day, setting = _list_date(), _list_setting()
    sort = list_sort(request.args.get("sort"))
    rows = patient_rows(staff.institution_id, staff.institution_code, day, setting, sort)
    return render_template("console/patients.html", staff=staff, day=day, rows=rows, setting=setting, sort=sort,
                           sorts=SORTS,
                           care_settings=CARE_SETTINGS, prev_day=day - timedelta(days=1),
                           next_day=day + timedelta(days=1),
                           qualification_only=grants.is_qualification_only(reader(), staff.institution_id),
                           qualification_only_label=QUALIFICATION_ONLY_LABEL)


@routes.get("/patients-fragment")
@staff_required
def patients_fragment():
    """The list's rows alone: the page's script swaps them in so new patients appear by themselves."""
    staff = current_staff()
    day = _list_date()
    rows = patient_rows(staff.institution_id, staff.institution_code, day, _list_setting(),
                        list_sort(request.args.get("sort")))
    return render_template("console/patient_rows.html", rows=rows, day=day)


# --- the patient page -------------------------------------------------------------------------

# The sections every patient page shows (QA automation looks for these headings), then the
# other categories, shown when the patient consented to them. Headings: vocabulary.HEADINGS.
ALWAYS_SHOWN = (QUALIFICATION, "limit", "drug", "checkup")
SHOWN_WHEN_CONSENTED = ("clinical", "surgery", "specific_disease")


def _month(raw: str | None) -> str | None:
    """`2026-05` (a month input) or `202605` → `202605`; anything else → None."""
    if not raw:
        return None
    return parse_month(raw)


def drug_parts(records: list) -> dict:
    """薬剤情報 as the page shows it: two sources in one category, e-prescription data (fresh, 100
    days) apart from the claims."""
    return {"prescriptions": [r for r in records if r.source == "prescription"],
            "claims": [r for r in records if r.source == "claims"]}




def own_consent_or_404(staff, consent_id: str, session: Session | None = None):
    """A consent of the signed-in staff's institution; 404 otherwise.

    Unknown and another institution's ids get the same answer: no hint that a consent exists.
    `session`: reader() for pages that only read; db() (the default) before a change.
    """
    consent = grants.get_consent(session or db(), institution_id=staff.institution_id, consent_id=consent_id[:64])
    if consent is None:
        abort(404)
    return consent


@routes.get("/consents/<consent_id>")
@staff_required
def patient(consent_id: str):
    return patient_page(consent_id)


@routes.get("/consents/<consent_id>/print")
@staff_required
def patient_print(consent_id: str):
    """「印刷用」: the review on A4 (web/console/review.py; the same reads, audited the same way)."""
    return patient_page(consent_id, template="console/patient_print.html")


# Refusals that hold for every data section alike: the page shows them once, in place of the sections.
WHOLLY_REFUSED = (QUALIFICATION_ONLY, CERTIFICATE_ONLY)


def patient_page(consent_id: str, *, reference_error: str | None = None, reference_entered: str | None = None,
                 template: str = "console/patient.html"):
    """The patient page; `reference_error` says why a 照会番号 was refused (then 400)."""
    staff = current_staff()
    consent = own_consent_or_404(staff, consent_id, reader())
    drug_from, drug_to = _month(request.args.get("from")), _month(request.args.get("to"))
    # Months the wrong way round: said beside the filter (the OQS would refuse them: a 500).
    filter_error = ("診療年月（から）は診療年月（まで）以前にしてください。"
                    if drug_from and drug_to and drug_from > drug_to else None)
    oqs = oqs_for(reader())
    actor = staff.actor()
    current, today = now(), today_jst()
    # A 資格確認限定型 confirmation shows its qualification and nothing else: no data is asked for,
    # no consent rows, no 「同意の取消」 (the API still answers 403 qualification_only to data reads).
    confirmation = consent.confirmation_only
    shown = (QUALIFICATION,) if confirmation else (
        ALWAYS_SHOWN + tuple(c for c in SHOWN_WHEN_CONSENTED if c in consent.categories))
    # A category the patient never consented to is not requested at all (issue 36): no read
    # attempt in the patient's log, and the page says 「同意の対象外」. (A 資格確認限定型 institution
    # still asks, and is refused for its mode, as it always was.)
    qualification_only = grants.is_qualification_only(reader(), staff.institution_id)
    # A 資格確認書 confirmation asks too: each data section refused (and audited) with its reason.
    by_certificate = consent.source == SOURCE_CERTIFICATE
    asked = tuple(c for c in shown
                  if qualification_only or by_certificate or c == QUALIFICATION or c in consent.categories)
    decided = dict(zip(asked, worded(reads.decide_reads(
        db(), actor=actor, institution_id=staff.institution_id, categories=asked, now=current, metrics=metrics,
        person_id=consent.person_id, consent_id=consent.id))))
    decisions = [decided.get(category) or NotAsked(category) for category in shown]
    person = oqs.person(consent.person_id)
    # Drugs unfiltered: the review needs today's drugs whatever months the history shows (the month
    # filter picks dispensings in web/console/review.py).
    subject = reads.Subject.of_consent(consent, institution_code=staff.institution_code, today=today)
    sections = []
    for category, decision in zip(shown, decisions):
        skip = category == "drug" and filter_error is not None
        data = reads.load(category, oqs, subject) if decision.allowed and not skip else None
        if category == "drug" and data is not None:
            data = drug_parts(data)
        sections.append({"category": category, "heading": HEADINGS[category], "decision": decision,
                         "data": data})
    # 資格確認限定型: one refusal instead of the data sections, each refused (and audited) all the same.
    refused_here = [s for s in sections if s["decision"].reason in WHOLLY_REFUSED]
    sections = [s for s in sections if s["decision"].reason not in WHOLLY_REFUSED]
    review = review_context(sections, today=today, person=person, months=history_months(request.args.get("months")),
                            drug_from=drug_from, drug_to=drug_to, scope=staff.institution_code)
    status = grants.status_code_at(consent, current)
    reference = oqs.reference_number(institution_code=staff.institution_code, person_id=consent.person_id)
    return render_template(
        template, staff=staff, viewed_at=current, **review, consent=consent, person=person, sections=sections,
        status=STATUS_LABELS[status], status_code=status, deadline=deadline_label(consent),
        remaining=remaining_text(consent.ends_at, current) if status == STATUS_ACTIVE else "",
        labels=[CATEGORY_LABELS[c] for c in consent.categories], drug_from=drug_from, drug_to=drug_to,
        reference_number=reference, revocation_reasons=REVOCATION_REASONS, filter_error=filter_error,
        no_qualification=NO_QUALIFICATION, parts=PART_HEADINGS,
        reference_max=REFERENCE_NUMBER_MAX, reference_error=reference_error,
        reference_entered=reference if reference_entered is None else reference_entered,
        category_rows=category_rows(consent, current), item_rows=item_rows(consent, current),
        institution_reasons=INSTITUTION_REVOCATION_REASONS,
        may_revoke=(staff.is_admin or staff.licensed) and not consent.revoked and not consent.nothing_to_end,
        care_setting_label=care_setting_label, confirmation=confirmation, confirmation_text=CONFIRMATION_LABEL,
        qualification_only_refusal=refused_here[0]["decision"].message if refused_here else None,
        qualification_only_headings="・".join(s["heading"] for s in refused_here),
        confirmation_label=CERTIFICATE_LABEL if by_certificate else CONFIRMATION_ONLY_LABEL,
        source_label=SOURCES.get(consent.source, ""),
    ), 400 if filter_error or reference_error else 200
