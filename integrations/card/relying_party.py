"""The reception site as WebAuthn relying party for cards.

py_webauthn stays behind consent/webauthn.py; every failure here becomes a CardSignInError with
one of our own codes (as pypi/warehouse does), which the web layer turns into a clear Japanese
message.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from consent.clock import JST
from consent.errors import DomainError
from consent.webauthn import (
    AssertionRefused, ChallengeOutcome, MalformedCredential, RelyingParty, authentication_options, binding_hash,
    parse_assertion, take_challenge, verify_assertion,
)
from integrations.card.interface import Card, CardAuthority

# Refusal codes, in the order the checks run.
MALFORMED = "malformed"
CHALLENGE_UNKNOWN = "challenge_unknown"
CHALLENGE_EXPIRED = "challenge_expired"
UNKNOWN_CARD = "unknown_card"
WRONG_ORIGIN = "wrong_origin"
CROSS_ORIGIN = "cross_origin"
WRONG_RP = "wrong_rp"
NOT_PRESENT = "not_present"
NOT_VERIFIED = "not_verified"
BAD_SIGNATURE = "bad_signature"
SYNCED_CREDENTIAL = "synced_credential"
CLONE_DETECTED = "clone_detected"
# Two reads of one card in one browser arrived out of order (not a clone; see _is_read_race).
CONCURRENT_READ = "concurrent_read"
CARD_STATUS_CODES = {
    "expired": "card_expired",
    "revoked": "card_revoked",
    "locked": "card_locked",
    "suspected_clone": "card_suspected_clone",
    "unlinked": "card_unlinked",
}


# The one ceremony that reads the card without its PIN: the photo check (目視確認) on the
# institution's tablet for 訪問診療等 and 往診 (web/patient/reception_photo.py). The challenge's
# purpose is stored server-side with it, so a user-presence-only assertion is accepted only for a
# challenge issued for this purpose; every other purpose requires user verification (the PIN).
PHOTO_CHECK = "photo_check"


def requires_user_verification(purpose: str) -> bool:
    return purpose != PHOTO_CHECK


def card_read_options(session: Session, rp: RelyingParty, *, binding: str, purpose: str, now: datetime,
                      cards: tuple[bytes, ...] = ()) -> dict:
    """Options for navigator.credentials.get() for a card read of `purpose`: the PIN is asked for
    (userVerification "required", any card) except for the photo check ("discouraged"), which
    names the cards it may read (`cards`: credential ids)."""
    return authentication_options(session, rp, binding=binding, purpose=purpose, now=now,
                                  user_verification=requires_user_verification(purpose),
                                  allow_credentials=cards if purpose == PHOTO_CHECK else ())


class CardSignInError(DomainError):
    """A refused card read; `detail` may name the parsing error (for logs)."""

    domain = "card"
    codes = frozenset({
        MALFORMED, CHALLENGE_UNKNOWN, CHALLENGE_EXPIRED, UNKNOWN_CARD, WRONG_ORIGIN, CROSS_ORIGIN, WRONG_RP,
        NOT_PRESENT, NOT_VERIFIED, CONCURRENT_READ, BAD_SIGNATURE, SYNCED_CREDENTIAL, CLONE_DETECTED, *CARD_STATUS_CODES.values(),
    })


def verify_card_assertion(
    session: Session,
    rp: RelyingParty,
    authority: CardAuthority,
    *,
    credential: dict,
    binding: str,
    purpose: str,
    now: datetime,
) -> Card:
    """Verify a card's assertion and return the card; raise CardSignInError otherwise.

    `authority` must work on `session`, whose transaction carries the whole read: the challenge's
    deletion (which stands even if the transaction rolls back: consent/webauthn.take_challenge),
    a detected clone (committed before refusing) and, on success, the new sign count, written but
    not committed, so the caller commits it with what the sign-in is for. A caller that refuses
    commits too, so the read is one write transaction either way.
    """
    try:
        parsed = parse_assertion(credential)
    except MalformedCredential as exc:
        raise CardSignInError(MALFORMED, detail=exc.cause) from None

    taken = take_challenge(session, challenge=parsed.challenge, binding=binding, purpose=purpose, now=now)
    outcome = taken.outcome
    if outcome is ChallengeOutcome.UNKNOWN:
        raise CardSignInError(CHALLENGE_UNKNOWN)
    if outcome is ChallengeOutcome.EXPIRED:
        raise CardSignInError(CHALLENGE_EXPIRED)

    card = authority.by_user_handle(parsed.user_handle, lock=True) if parsed.user_handle else None
    if card is None or card.credential_id != parsed.credential_id:
        raise CardSignInError(UNKNOWN_CARD)

    # These look at unverified data only to name the reason; py_webauthn re-checks them all.
    if parsed.client_data.get("origin") not in rp.origins:
        raise CardSignInError(WRONG_ORIGIN)
    if parsed.client_data.get("crossOrigin") not in (None, False):
        # Read inside another site's frame: our pages never are (frame-ancestors 'none'), and
        # py_webauthn does not look at this field.
        raise CardSignInError(CROSS_ORIGIN)
    if parsed.rp_id_hash != hashlib.sha256(rp.rp_id.encode()).digest():
        raise CardSignInError(WRONG_RP)
    if not parsed.user_present:
        raise CardSignInError(NOT_PRESENT)
    # The challenge was issued for `purpose` (checked above): only the photo check's may go without the PIN.
    require_uv = requires_user_verification(purpose)
    if require_uv and not parsed.user_verified:
        raise CardSignInError(NOT_VERIFIED)

    try:
        # Our own count check follows, after the signature is proven: a forged assertion with a
        # low count must not be able to flag someone's card.
        new_count = verify_assertion(rp, credential=credential, challenge=parsed.challenge,
                                     public_key=card.public_key, sign_count=0,
                                     require_user_verification=require_uv)
    except AssertionRefused:
        raise CardSignInError(BAD_SIGNATURE) from None

    if parsed.backup_eligible and not card.demo:
        # A card is one physical object; a synced (backup-eligible) credential is not a card.
        raise CardSignInError(SYNCED_CREDENTIAL)

    today = now.astimezone(JST).date()
    status = card.effective_status(today)
    if status != "active":
        raise CardSignInError(CARD_STATUS_CODES[status])

    if (new_count > 0 or card.sign_count > 0) and new_count <= card.sign_count:
        if _is_read_race(card, binding=binding, challenge_expires_at=taken.expires_at, now=now):
            raise CardSignInError(CONCURRENT_READ)
        authority.set_status(card.card_id, "suspected_clone", now=now)
        session.commit()
        raise CardSignInError(CLONE_DETECTED)

    authority.record_use(card.card_id, sign_count=new_count, now=now, binding=binding_hash(binding),
                         challenge_expires_at=taken.expires_at)
    return card


def _is_read_race(card: Card, *, binding: str, challenge_expires_at: datetime | None, now: datetime) -> bool:
    """A lower count from the browser whose read was accepted last, for a challenge issued
    before that read's and while that read's challenge still lives: two taps racing (the
    authenticator signed them in order, the server saw them the other way round), not a clone.
    Challenges share one lifetime, so comparing expiries compares when they were issued."""
    accepted = card.accepted_challenge_expires_at
    return (
        accepted is not None and challenge_expires_at is not None
        and card.accepted_binding == binding_hash(binding)
        and challenge_expires_at < accepted
        and now < accepted
    )
