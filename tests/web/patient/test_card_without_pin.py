"""A card read without the PIN (a WebAuthn assertion with `uv` false) is accepted for the photo
check's ceremony only (PHOTO_CHECK, issued by the tablet's 目視確認 page): every other card
ceremony refuses it as before. Real assertions from the software card, verified by the relying
party on the database."""
from __future__ import annotations

import pytest

from consent.webauthn import RelyingParty
from integrations.card import make_card_authority
from integrations.card.face import placeholder_face
from integrations.card.relying_party import (
    NOT_VERIFIED, PHOTO_CHECK, CardSignInError, card_read_options, verify_card_assertion,
)
from integrations.card.soft_authenticator import SoftCard
from web.patient.card import PURPOSES

ORIGIN = "http://localhost:5000"
RP = RelyingParty(rp_id="localhost", origins=(ORIGIN,))
BINDING = "browser-1"


@pytest.fixture
def card_app(make_app):
    return make_app("development")


def issue(app, clock, *, person_id="P-test-1"):
    from datetime import date

    from cryptography.hazmat.primitives import serialization

    with app.extensions["sessionmaker"]() as session:
        issued = make_card_authority(session).issue_card(person_id=person_id, birth_date=date(1940, 5, 17),
                                                          now=clock.now())
        session.commit()
    key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
    return issued.card, SoftCard(issued.card.credential_id, issued.card.user_handle, key)


def read(app, clock, soft, *, purpose, options_purpose=None, **kwargs):
    """Issue options for `options_purpose` (default `purpose`), sign them with `soft`, verify for `purpose`."""
    with app.extensions["sessionmaker"]() as session:
        options = card_read_options(session, RP, binding=BINDING, purpose=options_purpose or purpose, now=clock.now(),
                                    cards=(soft.credential_id,))
        session.commit()
    with app.extensions["sessionmaker"]() as session:
        try:
            card = verify_card_assertion(session, RP, make_card_authority(session), credential=soft.assertion(
                options, origin=ORIGIN, **kwargs), binding=BINDING, purpose=purpose, now=clock.now())
        except CardSignInError as exc:
            session.commit()
            return exc.code
        session.commit()
        return card


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_other_card_ceremony_refuses_a_read_without_the_pin(card_app, clock, purpose):
    _, soft = issue(card_app, clock)
    assert read(card_app, clock, soft, purpose=purpose, user_verified=False) == NOT_VERIFIED
    # ...and takes the same card with its PIN.
    assert read(card_app, clock, soft, purpose=purpose).person_id == "P-test-1"


def test_the_photo_check_takes_a_read_with_presence_but_without_the_pin(card_app, clock):
    card, soft = issue(card_app, clock)
    assert read(card_app, clock, soft, purpose=PHOTO_CHECK, user_verified=False).card_id == card.card_id
    # Presence is still needed: a card not held to the reader is no read.
    assert read(card_app, clock, soft, purpose=PHOTO_CHECK, user_verified=False, user_present=False) == "not_present"


def test_a_photo_check_challenge_does_not_open_another_ceremony(card_app, clock):
    """The purpose is stored with the challenge: a uv-false answer to the photo check's options,
    presented to the registration (or any other ceremony), is refused."""
    _, soft = issue(card_app, clock)
    for purpose in PURPOSES:
        assert read(card_app, clock, soft, purpose=purpose, options_purpose=PHOTO_CHECK,
                    user_verified=False) == "challenge_unknown"


def test_only_the_photo_check_asks_the_card_without_its_pin_and_names_its_cards(card_app, clock):
    cards = (b"\x01" * 32, b"\x02" * 32)
    with card_app.extensions["sessionmaker"]() as session:
        photo = card_read_options(session, RP, binding=BINDING, purpose=PHOTO_CHECK, now=clock.now(), cards=cards)
        others = {p: card_read_options(session, RP, binding=BINDING, purpose=p, now=clock.now(), cards=cards)
                  for p in PURPOSES}
        session.commit()
    assert photo["userVerification"] == "discouraged"
    assert [c["id"] for c in photo["allowCredentials"]] == ["AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
                                                            "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI"]
    # Every other read asks for the PIN and finds the card by itself (discoverable): no list.
    assert {o["userVerification"] for o in others.values()} == {"required"}
    assert all(o.get("allowCredentials", []) == [] for o in others.values())


def test_the_photo_check_keeps_the_clone_check_and_single_use_challenges(card_app, clock):
    card, soft = issue(card_app, clock)
    assert read(card_app, clock, soft, purpose=PHOTO_CHECK, user_verified=False).card_id == card.card_id
    # The same count again: a copy of the card (the card is flagged).
    assert read(card_app, clock, soft, purpose=PHOTO_CHECK, user_verified=False, sign_count=1) == "clone_detected"
    with card_app.extensions["sessionmaker"]() as session:
        assert make_card_authority(session).get(card.card_id).status == "suspected_clone"

    _, other = issue(card_app, clock, person_id="P-test-2")
    with card_app.extensions["sessionmaker"]() as session:
        options = card_read_options(session, RP, binding=BINDING, purpose=PHOTO_CHECK, now=clock.now(),
                                    cards=(other.credential_id,))
        session.commit()
    assertion = other.assertion(options, origin=ORIGIN, user_verified=False)
    codes = []
    for _ in range(2):
        with card_app.extensions["sessionmaker"]() as session:
            try:
                verify_card_assertion(session, RP, make_card_authority(session), credential=assertion,
                                      binding=BINDING, purpose=PHOTO_CHECK, now=clock.now())
                codes.append("ok")
            except CardSignInError as exc:
                codes.append(exc.code)
            session.commit()
    assert codes == ["ok", "challenge_unknown"]


def test_the_card_authority_gives_each_card_a_drawn_face_of_its_holder(card_app, clock):
    card, _ = issue(card_app, clock, person_id="P-face-1")
    other, _ = issue(card_app, clock, person_id="P-face-2")
    with card_app.extensions["sessionmaker"]() as session:
        authority = make_card_authority(session)
        face, again, theirs = (authority.face_image(card.card_id), authority.face_image(card.card_id),
                               authority.face_image(other.card_id))
        assert authority.face_image("card_none") is None
    assert face.media_type == "image/svg+xml" and face.data.startswith(b"<svg")
    assert face == again == placeholder_face("P-face-1")  # the same person, the same picture
    assert theirs != face
    assert "見本" in face.data.decode()  # a drawing, never a real face
