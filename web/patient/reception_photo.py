"""The photo check (目視確認) on the institution's tablet: 「暗証番号を使わずに確認（目視確認）」.

Since October 2024 the institution's device running マイナ資格確認アプリ（居宅同意取得型） may identify
the patient by comparing the card's face photo with them instead of the PIN - for the elderly at
home who forgot it. Here: on the tablet URLs of 訪問診療等 and 往診 (home_visit, house_call; also at
visiting-nurse stations), in 「受付モード」, after the categories were chosen (the confirm page):

1. The staff member enters the birth date printed on the card: the cards of the people born that
   day are the ones the read may find (a read without the PIN finds no card by itself: an
   authenticator looks up its discoverable credentials only after user verification), as the
   real card gives its face photo without the PIN only for the 生年月日 (with 有効期限 and
   セキュリティコード, which the sandbox's cards do not have) printed on it. The search is audited.
   「読み取り開始」 then reads the card with user presence only (options with userVerification
   "discouraged" naming those cards; the challenge is stored with the purpose PHOTO_CHECK, and only
   that purpose's assertions may come without user verification: integrations/card/relying_party.py).
   The card's sign count and single-use challenge are checked as for every read.
2. The card authority's face image (a drawn placeholder in the sandbox) is shown with the holder's
   name and birth date; the signed-in staff member ticks 「本人であることを確認しました」 and
   registers. consent/app/reception.register_photo_checked records `verification` "photo" and the
   staff member (the audit entry names both); without the tick nothing is written.
3. 「中止」 forgets the read and the patient's choices: nothing is recorded.

Everywhere else (the patient's phone, the outpatient tablet, review, revoke, sign-in) a card read
without the PIN is refused as before.
"""
from __future__ import annotations

import base64
import time
from datetime import date

from flask import Blueprint, abort, jsonify, redirect, request, session, url_for

from consent.app import reception
from consent.date_input import parse_birth_date
from consent.errors import ConsentError
from consent.vocabulary import PHOTO_CHECK_LABEL, PHOTO_CONFIRMED_LABEL
from integrations.card.relying_party import PHOTO_CHECK
from web import metrics
from web.context import card_authority_for, now, oqs_for, settings, today_jst
from web.db import db
from web.error_messages import PHOTO_BIRTH_DATE, describe
from web.errors import ApiError
from web.patient import tablet
from web.patient.card import options_response, read_page_context, verify_card
from web.patient.reception import (
    CARD_GRANT_SECONDS, _draft, _labels, _registered, end_patient, place_of, render_page, show_registered,
)
from web.patient.reception_place import Place
from web.sessions import commit_with_session
from web.staff_session import current_staff

bp = Blueprint("photo", __name__, url_prefix="/r", template_folder="templates")

# What the photo check's card read allowed (no personal data but ids): the card, its holder, until when.
GRANT = "photo_check"
# The cards the birth-date step found (credential ids, base64url), until when.
CARDS = "photo_check_cards"


def _photo_place(token: str) -> Place:
    """The place of a photo-check page; 404 where the photo check is not offered (the patient's
    phone above all: there a card read without the PIN is never accepted)."""
    place = place_of(token)
    if not tablet.offers_photo_check(place):
        abort(404)
    return place


def _grant(place: Place) -> dict | None:
    grant = session.get(GRANT)
    if not grant or grant.get("token") != place.token or grant.get("until", 0) < time.time():
        return None
    return grant


def _cards(place: Place) -> tuple[bytes, ...]:
    """The cards this photo check may read (the birth-date step found them), if it still may."""
    found = session.get(CARDS)
    if not found or found.get("token") != place.token or found.get("until", 0) < time.time():
        return ()
    return tuple(base64.urlsafe_b64decode(c) for c in found["cards"])


def _read_page(place: Place, draft: dict, status: int = 200, **context):
    """The birth-date step, or (once it found the cards) the card read without the PIN."""
    token = place.token
    if _cards(place):
        context.update(read_page_context(PHOTO_CHECK, url_for("photo.verify", token=token)))
        context["card_options_url"] = url_for("photo.options", token=token)
    return render_page("reception/photo_read.html", place, status, photo_check_label=PHOTO_CHECK_LABEL,
                       consultation_date=date.fromisoformat(draft["date"]), labels=_labels(draft["categories"]),
                       cards_found=bool(_cards(place)), **context)


@bp.route("/<token>/photo", methods=["GET", "POST"])
def start(token: str):
    """The photo check: the birth date printed on the card (POST), then the card read without the PIN."""
    place = _photo_place(token)
    draft = _draft(token)
    if draft is None:
        return redirect(url_for("reception.confirm", token=token), code=303)
    if request.method == "GET":
        if request.args.get("again") == "1":  # 「生年月日を入力し直す」
            session.pop(CARDS, None)
        return _read_page(place, draft)
    session.pop(CARDS, None)
    raw = request.form.get("birth_date", "")[:40]
    birth_date = parse_birth_date(raw, wareki=True)
    if birth_date is None:
        return _read_page(place, draft, 400, birth_date=raw, error=PHOTO_BIRTH_DATE)
    try:
        cards = reception.photo_check_cards(db(), oqs_for(db()), card_authority_for(db()),
                                            actor=current_staff().actor(), birth_date=birth_date, now=now())
    except ConsentError as exc:
        answer = describe(exc)
        return _read_page(place, draft, answer.status, birth_date=raw, error=answer.message)
    session[CARDS] = {"token": place.token, "cards": [base64.urlsafe_b64encode(c).decode() for c in cards],
                      "until": time.time() + CARD_GRANT_SECONDS}
    return redirect(url_for("photo.start", token=token), code=303)


@bp.post("/<token>/photo/options")
def options(token: str):
    cards = _cards(_photo_place(token))
    if not cards:
        raise ApiError(409, "no_birth_date", "生年月日の入力からやり直してください。")
    return options_response(PHOTO_CHECK, cards)


@bp.post("/<token>/photo/verify")
def verify(token: str):
    place = _photo_place(token)
    if _draft(token) is None:
        raise ApiError(409, "no_draft", "受付の途中で時間が経ちすぎました。最初からやり直してください。")
    cards = _cards(place)
    session.pop(GRANT, None)  # a new read replaces (or, refused, ends) an earlier one
    card = verify_card(PHOTO_CHECK)
    if card.credential_id not in cards:
        # Not one of the cards of the birth date entered (a card swapped after the step).
        commit_with_session(db())  # the read happened: its sign count stands
        raise ApiError(403, "other_card", "生年月日を入力したカードとは別のカードです。生年月日の入力からやり直してください。")
    session[GRANT] = {"token": place.token, "card_id": card.card_id, "person_id": card.person_id,
                      "until": time.time() + CARD_GRANT_SECONDS}
    # The card's new sign count with the grant: the read happened, whatever the staff member decides.
    commit_with_session(db())
    return jsonify(redirect=url_for("photo.check", token=token))


def _check_page(place: Place, grant: dict, draft: dict, status: int = 200, **context):
    person = oqs_for(db()).person(grant["person_id"])
    return render_page("reception/photo_check.html", place, status, person=person,
                       confirmed_label=PHOTO_CONFIRMED_LABEL, photo_check_label=PHOTO_CHECK_LABEL,
                       consultation_date=date.fromisoformat(draft["date"]), labels=_labels(draft["categories"]),
                       **context)


@bp.route("/<token>/photo/check", methods=["GET", "POST"])
def check(token: str):
    """The card's face photo; 「本人であることを確認しました」 then registers."""
    place = _photo_place(token)
    grant, draft = _grant(place), _draft(token)
    if grant is None or draft is None:
        if _registered(token) is not None:  # back (or a second tap) after the done page
            return render_page("reception/done_again.html", place, 200 if request.method == "GET" else 409,
                               registered=_registered(token))
        return redirect(url_for("reception.confirm", token=token), code=303)
    if request.method == "GET":
        return _check_page(place, grant, draft)
    staff = current_staff()  # the tablet's signed-in staff member (place_of checked the mode)
    oqs = oqs_for(db())
    try:
        registered = reception.register_photo_checked(
            db(), oqs, staff_id=staff.staff_id, confirmed=request.form.get("confirmed") == "1",
            institution_id=place.id, institution_code=place.code, care_setting=place.setting.care_setting,
            house_call=place.setting.house_call, person_id=grant["person_id"], card_id=grant["card_id"],
            categories=draft["categories"], consultation_date=date.fromisoformat(draft["date"]),
            today=today_jst(), now=now(), max_days_ahead=settings().max_days_ahead, metrics=metrics)
    except ConsentError as exc:
        answer = describe(exc)
        return _check_page(place, grant, draft, answer.status, error=answer.message)
    return redirect(show_registered(place, draft, grant["person_id"], registered, oqs), code=303)


@bp.get("/<token>/photo/face")
def face(token: str):
    """The face image of the card just read (only while its photo check lasts; never cached)."""
    place = _photo_place(token)
    grant = _grant(place)
    image = card_authority_for(db()).face_image(grant["card_id"]) if grant else None
    db().rollback()
    if image is None:
        abort(404)
    return image.data, 200, {"Content-Type": image.media_type, "Cache-Control": "no-store"}


@bp.post("/<token>/photo/cancel")
def cancel(token: str):
    """「中止」: nothing is recorded; the tablet forgets the read and the patient's choices."""
    place = _photo_place(token)
    end_patient(place)
    return redirect(url_for("reception.top", token=place.token), code=303)
