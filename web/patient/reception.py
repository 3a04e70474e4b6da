"""The patient's reception pages (マイナ在宅受付Web): consent registration, review, revoke.

Each institution's pages live under its opaque reception URL `/r/<token>`. The order and the
words follow the real system; QA automation depends on the labels (e2e/ and tests/web/patient/test_reception.py).
"""
from __future__ import annotations

import time
from datetime import date, timedelta

from flask import Blueprint, abort, jsonify, make_response, redirect, render_template, request, session, url_for

from consent.date_input import parse_date, parse_time
from consent.app import reception, revocation
from consent import grants, home_visits
from consent.audit import reads_of_person
from consent.institutions import appointment_by_token
from consent.category_states import current_states
from consent.errors import ConsentError
from consent.vocabulary import (
    CATEGORIES, CATEGORY_LABELS, DISASTER_CONSENT_KINDS, DISASTER_READ_LABEL, FLAG_CONSENTED, STATUS_ACTIVE, STATUS_LABELS,
    STATUS_REVOKED, VALID_CODES,
)
from consent.vocabulary import CATEGORY_NOTES, CONFIRMATION_ONLY_LABEL, NEXT_STEP_TABLET, NEXT_STEP_WAIT, PHOTO_CHECK_LABEL
from consent.vocabulary import CERTIFICATE_LABEL, SOURCE_CERTIFICATE
from web.consent_view import category_rows, deadline_label, ended_label
from web.patient.card import read_page_context, verify_card
from web.context import now, oqs_for, settings, today_jst
from web import metrics
from web.patient import tablet
from web.db import db
from web.error_messages import describe, patient_read_refusal
from web.errors import ApiError
from web.patient.reception_place import Place, find_place
from web.sessions import remember_with
from web.staff_session import current_staff

bp = Blueprint("reception", __name__, url_prefix="/r", template_folder="templates")

# After a card read for 同意照会・更新 or 取消, the patient may act for this long (real time).
CARD_GRANT_SECONDS = 10 * 60
# Kept after the done page (no personal data: the reception URL and the date): back or reload
# then says the consent is registered instead of showing a blank form that would replace it.
REGISTERED = "reception_registered"
# Kept after a revoke (no personal data), so a second tap of 「取り消す」 is answered calmly.
REVOKED = "reception_revoked"


def place_of(token: str, *, start: bool = False) -> Place:
    """The place of a patient page; on a tablet URL, only in reception mode (else the staff login,
    the 「受付モード」 page, or back to the neutral start after an idle spell). `start`: the top page."""
    place = find_place(token)
    instead = tablet.gate(place, start=start)
    if instead is not None:
        abort(make_response(instead))
    return place


def end_patient(place: Place, *, rotate: bool = False) -> None:
    """Forget the patient. On a phone the session ends (nothing stays signed in on a shared phone);
    on the tablet (and a qualification-only institution's counter device) the staff sign-in and
    reception mode stay, and nothing of the patient."""
    if tablet.in_mode(place) or tablet.counter(place):
        tablet.forget_patient()
        return
    session.clear()
    if rotate:
        session.rotate()


def _labels(categories) -> list[str]:
    return [CATEGORY_LABELS[c] for c in categories]


def render_page(template: str, place: Place, status: int = 200, **context):
    # The card goes to this place's device (a read page's context names the phone by default).
    context["card_position"] = place.card_position
    return render_template(template, place=place, category_labels=CATEGORY_LABELS, category_notes=CATEGORY_NOTES,
                           next_step_wait=NEXT_STEP_WAIT, next_step_tablet=NEXT_STEP_TABLET,
                           **tablet.page_context(place), disaster_read_label=DISASTER_READ_LABEL,
                           disaster_consent_kinds=DISASTER_CONSENT_KINDS, **context), status


def _held(categories) -> list[str]:
    """The labels of these categories, each once, in the pages' order: what a revoke ends."""
    return [CATEGORY_LABELS[c] for c in CATEGORIES if c in set(categories)]


def _deep_link_date(raw: str | None) -> date | None:
    if not raw:
        return None
    return parse_date(raw)


def _appointment_of_link(place: Place, ref: str | None) -> tuple[date | None, str | None]:
    """An appointment link's `a=`: the 診療日 the institution reserved and its time, if any (the
    link itself names no date and no patient). A deleted appointment's link opens the reception
    without a date."""
    if not ref:
        return None, None
    appointment = appointment_by_token(db(), institution_id=place.id, token=ref)
    if appointment is None:
        return None, None
    return appointment.consultation_date, appointment.start_time


# --- top -----------------------------------------------------------------------------------

@bp.get("/<token>")
def top(token: str):
    place = place_of(token, start=True)
    # Starting again from the top is a deliberate new registration (the next patient, another date).
    session.pop(REGISTERED, None)
    on_tablet = place.setting.tablet
    if on_tablet:
        tablet.forget_patient()  # the neutral start: the next patient sees nothing of the last
    if tablet.counter(place):
        tablet.forget_patient()  # the counter's start: nothing of the previous person
        return render_page("reception/qualification_top.html", place, staff=current_staff())
    fixed, fixed_time = (None, None) if on_tablet else _appointment_of_link(place, request.args.get("a"))
    if not on_tablet and fixed is None:  # a link with its date written out (?date=, &time=)
        fixed = _deep_link_date(request.args.get("date"))
        fixed_time = parse_time(request.args.get("time")) if fixed else None
    saved = session.get("reception_saved")
    saved = saved if saved and saved.get("token") == token else None
    return render_page("reception/top.html", place, fixed_date=fixed, fixed_time=fixed_time, saved=saved,
                       tablet_start=on_tablet,
                   saved_labels=_labels(saved["categories"]) if saved else [],
                   saved_date=date.fromisoformat(saved["date"]) if saved else None)


@bp.get("/<token>/qr.svg")
def qr(token: str):
    """The reception URL as a QR code (SVG), for posters and the admin page."""
    import io

    import segno

    place = find_place(token)  # a poster's QR: no staff sign-in needed to draw it
    url = settings().origins[0] + url_for("reception.top", token=place.token)
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, title="受付用QRコード")
    return buffer.getvalue(), 200, {"Content-Type": "image/svg+xml", "Cache-Control": "no-store"}


# --- 同意登録 ------------------------------------------------------------------------------

@bp.route("/<token>/consent", methods=["GET", "POST"])
def consent_form(token: str):
    place = place_of(token)
    if place.qualification_only:
        # No categories to offer here (an old link, or the mode switched on): the top page says what is.
        return redirect(url_for("reception.top", token=token), code=303)
    today = today_jst()
    max_date = today + timedelta(days=settings().max_days_ahead)
    # On the tablet the 診療日 is today (JST), not asked.
    fixed = today if place.setting.tablet else _deep_link_date(request.values.get("fixed_date"))
    # An appointment's time (its link's `time`): only beside its date, only for the done page.
    fixed_time = parse_time(request.values.get("fixed_time")) if fixed and not place.setting.tablet else None
    registered = _registered(token)
    if registered is not None:
        return render_page("reception/done_again.html", place, 200 if request.method == "GET" else 409,
                       registered=registered)
    if request.method == "GET":
        fixed = today if place.setting.tablet else _deep_link_date(request.args.get("date"))
        fixed_time = parse_time(request.args.get("time")) if fixed and not place.setting.tablet else None
        draft = session.get("reception") if session.get("reception", {}).get("token") == token else None
        chosen = draft["categories"] if draft else []
        value = (fixed or (date.fromisoformat(draft["date"]) if draft else today)).isoformat()
        return render_page("reception/consent.html", place, today=today, max_date=max_date, value=value,
                       fixed_date=fixed, fixed_time=fixed_time, chosen=chosen)

    raw_date = today.isoformat() if place.setting.tablet else request.form.get("consultation_date", "")
    chosen = CATEGORIES if request.form.get("all") else request.form.getlist("categories")
    error = None
    consultation_date = parse_date(raw_date)
    if consultation_date is None:
        error = "診療日を正しく入力してください（例: 2026-12-01）。"
    if consultation_date is not None:
        try:
            chosen = reception.check_request(
                care_setting=place.setting.care_setting, house_call=place.setting.house_call,
                qualification_only=place.qualification_only, categories=chosen,
                consultation_date=consultation_date, now=now(), max_days_ahead=settings().max_days_ahead)
        except ConsentError as exc:
            error = describe(exc).message
    if error:
        return render_page("reception/consent.html", place, 400, today=today, max_date=max_date,
                       value=raw_date[:10], fixed_date=fixed, fixed_time=fixed_time, chosen=list(chosen), error=error)
    session["reception"] = {"token": token, "date": consultation_date.isoformat(),
                            "categories": list(chosen), "fixed": fixed is not None, "time": fixed_time}
    return redirect(url_for("reception.confirm", token=token), code=303)


def _draft(token: str) -> dict | None:
    draft = session.get("reception")
    return draft if draft and draft.get("token") == token else None


def _registered(token: str) -> date | None:
    """The consultation date just registered through this reception URL in this browser."""
    marker = session.get(REGISTERED)
    if not marker or marker.get("token") != token:
        return None
    return date.fromisoformat(marker["date"])


@bp.get("/<token>/confirm")
def confirm(token: str):
    place = place_of(token)
    draft = _draft(token)
    if draft is None:
        if _registered(token) is not None:  # back from the done page
            return render_page("reception/done_again.html", place, registered=_registered(token))
        return redirect(url_for("reception.consent_form", token=token), code=303)
    consultation_date = date.fromisoformat(draft["date"])
    return render_page(
        "reception/confirm.html", place, consultation_date=consultation_date,
        labels=_labels(draft["categories"]),
        **read_page_context("register", url_for("reception.confirm_verify", token=token)),
        # 訪問診療等 and 往診 on the tablet: the photo check instead of the PIN (reception_photo.py).
        photo_check_url=url_for("photo.start", token=token) if tablet.offers_photo_check(place) else None,
        photo_check_label=PHOTO_CHECK_LABEL,
    )


def register_with_card(place: Place, *, categories, consultation_date: date, with_it=None):
    """The card step of a registration: read the card, then consent/app/reception.py confirms the
    qualification and registers the consent (a 資格確認限定型 confirmation: no categories), committed
    with `with_it`'s writes. Returns the card, what was registered and the OQS."""
    card = verify_card("register")
    oqs = oqs_for(db())
    registered = reception.register(
        db(), oqs, institution_id=place.id, institution_code=place.code, care_setting=place.setting.care_setting,
        house_call=place.setting.house_call, person_id=card.person_id, card_id=card.card_id, categories=categories,
        consultation_date=consultation_date, today=today_jst(), now=now(), max_days_ahead=settings().max_days_ahead,
        metrics=metrics, with_it=with_it)
    return card, registered, oqs


@bp.post("/<token>/confirm/verify")
def confirm_verify(token: str):
    place = place_of(token)
    draft = _draft(token)
    if draft is None:
        raise ApiError(409, "no_draft", "受付の途中で時間が経ちすぎました。最初からやり直してください。")

    def remember_on_the_phone(consent) -> None:
        # Committed with the consent: if the answer is lost after this (a failure, a killed worker),
        # reopening the reception on this phone still says the consent was registered. (The
        # tablet's next patient must not see it.)
        if not place.setting.tablet:
            remember_with(db(), "reception_saved", {
                "token": token, "date": consent.consultation_date.isoformat(),
                "categories": list(consent.categories), "deadline": deadline_label(consent)})

    card, registered, oqs = register_with_card(place, categories=draft["categories"],
                                               consultation_date=date.fromisoformat(draft["date"]),
                                               with_it=remember_on_the_phone)
    return jsonify(redirect=show_registered(place, draft, card.person_id, registered, oqs))


def show_registered(place: Place, draft: dict, person_id: str, registered, oqs) -> str:
    """After a registration (the card with its PIN, or the photo check): end the patient's sign-in,
    keep what 「同意登録が完了しました」 shows, and return that page's URL."""
    consent, qualification = registered.consent, registered.qualification
    person = oqs.person(person_id)
    done = {
        "token": place.token,
        "consent_id": consent.id,
        "date": consent.consultation_date.isoformat(),
        "categories": list(consent.categories),
        "deadline": deadline_label(consent),
        "holder": person.name if person else "",
        "valid": qualification.validity_code in VALID_CODES,
        # The appointment's time when the link had one (the done page's 「このあと」).
        "appointment_time": draft.get("time"),
    }
    # The sign-in ends with the done page: only what the page shows stays, nothing signed in.
    end_patient(place, rotate=True)
    session["reception_done"] = done
    return url_for("reception.done", token=place.token)


@bp.get("/<token>/done")
def done(token: str):
    place = place_of(token)
    summary = session.get("reception_done")
    if not summary or summary.get("token") != token:
        # Reloaded after the session ended: the consent stands; say so and point the way.
        return render_page("reception/done_again.html", place, registered=_registered(token))
    # Shown once, then the session ends (a shared phone keeps nothing but the marker).
    end_patient(place)
    session[REGISTERED] = {"token": token, "date": summary["date"]}
    return render_page("reception/done.html", place, summary=summary, labels=_labels(summary["categories"]),
                   consultation_date=date.fromisoformat(summary["date"]))


# --- 同意照会・更新 and 取消: read the card, then act for a short while -------------------------

def _grant(kind: str, place: Place) -> dict | None:
    grant = session.get(kind)
    if not grant or grant.get("institution_id") != place.id or grant.get("until", 0) < time.time():
        return None
    return grant


def _card_step(purpose: str, place: Place):
    card = verify_card(purpose)
    db().commit()  # the card's new sign count
    end_patient(place, rotate=True)
    session[purpose] = {"institution_id": place.id, "person_id": card.person_id, "card_id": card.card_id,
                        "until": time.time() + CARD_GRANT_SECONDS}


def _read_page(purpose: str, token: str) -> dict:
    """The card-read page's context for review or revoke (it posts to <purpose>_verify)."""
    return read_page_context(purpose, url_for(f"reception.{purpose}_verify", token=token))


def _card_verified(purpose: str, token: str, then: str):
    """The card step of review or revoke, then on to the `then` endpoint."""
    place = place_of(token)
    if tablet.counter(place):  # not offered at the counter: no card read, back to its start
        return jsonify(redirect=url_for("reception.top", token=token))
    _card_step(purpose, place)
    return jsonify(redirect=url_for(then, token=token))


def _not_at_the_counter(place: Place):
    """同意照会・更新 and 取消 are the patient's own: a qualification-only institution's counter
    device (operated by its staff, nothing consented there) offers neither; back to its start."""
    if tablet.counter(place):
        abort(redirect(url_for("reception.top", token=place.token), code=303))


@bp.get("/<token>/review")
def review_start(token: str):
    place = place_of(token)
    _not_at_the_counter(place)
    return render_page("reception/review_start.html", place, **_read_page("review", token))


@bp.post("/<token>/review/verify")
def review_verify(token: str):
    return _card_verified("review", token, "reception.review")


def _consent_rows(place: Place, person_id: str) -> list[dict]:
    rows = []
    current = now()
    for consent in grants.consents_of_person(db(), institution_id=place.id, person_id=person_id):
        status = grants.status_code_at(consent, current)
        day = consent.consultation_date
        rows.append({
            "id": consent.id,
            "date": day,
            # A home-visit relationship: since its first visit, with every visit recorded.
            "title": (f"訪問診療等（初回訪問 {day.year}年{day.month}月{day.day}日）" if consent.relationship
                      else f"診療日 {day.year}年{day.month}月{day.day}日"),
            "visits": ([v.visit_date for v in home_visits.visits_of(db(), consent.id)] if consent.relationship
                       else []),
            "categories": list(consent.categories),
            "labels": _labels(consent.categories),
            # A 資格確認限定型 confirmation has no categories: it says so instead (as a 資格確認書's).
            "summary": (CERTIFICATE_LABEL if consent.source == SOURCE_CERTIFICATE
                        else "、".join(_labels(consent.categories)) or CONFIRMATION_ONLY_LABEL),
            "status": STATUS_LABELS[status],
            "status_code": status,
            # A 資格確認書 confirmation is the institution's record, not the patient's consent.
            "changeable": status == STATUS_ACTIVE and consent.source != SOURCE_CERTIFICATE,
            # What 「すべての同意を取消す」 ends: a category still running (限度額 has no expiry).
            "revocable": not consent.revoked and any(
                state.flag == FLAG_CONSENTED for state in current_states(consent, current)),
            "deadline": deadline_label(consent),
            # Ended by someone's act (訪問終了, 取消): when and why, instead of a deadline or lapse.
            "ended": ended_label(consent),
            "states": category_rows(consent, current, plain=True),
        })
    return rows


def _read_log(place: Place, person_id: str) -> dict:
    """閲覧の記録, and apart from it 「閲覧できなかった記録」 with the plain reason: a refused attempt
    is not a read (issue 36)."""
    records = reads_of_person(db(), person_id=person_id, institution_id=place.id)
    return {"reads": [r for r in records if r.allowed],
            "refused": [{"record": r, "why": patient_read_refusal(r.reason)} for r in records if not r.allowed]}


@bp.get("/<token>/review/consents")
def review(token: str):
    place = place_of(token)
    _not_at_the_counter(place)
    grant = _grant("review", place)
    if grant is None:
        return redirect(url_for("reception.review_start", token=token), code=303)
    return render_page("reception/review.html", place, consents=_consent_rows(place, grant["person_id"]),
                       **_read_log(place, grant["person_id"]), changed=request.args.get("changed") == "1")


@bp.post("/<token>/review/consents/<consent_id>")
def review_change(token: str, consent_id: str):
    place = place_of(token)
    _not_at_the_counter(place)
    grant = _grant("review", place)
    if grant is None:
        return redirect(url_for("reception.review_start", token=token), code=303)
    chosen = request.form.getlist("categories")
    try:
        reception.change_categories(db(), institution_id=place.id, consent_id=consent_id,
                                    person_id=grant["person_id"], categories=chosen, now=now(), metrics=metrics)
    except ConsentError as exc:
        answer = describe(exc)
        return render_page("reception/review.html", place, answer.status,
                           consents=_consent_rows(place, grant["person_id"]), **_read_log(place, grant["person_id"]),
                           error=answer.message)
    return redirect(url_for("reception.review", token=token, changed="1"), code=303)


@bp.post("/<token>/review/end")
def review_end(token: str):
    place = place_of(token)
    end_patient(place)
    return redirect(url_for("reception.top", token=place.token), code=303)


@bp.get("/<token>/revoke")
def revoke_start(token: str):
    place = place_of(token)
    _not_at_the_counter(place)
    return render_page("reception/revoke_start.html", place, **_read_page("revoke", token))


@bp.post("/<token>/revoke/verify")
def revoke_verify(token: str):
    return _card_verified("revoke", token, "reception.revoke_confirm")


@bp.route("/<token>/revoke/confirm", methods=["GET", "POST"])
def revoke_confirm(token: str):
    place = place_of(token)
    _not_at_the_counter(place)
    grant = _grant("revoke", place)
    if grant is None:
        if session.get(REVOKED) == place.id:
            # 「取り消す」 tapped twice, or back and again: the first tap did it.
            return render_page("reception/revoked.html", place, already=True)
        if request.method == "POST":
            # Came back later: the revoke (if any) already happened.
            return render_page("reception/revoke_start.html", place, 409,
                           error="カードの読み取りからやり直してください。", **_read_page("revoke", token))
        return redirect(url_for("reception.revoke_start", token=token), code=303)
    if request.method == "GET":
        # Exactly what 「取り消す」 would revoke: consents with a category still running.
        rows = [r for r in _consent_rows(place, grant["person_id"]) if r["revocable"]]
        return render_page("reception/revoke_confirm.html", place, consents=rows,
                           held_labels=_held([c for r in rows for c in r["categories"]]))
    revoked = revocation.revoke_all_by_patient(db(), institution_id=place.id, person_id=grant["person_id"],
                                               now=now(), metrics=metrics)
    # Nothing open to revoke: an old page, or a parallel tap revoked it a moment ago.
    already = not revoked and any(r["status_code"] == STATUS_REVOKED
                                  for r in _consent_rows(place, grant["person_id"]))
    # Nothing stays of the card read; the marker (no personal data) and the CSRF token stay,
    # so a second tap in flight is not refused as a forged form.
    csrf = session.get("_csrf")
    end_patient(place)
    if revoked or already:
        session[REVOKED] = place.id
    if csrf:
        session["_csrf"] = csrf
    if not revoked:
        return render_page("reception/revoked.html", place, already=already, nothing=not already)
    return render_page("reception/revoked.html", place, count=len(revoked),
                       held_labels=_held([c for consent in revoked for c in consent.categories]))
