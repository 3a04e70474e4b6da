"""The card step shared by every patient flow, and a minimal card sign-in page.

A page that needs the card renders `card_read.html` with a purpose; the script asks
`/card/options`, lets the browser talk to the card, and posts the assertion to the flow's own
verify endpoint, which calls `verify_card()` and acts on the card in the same transaction.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, session, url_for

from consent.vocabulary import CARD_POSITION_PHONE
from integrations.card import Card
from integrations.card.relying_party import MALFORMED, CardSignInError, card_read_options, verify_card_assertion
from web.context import (browser_binding, card_authority_for, client_address, count_in_request, now, oqs_for,
                         relying_party, settings)
from web import metrics
from web.db import db
from web.errors import ApiError
from web.jsonio import json_object
from web.sessions import commit_with_session

bp = Blueprint("card", __name__, url_prefix="/card", template_folder="templates")

# Flows allowed to ask for a card read; each verifies with its own purpose.
PURPOSES = ("signin", "register", "review", "revoke")
# Session keys that hold what a successful card read allowed.
CARD_IDENTITY_KEYS = ("patient", "review", "revoke")


@bp.post("/options")
def options():
    purpose = request.args.get("purpose", "")
    if purpose not in PURPOSES:
        raise ApiError(400, "bad_purpose", "読み取りの種類が正しくありません。")
    return options_response(purpose)


def options_response(purpose: str, cards: tuple[bytes, ...] = ()):
    """The options of a card read of `purpose` (the challenge stored with it), counted against the
    browser's and the address's limits. The photo check's own endpoint (reception_photo.py) calls
    this with its purpose and the cards it may read; /card/options never does (PURPOSES)."""
    limits = settings()
    # One write transaction: the counts, the challenge and the browser's binding (a new session's row).
    count_in_request([
        ("card-options:session", browser_binding(), 3 * limits.card_reads_per_session),
        ("card-options:ip", client_address(), limits.card_reads_per_address),
    ])
    data = card_read_options(db(), relying_party(), binding=browser_binding(), purpose=purpose, now=now(),
                             cards=cards)
    commit_with_session(db())
    return jsonify(data)


def verify_card(purpose: str) -> Card:
    """Verify the posted assertion for `purpose`; raise CardSignInError (worded for the patient
    by web/error_messages.py) otherwise.

    The read is the request's one write transaction: its rate-limit counts, the challenge taken,
    the card's sign count. On success they are pending in `db()`: commit them with the flow's
    work. A refusal commits them (with the browser session, which loses what an earlier read
    allowed) before raising; a flow whose own work fails after this rolls back, and the counts
    and the challenge's deletion are written on their own (store/kept.py).
    """
    body = json_object(required=True)
    credential = body.get("credential")
    if not isinstance(credential, dict):
        metrics.card_refused(MALFORMED)
        raise CardSignInError(MALFORMED)
    limits = settings()
    rules = [
        ("card-verify:session", browser_binding(), limits.card_reads_per_session),
        # Generous per address: many phones share a carrier's address.
        ("card-verify:ip", client_address(), limits.card_reads_per_address),
    ]
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if isinstance(handle, str) and handle:
        rules.append(("card-verify:card", handle, limits.card_reads_per_card))
    count_in_request(rules)
    session_db = db()
    try:
        return verify_card_assertion(
            session_db, relying_party(), card_authority_for(session_db),
            credential=credential, binding=browser_binding(), purpose=purpose, now=now(),
        )
    except CardSignInError as exc:
        # A refused read also ends whatever an earlier read of this browser allowed.
        for key in CARD_IDENTITY_KEYS:
            session.pop(key, None)
        commit_with_session(session_db)
        metrics.card_refused(exc.code)
        raise


def read_page_context(purpose: str, verify_url: str) -> dict:
    """Template variables for `card_read.html` (the card goes to a phone's back unless the page
    says otherwise: web/patient/reception.py names the place's device)."""
    # The reception URL's token goes along, so the card step reads its institution's clock
    # (the sandbox's: a challenge issued and taken on two different clocks would have expired).
    token = (request.view_args or {}).get("token")
    place = {"place": token} if isinstance(token, str) else {}
    return {"card_purpose": purpose, "card_options_url": url_for("card.options", purpose=purpose, **place),
            "card_verify_url": verify_url, "card_position": CARD_POSITION_PHONE,
            "card_position_phone": CARD_POSITION_PHONE,
            # A card that never answers: advice after this long, not a disabled button till the timeout.
            "card_advice_ms": settings().card_read_advice_seconds * 1000}


@bp.get("/signin")
def signin_page():
    return render_template("card_signin.html", **read_page_context("signin", url_for("card.signin_verify")))


@bp.post("/signin/verify")
def signin_verify():
    card = verify_card("signin")
    session.clear()
    session.rotate()
    session["patient"] = {"card_id": card.card_id, "person_id": card.person_id}
    # The sign count and the new session id in one transaction with the read.
    try:
        commit_with_session(db())
    except BaseException:
        session.clear()  # signed in only once committed: the error page must not save it
        raise
    return jsonify(redirect=url_for("card.me"))


@bp.get("/me")
def me():
    patient = session.get("patient")
    if not patient:
        return render_template("card_me.html", holder=None), 401
    return render_template("card_me.html", holder=holder_name(patient["person_id"]))


def holder_name(person_id: str) -> str:
    """The card holder's name from OQS ("" when the simulator does not know the person)."""
    person = oqs_for(db()).person(person_id)
    return person.name if person else ""
