"""Tables of the embedded card authority (the WebAuthn challenges are consent/webauthn.py's)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base
from store.types import UTCDateTime


class CardRecord(Base):
    """A card issued by the embedded authority. The private key is never stored."""

    __tablename__ = "cards"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(256))  # COSE_Key
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="active")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # A demo card is a visitor's own authenticator registered in the sandbox (may be synced).
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # A synced (backup-eligible) passkey: accepted for demo cards only, and shown as such.
    synced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last accepted read: its browser binding (hashed) and its challenge's expiry. Two reads
    # of one card racing in one browser can arrive in the wrong order; these tell that race
    # from a clone (relying_party.py).
    accepted_binding: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted_challenge_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)



class UnlinkedPerson(Base):
    """A person whose My Number Card is not registered for health insurance use (保険証利用登録なし):
    they show a 資格確認書 instead. Every card issued to them reads as status `unlinked` and is
    refused (the sandbox's `"card": false`)."""

    __tablename__ = "cards_unlinked_people"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
