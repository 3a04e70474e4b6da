"""The counter of a 資格確認限定型 (qualification-only) institution: 「資格確認をする」.

Such an institution confirms the patient's insurance with the card and nothing else (docs/sources.md
[000], [001]: 「マイナ資格確認アプリ」 on the institution's own PC, tablet or smartphone, for institutions
that do not file claims online). Its reception URLs are that device: a staff member of the
institution signs in on it (web/patient/tablet.py `gate`), and then 「資格確認をする」 → 「読み取り開始」
(the patient's card at the counter, the patient's PIN) → 「資格確認が完了しました」 shows the staff
member the qualification as the 資格確認書 carries it (氏名, 負担割合, 保険者, 有効期限; docs/sources.md
[000]), once.
「次の方の資格確認へ」 goes back to the start with nothing of that person left.

The confirmation is recorded as a consent with no categories (every flag 0) for today, of care
setting vocabulary.CONFIRMATION_CARE_SETTING: the console lists it as 「資格確認」 with its time and
shows its qualification only. The top page is reception/qualification_top.html (web/patient/reception.py `top`).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, redirect, session, url_for

from consent.app import reception
from consent.vocabulary import CONFIRMATION_CARE_SETTING, HEADINGS, NO_QUALIFICATION, QUALIFICATION, VALID_CODES
from consent.wareki import format_birth_date
from web import metrics
from web.context import now, oqs_for, settings, today_jst
from web.db import db
from web.errors import ApiError
from web.patient.card import read_page_context, verify_card
from web.patient.reception import end_patient, place_of, render_page
from web.patient.reception_place import Place

bp = Blueprint("qualification", __name__, url_prefix="/r", template_folder="templates")

# What the done page shows the staff member once, then forgets (the server-side session).
DONE = "qualification_done"


def _qualification_place(token: str) -> Place | None:
    place = place_of(token)
    return place if place.qualification_only else None


def _ymd(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def shown_qualification(qualification, person) -> dict:
    """The 資格確認書's items (docs/sources.md [000]) as ready text: what the staff member at the counter needs
    (JSON-safe: it waits in the session until the done page shows it)."""
    q = qualification
    name = q.name or (person.name if person else "")
    kana = q.kana or (person.kana if person else "")
    born = q.birth_date or (person.birth_date if person else None)
    elderly = q.elderly_recipient
    copay = q.copay_ratio_text or ""
    if elderly is not None:  # 高齢受給者: the ratio the counter charges is the certificate's
        copay = f"{elderly.copay_ratio // 10}割（高齢受給者）"
    insurer = " ".join(part for part in (q.insurer_name, f"（{q.insurer_number}）" if q.insurer_number else "")
                       if part)
    aid = " ".join(part for part in (q.welfare_office, f"公費負担者番号 {q.public_payer_number}"
                                     if q.public_payer_number else "") if part)
    return {
        "name": name, "kana": kana, "born": format_birth_date(born) if born else "",
        "valid": q.validity_code in VALID_CODES, "found": q.validity_code != NO_QUALIFICATION,
        "validity": f"{q.validity_code}：{q.validity_text}", "message": q.message or "",
        "insurer": insurer, "aid": aid, "copay": copay, "preschool": bool(q.preschool),
        "valid_until": _ymd(q.card_valid_until),
    }


@bp.get("/<token>/qualify")
def start(token: str):
    place = _qualification_place(token)
    if place is None:  # not (or no longer) qualification-only: its top page says what it offers
        return redirect(url_for("reception.top", token=token), code=303)
    session.pop(DONE, None)  # a new read: the previous person's result is gone
    return render_page("reception/qualification_read.html", place,
                       **read_page_context("register", url_for("qualification.verify", token=token)))


@bp.post("/<token>/qualify/verify")
def verify(token: str):
    place = _qualification_place(token)
    if place is None:
        raise ApiError(409, "not_qualification_only",
                       "こちらの受付の内容が変わりました。受付のはじめからやり直してください。")
    card = verify_card("register")
    oqs = oqs_for(db())
    today = today_jst()
    # No categories: the consent records the confirmation alone (a repeat the same day changes nothing).
    registered = reception.register(
        db(), oqs, institution_id=place.id, institution_code=place.code, care_setting=CONFIRMATION_CARE_SETTING,
        house_call=False, person_id=card.person_id, card_id=card.card_id, categories=(), consultation_date=today,
        today=today, now=now(), max_days_ahead=settings().max_days_ahead, metrics=metrics)
    person = oqs.person(card.person_id)
    # Nothing of the patient stays but what the done page shows once; the staff sign-in stays.
    end_patient(place, rotate=True)
    session[DONE] = {"token": token, "date": today.isoformat(),
                     "qualification": shown_qualification(registered.qualification, person)}
    return jsonify(redirect=url_for("qualification.done", token=token))


@bp.get("/<token>/qualify/done")
def done(token: str):
    place = place_of(token)
    summary = session.get(DONE)
    if not summary or summary.get("token") != token:
        # Reloaded, or back to it: shown once, it is gone; the confirmation itself is in the console.
        return render_page("reception/qualification_done.html", place, summary=None)
    end_patient(place)  # shown once: the next person sees nothing of this one
    return render_page("reception/qualification_done.html", place, summary=summary,
                       day=date.fromisoformat(summary["date"]), heading=HEADINGS[QUALIFICATION])
