"""Which institution and entry point a reception URL `/r/<token>` opens, for the patient's pages
(web/patient/reception.py) and the tablet's staff steps (web/patient/tablet.py)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, make_response, render_template, request

from consent.institutions import institution_by_reception_token, institution_of_retired_token
from consent.vocabulary import (
    CARD_POSITION_COUNTER, CARD_POSITION_PHONE, CARD_POSITION_TABLET, DEFAULT_KIND, HOME_VISIT, INSTITUTION_KINDS,
    PERIOD_QUALIFICATION_ONLY, PERIOD_WINDOWED, RECEPTION_SETTINGS, ReceptionSetting, home_visit_period,
)
from web.db import db, lookup


@dataclass(frozen=True)
class Place:
    """What the pages need of the institution, read without keeping a transaction open."""

    id: int
    code: str
    name: str
    token: str
    # The entry point this URL opens: online (the patient's phone), outpatient, home_visit, house_call.
    setting: ReceptionSetting
    # 資格確認限定型: the top page offers the qualification confirmation only (web/patient/reception_qualification.py).
    qualification_only: bool = False
    # Whom the patient asks: every patient page and error page shows them (templates/contact.html).
    phone: str = ""
    privacy_url: str = ""
    # Home visits: days without a recorded visit before the relationship lapses (its period's words);
    # None (the default): no lapse, it lasts until 訪問終了 or the patient's 取消.
    lapse_days: int | None = None

    @property
    def period(self) -> str:
        """How long the institution may look, in the patient's words: this entry point's own rule."""
        if self.qualification_only:
            return PERIOD_QUALIFICATION_ONLY
        if self.setting.care_setting == HOME_VISIT and not self.setting.house_call:
            return home_visit_period(self.lapse_days)
        return PERIOD_WINDOWED

    @property
    def card_position(self) -> str:
        """Where the card goes: the back of the patient's phone, the tablet's reading spot, or a
        qualification-only institution's own device at the counter."""
        if self.qualification_only:
            return CARD_POSITION_COUNTER
        return CARD_POSITION_TABLET if self.setting.tablet else CARD_POSITION_PHONE

    @property
    def tel(self) -> str:
        """The phone number as a tel: link wants it (digits only)."""
        return "".join(ch for ch in self.phone if ch.isdigit())

    # pharmacy, clinic, dental or visiting_nurse: how the pages name the place (「薬局」 or 「医療機関」).
    kind: str = DEFAULT_KIND

    @property
    def word(self) -> str:
        """「薬局」 or 「医療機関」, as the patient's pages call this institution."""
        return INSTITUTION_KINDS[self.kind].place


def find_place(token: str) -> Place:
    """The institution and entry point of `token`; 404 (unknown), 410 (rotated away), or 404 with
    「この受付は現在行っていません」 when the institution has switched that function off."""
    if len(token) > 64:
        abort(404)
    institution, setting_name, retired = institution_by_reception_token(db(), token)
    if institution is None and retired:
        # Status 410 as before; the page names the institution and says to ask it for the new URL.
        was = institution_of_retired_token(db(), token)
        if was is not None:
            abort(make_response(render_template("reception/gone.html", name=was.name,
                                                phone=getattr(was, "phone", None)), 410))
    if institution is None:
        abort(410 if retired else 404)
    setting = RECEPTION_SETTINGS[setting_name]
    place = Place(institution.id, institution.institution_code, institution.name, token, setting,
                  qualification_only=institution.qualification_only, phone=institution.phone or "",
                  privacy_url=institution.privacy_url or "", lapse_days=institution.home_visit_lapse_days,
                  kind=institution.kind or DEFAULT_KIND)
    g.place_name = place.name  # named on the 503 page should the database fail later on
    g.place = place  # whom to ask, on this page and on any error page after it (contact_context)
    runs = institution.runs(setting)
    # End the read so the card step can start a write transaction cleanly (SQLite).
    db().rollback()
    if not runs:
        abort(make_response(render_template("reception/closed.html", place=place), 404))
    return place


def institution_of_request() -> int | None:
    """Whose clock a patient page reads: the institution of its reception URL (`/r/<token>`), or
    of the page that asked for a card read (`/card/options?place=<token>`)."""
    token = (request.view_args or {}).get("token") or request.args.get("place")
    if not isinstance(token, str) or len(token) > 64:
        return None
    with lookup() as session:
        institution, _setting, _retired = institution_by_reception_token(session, token)
        return institution.id if institution is not None else None

# The patient's blueprints: a page of theirs, or an error on one, names whom to ask.
PATIENT_BLUEPRINTS = ("reception", "qualification", "tablet", "photo", "certificate")


def contact_context() -> dict:
    """`place_contact` for every template (base.html's footer shows it): the place of the patient
    page being answered, also when an error was raised before its view looked it up (a refused
    CSRF token, a rate limit). Never a second database fault: nothing after one."""
    place = g.get("place")
    if place is None and request.blueprint in PATIENT_BLUEPRINTS and not g.get("database_failed"):
        token = (request.view_args or {}).get("token")
        if isinstance(token, str) and len(token) <= 64:
            try:
                institution, setting_name, _ = institution_by_reception_token(db(), token)
            except Exception:  # noqa: BLE001 - an error page must render whatever the database does
                institution = None
            if institution is not None:
                place = Place(institution.id, institution.institution_code, institution.name, token,
                              RECEPTION_SETTINGS[setting_name], phone=institution.phone or "",
                              privacy_url=institution.privacy_url or "")
                g.place = place
    return {"place_contact": place}
