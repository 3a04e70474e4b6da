"""「訪問患者」: the institution's home-visit relationships, with 「再照会」 (the card-less re-inquiry of
a later visit), 「訪問を記録」 and 「訪問終了」 (consent/home_visits.py).

Every role may run a 再照会 (it returns the qualification, which every role may see) and record a
visit; 訪問終了 ends the consent, so admins and pharmacists only, after a confirmation - as the
patient page's 取消. Drug and checkup data are read on the patient page, under the relationship.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, redirect, render_template, request, url_for

from consent.date_input import parse_date
from consent import grants, home_visits
from consent.app import certificate, home_visits as app_home_visits, revocation
from consent.errors import ConsentError
from consent.institutions import Institution, runs_function
from consent.insurance_keys import KeysRefused, parse_insurance_keys
from consent.vocabulary import (
    BY_INSTITUTION, FUNCTION_HOME_VISIT, HEADINGS, HOME_VISIT, INSURANCE_KEY_LABELS, QUALIFICATION, REVOCATION_REASONS,
    NO_EXPIRY_LABEL, SOURCE_CERTIFICATE, STATUS_ACTIVE, STATUS_EXPIRED, STATUS_LABELS, STATUS_REVOKED, VALID_CODES,
    lapse_rule_text,
)
from integrations.oqs import InvalidInput
from web import metrics
from web.console import own_consent_or_404
from web.consent_view import category_rows, certificate_result, deadline_label
from web.context import RATE_LIMITS, now, oqs_for, today_jst
from web.db import db, reader
from web.error_messages import (
    CERTIFICATE_NOT_FOUND, CERTIFICATE_SEVERAL, certificate_refusal, describe, fields_at_fault,
)
from web.console.routes import Routes
from web.errors import ApiError
from web.staff_session import current_staff, staff_required

routes = Routes()

# The 再照会 form, in the order staff read them off the insurance card.
REINQUIRY_FIELDS = INSURANCE_KEY_LABELS
DONE_NOTES = {"visit": "訪問を記録しました。", "end": "訪問終了を記録しました。この患者さんの情報は閲覧できなくなりました。"}


def _state_text(consent, current) -> str:
    """The relationship's state as the list shows it."""
    status = grants.status_code_at(consent, current)
    if status == STATUS_ACTIVE:
        return "訪問中"
    if status == STATUS_EXPIRED:
        return "終了（訪問の記録がないまま期間が過ぎました）"
    if consent.revocation_reason == BY_INSTITUTION:
        return "訪問終了"
    return f"終了（{REVOCATION_REASONS.get(consent.revocation_reason) or STATUS_LABELS[STATUS_REVOKED]}）"


def _ymd(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def relationship_view(consent, person, current) -> dict[str, Any]:
    days = home_visits.days_until_lapse(consent, current)
    return {
        "id": consent.id,
        "name": person.name if person else "（不明）",
        "kana": person.kana if person else "",
        "first_visit": _ymd(consent.consultation_date),
        "last_visit": _ymd(consent.last_visit_date),
        "state": _state_text(consent, current),
        "open": home_visits.is_open(consent, current),
        # An open relationship without a lapse (the institution sets none) has no end ahead.
        "days_left": (NO_EXPIRY_LABEL if home_visits.is_open(consent, current) else "") if days is None
        else (f"あと{days}日" if days else "本日まで"),
        "deadline": deadline_label(consent),
    }


def _switched_on(staff) -> None:
    """訪問診療等 switched off (環境設定) is off on every path: its pages answer 404, as 医療扶助's do."""
    if not runs_function(reader(), staff.institution_id, FUNCTION_HOME_VISIT):
        raise ApiError(404, "function_off", "訪問診療等の機能は環境設定で停止中です（管理画面の「環境設定」）。")


def _may_end(staff) -> bool:
    return staff.is_admin or staff.licensed


def _page(template: str, status: int = 200, **context):
    staff = current_staff()
    return render_template(template, staff=staff, fields=REINQUIRY_FIELDS, today=today_jst(), headings=HEADINGS,
                           qualification=QUALIFICATION, may_end=_may_end(staff), **context), status


def _lapse_rule(staff) -> str:
    """The list's note: the institution's lapse rule (none unless 環境設定 sets one)."""
    return lapse_rule_text(home_visits.lapse_days_of(reader(), staff.institution_id))


@routes.get("/home-visits")
@staff_required
def home_visit_patients():
    staff = current_staff()
    _switched_on(staff)
    current = now()
    relationships = home_visits.relationships_of(reader(), staff.institution_id)
    people = oqs_for(reader()).identities([c.person_id for c in relationships])
    rows = [relationship_view(c, people.get(c.person_id), current) for c in relationships]
    return _page("console/home_visits.html", rows=rows, entered={}, note=DONE_NOTES.get(request.args.get("done", "")),
                 lapse_rule=_lapse_rule(staff), certificates=certificates_of_today(staff))


def certificates_of_today(staff) -> list[dict[str, Any]]:
    """Today's 資格確認書 confirmations of home visits (with their time), for the list beside the relationships."""
    confirmed = [c for c in grants.consents_for_date(reader(), institution_id=staff.institution_id,
                                                     consultation_date=today_jst())
                 if c.source == SOURCE_CERTIFICATE and c.care_setting == HOME_VISIT]
    people = oqs_for(reader()).identities([c.person_id for c in confirmed])
    return [{"id": c.id, "name": people[c.person_id].name if c.person_id in people else "（不明）",
             "kana": people[c.person_id].kana if c.person_id in people else "",
             "confirmed_at": c.qualification_confirmed_at} for c in confirmed]


def _entered() -> dict[str, str]:
    return {key: request.form.get(key, "").strip()[:100] for key in REINQUIRY_FIELDS}


def _list_with_error(message: str, status: int, entered: dict[str, str]):
    staff = current_staff()
    current = now()
    relationships = home_visits.relationships_of(reader(), staff.institution_id)
    people = oqs_for(reader()).identities([c.person_id for c in relationships])
    rows = [relationship_view(c, people.get(c.person_id), current) for c in relationships]
    return _page("console/home_visits.html", status, rows=rows, entered=entered, error=message,
                 lapse_rule=_lapse_rule(staff), certificates=certificates_of_today(staff))


def _certificate_page(status: int = 200, *, entered: dict[str, str] | None = None, error: str | None = None,
                      invalid: tuple[str, ...] = ()):
    return _page("console/certificate.html", status, entered=entered or {}, error=error, invalid=invalid,
                 action=url_for("console.certificate_confirmation"))


@routes.get("/home-visits/certificate")
@staff_required
def certificate_form():
    """「資格確認書で確認」's form."""
    _switched_on(current_staff())
    return _certificate_page()


@routes.post("/home-visits/certificate")
@staff_required
def certificate_confirmation():
    """資格確認書で確認: a patient without a usable card at a visit - the qualification from the
    資格確認書's numbers, recorded (source "certificate"), and no data (consent/app/certificate.py)."""
    staff = current_staff()
    _switched_on(staff)
    certificate.count_confirmation(RATE_LIMITS, staff.actor())
    entered = {key: request.form.get(key, "").strip()[:100] for key in REINQUIRY_FIELDS}

    def refused(message: str, status: int, invalid: tuple[str, ...] = ()):
        return _certificate_page(status, entered=entered, error=message, invalid=invalid)

    try:
        keys = parse_insurance_keys(entered, wareki=True)
        found = certificate.confirm(db(), oqs_for(reader()), actor=staff.actor(),
                                    institution_code=staff.institution_code, care_setting=HOME_VISIT,
                                    house_call=False, keys=keys, today=today_jst(), now=now(), metrics=metrics)
    except (KeysRefused, InvalidInput, ConsentError) as exc:  # nothing written
        return refused(certificate_refusal(exc), describe(exc).status, fields_at_fault(exc))
    if not found.found:
        return refused(CERTIFICATE_SEVERAL if found.several else CERTIFICATE_NOT_FOUND, 404)
    return _page("console/certificate_done.html", **certificate_result(found))


@routes.post("/home-visits/reinquiry")
@staff_required
def reinquiry():
    """再照会: the qualification by insurance keys and birth date, and this institution's relationship."""
    staff = current_staff()
    _switched_on(staff)
    app_home_visits.count_reinquiry(RATE_LIMITS, staff.actor())
    return _reinquire(staff, _entered())


@routes.post("/home-visits/<consent_id>/reinquiry")
@staff_required
def reinquiry_row(consent_id: str):
    """One-click 再照会 from a row of 「訪問患者」: the keys recorded at the first visit, no typing
    (the form above still takes new ones when the card changed)."""
    staff = current_staff()
    _switched_on(staff)
    app_home_visits.count_reinquiry(RATE_LIMITS, staff.actor())
    consent = own_consent_or_404(staff, consent_id, reader())
    if not consent.relationship:
        abort(404)
    keys = app_home_visits.first_visit_keys(oqs_for(reader()), consent, institution_code=staff.institution_code)
    return _reinquire(staff, keys)


def _reinquire(staff, entered: dict[str, str]):
    """The 再照会 with keys as the form holds them (typed, or the first visit's), answered as a page."""
    try:
        keys = parse_insurance_keys(entered)  # as the API and 災害時閲覧 take them
        found = app_home_visits.reinquire(db(), oqs_for(reader()), actor=staff.actor(),
                                          institution_code=staff.institution_code, keys=keys, today=today_jst(),
                                          now=now(), metrics=metrics)
    except (KeysRefused, InvalidInput) as exc:  # missing keys, a wrong check digit: nothing written
        answer = describe(exc)
        return _list_with_error(answer.message, answer.status, entered)
    qualification, consent = found.qualification, found.consent
    if not found.found:
        # Nobody, or a wrong birth date: the same answer either way.
        return _list_with_error("該当する方が見つかりませんでした。入力した内容（生年月日を含む）を確認してください。",
                                404, entered)
    current = now()
    institution = reader().get(Institution, staff.institution_id)
    return _page(
        "console/reinquiry.html", q=qualification, valid=qualification.validity_code in VALID_CODES,
        relationship=relationship_view(consent, qualification, current) if consent is not None else None,
        category_rows=category_rows(consent, current) if consent is not None else [],
        # The first-visit flow runs on the institution's tablet, at its home_visit reception URL.
        first_visit_url=(url_for("reception.top", token=institution.token_of("home_visit"))
                         if institution.function_home_visit else None),
    )


@routes.post("/home-visits/<consent_id>/visits")
@staff_required
def record_visit(consent_id: str):
    """訪問を記録 (the date defaults to today; a day already recorded stays one visit)."""
    staff = current_staff()
    _switched_on(staff)
    raw = request.form.get("visit_date", "").strip()[:10] or today_jst().isoformat()
    visit_date = parse_date(raw)
    if visit_date is None:
        return _list_with_error("訪問日を正しく入力してください（例: 2026-12-01）。", 422, {})
    # Another institution's or an unknown id: ConsentNotFound, the same 404 page.
    app_home_visits.record_visit(db(), actor=staff.actor(), consent_id=consent_id[:64], visit_date=visit_date,
                                 now=now())
    return redirect(url_for("console.home_visit_patients", done="visit"), code=303)


@routes.post("/home-visits/<consent_id>/end")
@staff_required
def end_visits(consent_id: str):
    """訪問終了 (revocation reason 1), after a confirmation page."""
    staff = current_staff()
    _switched_on(staff)
    if not _may_end(staff):
        abort(403)
    consent = own_consent_or_404(staff, consent_id)
    if not consent.relationship:
        abort(404)
    if request.form.get("confirm") != "yes":
        person = oqs_for(reader()).person(consent.person_id)
        db().rollback()
        return _page("console/visit_end_confirm.html",
                     relationship=relationship_view(consent, person, now()))
    revocation.end_consent(db(), actor=staff.actor(), consent_id=consent.id, reason=BY_INSTITUTION, now=now(),
                           metrics=metrics)
    return redirect(url_for("console.home_visit_patients", done="end"), code=303)
