"""Which institution and entry point a reception URL `/r/<token>` opens, for the patient's pages
(web/patient/reception.py) and the tablet's staff steps (web/patient/tablet.py)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, make_response, render_template

from consent.institutions import institution_by_reception_token
from consent.vocabulary import DEFAULT_KIND, INSTITUTION_KINDS, RECEPTION_SETTINGS, ReceptionSetting
from web.db import db


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
    if institution is None:
        abort(410 if retired else 404)
    setting = RECEPTION_SETTINGS[setting_name]
    place = Place(institution.id, institution.institution_code, institution.name, token, setting,
                  qualification_only=institution.qualification_only, kind=institution.kind or DEFAULT_KIND)
    g.place_name = place.name  # named on the 503 page should the database fail later on
    runs = institution.runs(setting)
    # End the read so the card step can start a write transaction cleanly (SQLite).
    db().rollback()
    if not runs:
        abort(make_response(render_template("reception/closed.html", place=place), 404))
    return place
