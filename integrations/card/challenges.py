"""Single-use WebAuthn challenges, kept server-side (shared by every worker)."""
from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session
from webauthn.helpers import base64url_to_bytes

from integrations.card.models import WebAuthnChallenge


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
    session.connection().execute(
        insert(WebAuthnChallenge).values(
            challenge=challenge,
            binding=binding_hash(binding),
            purpose=purpose,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    return challenge


def take_challenge(session: Session, *, challenge: bytes, binding: str, purpose: str, now: datetime) -> ChallengeOutcome:
    """Delete the challenge and commit at once; see take_challenge_row."""
    return take_challenge_row(session, challenge=challenge, binding=binding, purpose=purpose, now=now).outcome


def take_challenge_row(
    session: Session, *, challenge: bytes, binding: str, purpose: str, now: datetime
) -> TakenChallenge:
    """Delete the challenge and commit at once, before anything is verified.

    DELETE ... RETURNING lets exactly one of two concurrent requests carrying the same
    challenge get the row; the other sees it as unknown (a replay).
    """
    row = session.connection().execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.challenge == challenge)
        .returning(WebAuthnChallenge.binding, WebAuthnChallenge.purpose, WebAuthnChallenge.expires_at)
    ).first()
    session.commit()
    if row is None or row.binding != binding_hash(binding) or row.purpose != purpose:
        return TakenChallenge(ChallengeOutcome.UNKNOWN)
    if row.expires_at <= now:
        return TakenChallenge(ChallengeOutcome.EXPIRED, row.expires_at)
    return TakenChallenge(ChallengeOutcome.OK, row.expires_at)
