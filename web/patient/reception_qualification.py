"""The reception of a 資格確認限定型 (qualification-only) institution: 「資格確認をする」.

Such an institution confirms the patient's insurance with the card and nothing else (docs/sources.md
[000], [001]): no date and no categories are asked. 「資格確認をする」 → 「読み取り開始」 (card and PIN) →
「資格確認が完了しました」 naming the card's holder. The confirmation is recorded as a consent with no
categories (every flag 0) for today: the institution sees the patient and the qualification in its
list, and the patient sees the confirmation in 「同意照会・更新」. The top page is
reception/qualification_top.html (web/patient/reception.py `top`).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, session, url_for

from consent.vocabulary import VALID_CODES
from web.patient.card import read_page_context
from web.context import today_jst
from web.errors import ApiError
from web.patient.reception import end_patient, place_of, register_with_card, render_page
from web.patient.reception_place import Place

bp = Blueprint("qualification", __name__, url_prefix="/r", template_folder="templates")

# What the done page shows once (no data beyond the holder's name and the validity).
DONE = "qualification_done"


def _qualification_place(token: str) -> Place | None:
    place = place_of(token)
    return place if place.qualification_only else None


@bp.get("/<token>/qualify")
def start(token: str):
    place = _qualification_place(token)
    if place is None:  # not (or no longer) qualification-only: its top page says what it offers
        return redirect(url_for("reception.top", token=token), code=303)
    return render_page("reception/qualification_read.html", place,
                   **read_page_context("register", url_for("qualification.verify", token=token)))


@bp.post("/<token>/qualify/verify")
def verify(token: str):
    place = _qualification_place(token)
    if place is None:
        raise ApiError(409, "not_qualification_only",
                       "こちらの受付の内容が変わりました。受付のはじめからやり直してください。")
    today = today_jst()
    # No categories: the consent records the confirmation alone (a repeat changes nothing).
    card, registered, oqs = register_with_card(place, categories=(), consultation_date=today)
    qualification = registered.qualification
    person = oqs.person(card.person_id)
    # The card read ends with the done page: only what it shows stays, nothing signed in (on the
    # institution's tablet, the staff member's reception mode stays).
    end_patient(place, rotate=True)
    session[DONE] = {"token": token, "date": today.isoformat(), "holder": person.name if person else "",
                     "valid": qualification.validity_code in VALID_CODES}
    return jsonify(redirect=url_for("qualification.done", token=token))


@bp.get("/<token>/qualify/done")
def done(token: str):
    place = place_of(token)
    summary = session.get(DONE)
    if not summary or summary.get("token") != token:
        # Reloaded after the session ended: the confirmation stands; say so and point the way.
        return render_page("reception/qualification_done.html", place, summary=None)
    end_patient(place)  # shown once: a shared phone (or the tablet) keeps nothing of the patient
    return render_page("reception/qualification_done.html", place, summary=summary)
