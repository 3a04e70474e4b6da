"""The site as WebAuthn relying party: the one module that wraps py_webauthn (as warehouse's
`warehouse/utils/webauthn.py` does), shared by card reads (integrations/card/relying_party.py),
staff passkeys (consent/staff_passkeys.py) and the sandbox's demo cards.

It holds the relying-party settings, the single-use challenges kept server-side (shared by every
worker), the options for navigator.credentials.get()/create() and the verifications; nothing from
py_webauthn leaks out of it: its failures become our own errors. It lives in consent/ because both
the domain (staff passkeys) and integrations/card use it, and consent/ must not import integrations/.
"""
from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import LargeBinary, String, bindparam, delete, insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from webauthn import (
    generate_authentication_options, generate_registration_options, options_to_json, verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, parse_authenticator_data
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria, CredentialDeviceType, PublicKeyCredentialDescriptor, ResidentKeyRequirement,
    UserVerificationRequirement,
)

from consent.errors import DomainError
from store.base import Base
from store.kept import execute_kept
from store.types import UTCDateTime


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origins: tuple[str, ...]
    challenge_ttl_seconds: int = 300
    timeout_ms: int = 120_000


class WebAuthnChallenge(Base):
    """A single-use challenge, bound to one browser session, with a short expiry."""

    __tablename__ = "webauthn_challenges"

    challenge: Mapped[bytes] = mapped_column(LargeBinary(64), primary_key=True)
    # SHA-256 of a random value kept in the browser's server-side session.
    binding: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RegistrationError(DomainError):
    """A refused registration. Staff passkeys wrap it in PasskeyError; as itself it reaches only
    the sandbox's 「デモ用カードを登録」, which also raises `duplicate` for a card registered twice."""

    domain = "registration"
    codes = frozenset({"malformed", "challenge_unknown", "challenge_expired", "bad_registration", "duplicate"})


class AssertionRefused(Exception):
    """py_webauthn refused an assertion; each caller words it in its own domain."""


class MalformedCredential(Exception):
    """A credential that does not parse; `cause` names the parsing error (for logs)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


# --- Challenges ------------------------------------------------------------------------------

class ChallengeOutcome(Enum):
    OK = "ok"
    UNKNOWN = "unknown"  # never issued, already used, or issued to another browser session
    EXPIRED = "expired"


@dataclass(frozen=True)
class TakenChallenge:
    """What take_challenge found: the outcome and, for a known challenge, when it expires."""

    outcome: ChallengeOutcome
    expires_at: datetime | None = None


def binding_hash(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


def client_data_of(credential: dict) -> tuple[dict, bytes]:
    """The credential's clientDataJSON (unverified) and the challenge it carries.

    Raises KeyError, TypeError or ValueError for a malformed credential.
    """
    client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
    return client_data, base64url_to_bytes(client_data["challenge"])


def issue_challenge(session: Session, *, binding: str, purpose: str, now: datetime, ttl_seconds: int) -> bytes:
    """Store a fresh 32-byte challenge for this browser session and purpose."""
    challenge = secrets.token_bytes(32)
    if random.random() < 0.01:
        # Expired challenges are useless; sweep them now and then instead of in a cron job.
        session.connection().execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now - timedelta(hours=1)))
    # A Core insert: every card read passes here, and the ORM's unit of work costs more than the read.
    session.connection().execute(_ISSUE, {"challenge": challenge, "binding": binding_hash(binding), "purpose": purpose,
                                          "expires_at": now + timedelta(seconds=ttl_seconds)})
    return challenge


def take_challenge(
    session: Session, *, challenge: bytes, binding: str, purpose: str, now: datetime
) -> TakenChallenge:
    """Delete the challenge in the session's transaction, before anything is verified.

    DELETE ... RETURNING lets exactly one of two concurrent requests carrying the same
    challenge get the row; the other sees it as unknown (a replay). The caller commits it with
    the rest of its work (one transaction a card read); should that transaction roll back, the
    deletion is written on its own all the same (store/kept.py): a challenge is used once.
    """
    row = execute_kept(session, _TAKE, {"challenge": challenge}).first()
    if row is None or row.binding != binding_hash(binding) or row.purpose != purpose:
        return TakenChallenge(ChallengeOutcome.UNKNOWN)
    if row.expires_at <= now:
        return TakenChallenge(ChallengeOutcome.EXPIRED, row.expires_at)
    return TakenChallenge(ChallengeOutcome.OK, row.expires_at)


_ISSUE = insert(WebAuthnChallenge)
_TAKE = (delete(WebAuthnChallenge).where(WebAuthnChallenge.challenge == bindparam("challenge"))
         .returning(WebAuthnChallenge.binding, WebAuthnChallenge.purpose, WebAuthnChallenge.expires_at))


def take_credential_challenge(session: Session, credential: dict, *, binding: str, purpose: str, now: datetime,
                              error: type[DomainError]) -> bytes:
    """The challenge a credential answers, taken (see take_challenge); otherwise `error` raised with
    `malformed`, `challenge_expired` or `challenge_unknown`."""
    try:
        _, challenge = client_data_of(credential)
    except (KeyError, TypeError, ValueError):
        raise error("malformed") from None
    outcome = take_challenge(session, challenge=challenge, binding=binding, purpose=purpose, now=now).outcome
    if outcome is ChallengeOutcome.EXPIRED:
        raise error("challenge_expired")
    if outcome is not ChallengeOutcome.OK:
        raise error("challenge_unknown")
    return challenge


@dataclass(frozen=True)
class ParsedAssertion:
    """An assertion's parts, parsed but not verified: enough to find the credential and to name
    the reason a check fails before py_webauthn re-checks everything."""

    client_data: dict
    challenge: bytes
    credential_id: bytes
    user_handle: bytes
    rp_id_hash: bytes
    user_present: bool
    user_verified: bool
    backup_eligible: bool


def parse_assertion(credential: dict) -> ParsedAssertion:
    """Parse an assertion from navigator.credentials.get(); MalformedCredential otherwise."""
    try:
        client_data, challenge = client_data_of(credential)
        raw_id = base64url_to_bytes(credential["rawId"])
        user_handle = base64url_to_bytes(credential["response"].get("userHandle") or "")
        auth_data = parse_authenticator_data(base64url_to_bytes(credential["response"]["authenticatorData"]))
    except (KeyError, TypeError, ValueError, AttributeError, WebAuthnException) as exc:
        raise MalformedCredential(type(exc).__name__) from None
    return ParsedAssertion(
        client_data=client_data, challenge=challenge, credential_id=raw_id, user_handle=user_handle,
        rp_id_hash=auth_data.rp_id_hash, user_present=bool(auth_data.flags.up),
        user_verified=bool(auth_data.flags.uv), backup_eligible=bool(auth_data.flags.be),
    )


def credential_id_of(credential: dict) -> bytes:
    """The credential's rawId; MalformedCredential when it is missing or not base64url."""
    try:
        return base64url_to_bytes(credential["rawId"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedCredential(type(exc).__name__) from None


# --- Ceremonies ------------------------------------------------------------------------------

def authentication_options(
    session: Session, rp: RelyingParty, *, binding: str, purpose: str, now: datetime, user_verification: bool = True,
    allow_credentials: tuple[bytes, ...] = (),
) -> dict:
    """Options for a discoverable, UV-required request (the credential is found by its user handle).

    `user_verification` False asks for user presence only (userVerification "discouraged": the
    card is read without its PIN); only the photo check's ceremony does (relying_party.py). Such a
    read must name its credentials (`allow_credentials`): an authenticator looks up discoverable
    credentials for an empty list only after user verification (Chromium's does)."""
    challenge = issue_challenge(
        session, binding=binding, purpose=purpose, now=now, ttl_seconds=rp.challenge_ttl_seconds
    )
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        challenge=challenge,
        timeout=rp.timeout_ms,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in allow_credentials],
        user_verification=(UserVerificationRequirement.REQUIRED if user_verification
                           else UserVerificationRequirement.DISCOURAGED),
    )
    return json.loads(options_to_json(options))


def verify_assertion(rp: RelyingParty, *, credential: dict, challenge: bytes, public_key: bytes,
                     sign_count: int, require_user_verification: bool = True) -> int:
    """py_webauthn's verification of an assertion (UV required unless `require_user_verification`
    is False: the photo check only): the new sign count, or AssertionRefused."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=require_user_verification,
        )
    except WebAuthnException:
        raise AssertionRefused() from None
    return verified.new_sign_count


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
    """Take the challenge (see take_challenge), then verify; raise RegistrationError otherwise."""
    challenge = take_credential_challenge(session, credential, binding=binding, purpose=purpose, now=now,
                                          error=RegistrationError)
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
