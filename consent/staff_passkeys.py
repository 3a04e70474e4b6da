"""Staff passkeys: a pharmacist may add a passkey (WebAuthn) and sign in to the console with it.

Unlike cards, staff passkeys may be synced (backup-eligible): they are ordinary passkeys.
The ceremonies are consent/webauthn.py's, shared with cards.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from consent import webauthn
from consent.errors import DomainError
from consent.webauthn import AssertionRefused, MalformedCredential, RelyingParty
from store.base import Base
from store.engine import begin_write
from store.types import UTCDateTime

REGISTER, SIGN_IN = "staff-register", "staff-signin"


class StaffPasskey(Base):
    __tablename__ = "staff_passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    # One random handle per staff member (not the staff id: it must not reveal who it is).
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(1024))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PasskeyError(DomainError):
    """A refused passkey ceremony."""

    domain = "passkey"
    codes = frozenset({
        "malformed", "challenge_expired", "challenge_unknown", "bad_registration", "duplicate", "unknown",
        "bad_assertion", "disabled",
    })


def passkeys_of(session: Session, staff_id: int) -> list[StaffPasskey]:
    return list(session.scalars(select(StaffPasskey).where(StaffPasskey.staff_id == staff_id)
                                .order_by(StaffPasskey.id)))


def registration_options(session: Session, rp: RelyingParty, *, staff_id: int, login_id: str, display_name: str,
                         binding: str, now: datetime) -> tuple[dict, bytes]:
    """Options for navigator.credentials.create(), and the user handle to pass back at the finish."""
    existing = passkeys_of(session, staff_id)
    user_handle = existing[0].user_handle if existing else secrets.token_bytes(32)
    options = webauthn.registration_options(
        session, rp, binding=binding, purpose=REGISTER, user_handle=user_handle, user_name=login_id,
        display_name=display_name or login_id, rp_name="マイナ在宅受付 薬局コンソール", now=now,
        exclude=[p.credential_id for p in existing])
    return options, user_handle


def finish_registration(session: Session, rp: RelyingParty, *, staff_id: int, credential: dict, binding: str,
                        user_handle: bytes, now: datetime, label: str = "") -> StaffPasskey:
    try:
        new = webauthn.verify_registration(session, rp, credential=credential, binding=binding,
                                           purpose=REGISTER, now=now)
    except webauthn.RegistrationError as exc:
        raise PasskeyError(exc.code) from None
    begin_write(session)
    existing = passkeys_of(session, staff_id)
    if existing:
        user_handle = existing[0].user_handle
    if session.scalar(select(StaffPasskey.id).where(StaffPasskey.credential_id == new.credential_id)):
        raise PasskeyError("duplicate")
    passkey = StaffPasskey(staff_id=staff_id, credential_id=new.credential_id, user_handle=user_handle,
                           public_key=new.public_key, sign_count=new.sign_count, label=label[:100], created_at=now)
    session.add(passkey)
    session.flush()
    return passkey


def signin_options(session: Session, rp: RelyingParty, *, binding: str, now: datetime) -> dict:
    return webauthn.authentication_options(session, rp, binding=binding, purpose=SIGN_IN, now=now)


def finish_signin(session: Session, rp: RelyingParty, *, credential: dict, binding: str, now: datetime) -> int:
    """The staff id the passkey belongs to; PasskeyError otherwise."""
    challenge = webauthn.take_credential_challenge(session, credential, binding=binding, purpose=SIGN_IN, now=now,
                                                   error=PasskeyError)
    try:
        raw_id = webauthn.credential_id_of(credential)
    except MalformedCredential:
        raise PasskeyError("malformed") from None
    begin_write(session)
    passkey = session.scalar(select(StaffPasskey).where(StaffPasskey.credential_id == raw_id).with_for_update())
    if passkey is None:
        raise PasskeyError("unknown")
    try:
        passkey.sign_count = webauthn.verify_assertion(rp, credential=credential, challenge=challenge,
                                                       public_key=passkey.public_key, sign_count=passkey.sign_count)
    except AssertionRefused:
        raise PasskeyError("bad_assertion") from None
    passkey.last_used_at = now
    return passkey.staff_id
