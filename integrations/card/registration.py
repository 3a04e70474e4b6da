"""WebAuthn registration ceremonies (staff passkeys, sandbox demo cards), wrapping py_webauthn.

Challenges share the single-use, session-bound store of card reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from webauthn import generate_registration_options, options_to_json, verify_registration_response
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria, CredentialDeviceType, PublicKeyCredentialDescriptor, ResidentKeyRequirement,
    UserVerificationRequirement,
)

from consent.errors import DomainError
from integrations.card.challenges import ChallengeOutcome, client_data_of, issue_challenge, take_challenge
from integrations.card.relying_party import RelyingParty


class RegistrationError(DomainError):
    """A refused registration. Staff passkeys wrap it in PasskeyError; as itself it reaches only
    the sandbox's 「デモ用カードを登録」, which also raises `duplicate` for a card registered twice."""

    domain = "registration"
    codes = frozenset({"malformed", "challenge_unknown", "challenge_expired", "bad_registration", "duplicate"})


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes  # COSE_Key
    sign_count: int
    synced: bool  # backup-eligible: a passkey that syncs between devices


def registration_options(session: Session, rp: RelyingParty, *, binding: str, purpose: str, user_handle: bytes,
                         user_name: str, display_name: str, rp_name: str, now: datetime,
                         exclude: list[bytes] = ()) -> dict:
    """Options for navigator.credentials.create(): a discoverable credential, UV required."""
    challenge = issue_challenge(session, binding=binding, purpose=purpose, now=now, ttl_seconds=rp.challenge_ttl_seconds)
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp_name, user_name=user_name, user_id=user_handle, user_display_name=display_name,
        challenge=challenge, timeout=rp.timeout_ms,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in exclude],
    )
    return json.loads(options_to_json(options))


def verify_registration(session: Session, rp: RelyingParty, *, credential: dict, binding: str, purpose: str,
                        now: datetime) -> NewCredential:
    """Take the challenge (committed at once), then verify; raise RegistrationError otherwise."""
    try:
        _, challenge = client_data_of(credential)
    except (KeyError, TypeError, ValueError):
        raise RegistrationError("malformed") from None
    outcome = take_challenge(session, challenge=challenge, binding=binding, purpose=purpose, now=now)
    if outcome is ChallengeOutcome.EXPIRED:
        raise RegistrationError("challenge_expired")
    if outcome is not ChallengeOutcome.OK:
        raise RegistrationError("challenge_unknown")
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins), require_user_verification=True)
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise RegistrationError("bad_registration") from None
    return NewCredential(
        credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        synced=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
    )
