"""「資格確認書で確認」 on the institution's tablet (外来, 訪問診療等, 往診 URLs in reception mode).

Someone whose card cannot be used hands staff their 資格確認書; staff type its numbers and the
birth date, and the page answers the qualification and says that nothing else is shared, and why
(consent/app/certificate.py records the confirmation, source "certificate"). The answer is the
POST's own page: nothing of the patient stays in the session, and the tablet's idle poll and
「次の方の受付へ」 return to the neutral start. The staff member signed in on the tablet is the
actor (audited by their id).
"""
from __future__ import annotations

from flask import Blueprint, abort, request, url_for

from consent.app import certificate
from consent.errors import ConsentError
from consent.insurance_keys import KEY_FIELDS, KeysRefused, parse_insurance_keys
from consent.vocabulary import INSURANCE_KEY_LABELS
from integrations.oqs import InvalidInput
from web import metrics
from web.context import RATE_LIMITS, now, oqs_for, today_jst
from web.consent_view import certificate_result
from web.db import db, reader
from web.error_messages import (
    CERTIFICATE_NOT_FOUND, CERTIFICATE_SEVERAL, certificate_refusal, describe, fields_at_fault,
)
from web.patient.reception import place_of, render_page
from web.patient.reception_place import Place
from web.staff_session import current_staff

bp = Blueprint("certificate", __name__, url_prefix="/r", template_folder="templates")


def _tablet_place(token: str) -> Place:
    """The tablet URL's place in reception mode (place_of answers the staff login otherwise)."""
    place = place_of(token)
    if not place.setting.tablet or place.qualification_only:
        # The patient's own phone has no staff to type a document's numbers; a 資格確認限定型
        # institution's URLs are its counter device, which reads the card only (issue 38).
        abort(404)
    return place


def _form(place: Place, status: int = 200, *, entered: dict | None = None, error: str | None = None,
          invalid: tuple[str, ...] = ()):
    return render_page("reception/certificate.html", place, status, fields=INSURANCE_KEY_LABELS,
                       entered=entered or {}, error=error, invalid=invalid,
                       action=url_for("certificate.confirm", token=place.token))


@bp.get("/<token>/certificate")
def start(token: str):
    return _form(_tablet_place(token))


@bp.post("/<token>/certificate")
def confirm(token: str):
    place = _tablet_place(token)
    staff = current_staff()
    entered = {key: request.form.get(key, "").strip()[:100] for key in KEY_FIELDS}
    certificate.count_confirmation(RATE_LIMITS, staff.actor())
    try:
        keys = parse_insurance_keys(entered, wareki=True)
        found = certificate.confirm(db(), oqs_for(reader()), actor=staff.actor(), institution_code=place.code,
                                    care_setting=place.setting.care_setting, house_call=place.setting.house_call,
                                    keys=keys, today=today_jst(), now=now(), metrics=metrics)
    except (KeysRefused, InvalidInput) as exc:  # nothing written
        return _form(place, describe(exc).status, entered=entered, error=certificate_refusal(exc),
                     invalid=fields_at_fault(exc))
    except ConsentError as exc:  # the card already gave today's consent here
        answer = describe(exc)
        return _form(place, answer.status, entered=entered, error=answer.message)
    if not found.found:
        return _form(place, 404, entered=entered, error=CERTIFICATE_SEVERAL if found.several else CERTIFICATE_NOT_FOUND)
    return render_page("reception/certificate_done.html", place, **certificate_result(found))
