"""「デモ用カードを登録」 (sandbox only): any real authenticator becomes a demo card.

A phone's passkey, a laptop's built-in authenticator or a FIDO key over NFC is registered in the
card authority as the card of a new synthetic person, so the reception flow can be tried by hand.
"""
from __future__ import annotations

import base64
import secrets

from flask import Blueprint, jsonify, render_template, session, url_for

from consent.institutions import Institution
from consent.vocabulary import VALID
from consent.wareki import format_birth_date
from consent.webauthn import RegistrationError, registration_options, verify_registration
from web.context import (browser_binding, card_authority_for, client_address, enforce_rate_limits, now, oqs_for,
                         relying_party, settings, today_jst)
from web.db import db
from web.jsonio import json_object

bp = Blueprint("demo_cards", __name__, url_prefix="/demo", template_folder="templates")
PURPOSE = "demo-card"


@bp.get("/cards")
def page():
    return render_template("demo_cards.html", done=session.pop("demo_card_done", None),
                           institutions=_reception_links())


def _reception_links() -> list[tuple[str, str]]:
    base = settings().origins[0]
    rows = db().query(Institution.name, Institution.reception_token).order_by(Institution.id).limit(20).all()
    return [(name, base + url_for("reception.top", token=token)) for name, token in rows]


@bp.post("/cards/options")
def options():
    enforce_rate_limits([("demo-card:ip", client_address(), 30)])
    handle = secrets.token_bytes(32)
    session["demo_card_handle"] = base64.urlsafe_b64encode(handle).decode()
    data = registration_options(db(), relying_party(), binding=browser_binding(), purpose=PURPOSE, user_handle=handle,
                                user_name="demo-card", display_name="デモ用カード", rp_name="マイナ在宅受付（デモ）",
                                now=now())
    db().commit()
    return jsonify(data)


@bp.post("/cards/verify")
def verify():
    credential = json_object(required=True).get("credential")
    if not isinstance(credential, dict):
        raise RegistrationError("malformed")
    handle = base64.urlsafe_b64decode(session.pop("demo_card_handle", "") or "")
    if not handle:
        raise RegistrationError("challenge_unknown")
    new = verify_registration(db(), relying_party(), credential=credential, binding=browser_binding(),
                              purpose=PURPOSE, now=now())
    person = oqs_for(db()).create_person(today=today_jst(), validity=VALID)
    authority = card_authority_for(db())
    if authority.by_credential_id(new.credential_id) is not None:
        raise RegistrationError("duplicate")
    authority.register_demo_card(person_id=person.person_id, credential_id=new.credential_id, user_handle=handle,
                                 public_key=new.public_key, sign_count=new.sign_count, now=now(), synced=new.synced)
    db().commit()
    # The birth date as the card's face prints it: the tablet's photo check (目視確認) asks for it.
    session["demo_card_done"] = {"name": person.name, "synced": new.synced,
                                 "birth_date": format_birth_date(person.birth_date) if person.birth_date else ""}
    return jsonify(redirect=url_for("demo_cards.page"))
