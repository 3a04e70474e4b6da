"""Security events that belong to no institution's audit chain: refused logins, cards
reinstated after a clone suspicion, disasters declared and ended (an area may cover no
institution yet). Append-only; ids, codes and digests only (no addresses,
no names)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base
from store.types import UTCDateTime

EVENTS = frozenset({"login_refused", "card_reinstated", "disaster_declared", "disaster_ended",
                    # wrong passwords at a tablet's 「受付モードの終了」 (consent/tablet_leave.py)
                    "tablet_leave_refused"})


class SecurityEvent(Base):
    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    event: Mapped[str] = mapped_column(String(32))
    # What the event is about: a login id, a card id.
    subject: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


def digest(value: str) -> str:
    """A short digest for values that must not be stored as they are (client addresses)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def record_event(
    session: Session, *, event: str, subject: str, now: datetime, reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one event in the session's transaction; the caller commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown security event {event!r}")
    session.execute(insert(SecurityEvent).values(
        created_at=now, event=event, subject=subject[:64], reason=reason,
        detail=json.dumps(dict(detail), sort_keys=True, separators=(",", ":")) if detail else None,
    ))


def events(session: Session, *, event: str | None = None, subject: str | None = None) -> list[SecurityEvent]:
    """Events, oldest first (operators, tests)."""
    query = select(SecurityEvent).order_by(SecurityEvent.id)
    if event is not None:
        query = query.where(SecurityEvent.event == event)
    if subject is not None:
        query = query.where(SecurityEvent.subject == subject)
    return list(session.scalars(query))
