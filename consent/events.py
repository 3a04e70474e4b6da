"""Events: what changed, written to an outbox in the same transaction as the change.

Every consent change goes through consent/ (grants, home_visits, qualification_only), and those
functions call `consent_event` (or `record_on`) beside their audit entry, so the event commits
or rolls back with the change, whoever called them (a page, the API, a command). Pharmacy systems
read the outbox through the feed (GET /api/v1/events, `read_feed`) or have it pushed as webhooks
(consent/webhooks.py, ops/webhook_worker.py).

An event names the consent and the patient (consent.patient_keys) and carries the changed fields;
never a name, birth date or insurance number: the receiver reads those through the API.

Order: event ids come from one sequence, but the feed and the webhooks walk one institution's
events by id, and that walk must never pass an id still to commit. So writers of one institution
serialize from drawing the id until their commit: a transaction-scoped advisory lock on
PostgreSQL (`_lock_stream`); on SQLite every writer holds the database's write lock anyway.
Take it last - after the audit entry - so that lock order stays audit head, then stream.

`consent.expired` is derived (nothing is written when a window passes): whoever first sees the
expiry writes it - a read decided on the consent (consent.decision), a command that moved it
into the past (home_visits.set_lapse_days) or the delivery worker's sweep (`sweep_expiries`) -
and a unique key per consent and expiry instant makes that exactly once, races included.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger, Connection, bindparam, ForeignKey, Index, Integer, String, Text, UniqueConstraint, delete, insert, or_, and_,
    select, text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from consent.clock import JST
from consent.errors import DomainError
from consent.models import Consent, ConsentView
from consent.patient_keys import patient_id_for
from consent.vocabulary import (
    EVENT_CONSENT_EXPIRED, EVENT_RELATIONSHIP_ENDED, EVENT_TYPES, REASON_EXPIRY, STATUS_ACTIVE,
)
from consent.window import aware
from store.base import Base
from store.engine import begin_write
from store.prepared import Prepared
from store.models import Setting
from store.types import UTCDateTime

# The feed answers cursors up to this old; events are kept a day longer, so a cursor still
# answered never points past an event already deleted.
RETENTION = timedelta(days=30)
KEPT = RETENTION + timedelta(days=1)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
ID_PREFIX = "evt_"
# pg_advisory_xact_lock(class, institution_id): the class keeps these locks apart from others.
_STREAM_LOCK_CLASS = 0x45565453  # "EVTS"
# settings key: expiries up to this instant have been swept.
SWEPT_THROUGH = "events.expiry_swept_through"

# BIGINT on PostgreSQL; SQLite's INTEGER PRIMARY KEY (its rowid) is 64-bit and autoincrements.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """One event in the outbox, kept 31 days (`purge`)."""

    __tablename__ = "events"
    __table_args__ = (
        # The feed and the webhooks: one institution's events by id.
        Index("ix_events_institution_id_id", "institution_id", "id"),
        # consent.expired (and a lapse's relationship.ended) once per consent and expiry instant.
        UniqueConstraint("dedupe_key", name="uq_events_dedupe_key"),
        # Never reuse an id, even when the purge has emptied the table: a cursor stands on one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    type: Mapped[str] = mapped_column(String(40))
    consent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    patient_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # When it happened (an expiry: the instant the window or the relationship ended).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When it was written (retention counts from here).
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The changed fields, JSON; instants as RFC 3339 in JST.
    data: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(80), nullable=True)


_events = Event.__table__


class EventFeedError(DomainError):
    """A feed request that cannot be answered (web/error_messages.py words it)."""

    domain = "events"
    codes = frozenset({"invalid_cursor", "cursor_expired", "invalid_limit"})


def rfc3339(instant: datetime | None) -> str | None:
    """An instant as the API writes it: RFC 3339 in JST, to the second."""
    return None if instant is None else aware(instant).astimezone(JST).replace(microsecond=0).isoformat()


def public_id(event_id: int) -> str:
    """`evt_` and 16 digits: ordered as strings as the ids are as numbers."""
    return f"{ID_PREFIX}{event_id:016d}"


# --- writing ------------------------------------------------------------------------------------


def _lock_stream(conn: Connection, institution_id: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:cls, :inst)"),
                     {"cls": _STREAM_LOCK_CLASS, "inst": institution_id})


def record_on(
    conn: Connection,
    *,
    institution_id: int,
    type: str,
    now: datetime,
    data: dict[str, Any],
    consent_id: str | None = None,
    person_id: str | None = None,
    occurred_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Append one event in the connection's (writing) transaction; its id, or None when an event
    with the same `dedupe_key` exists already."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    _lock_stream(conn, institution_id)
    values = {
        "institution_id": institution_id, "type": type, "consent_id": consent_id,
        "patient_id": patient_id_for(conn, institution_id, person_id) if person_id else None,
        "occurred_at": aware(occurred_at or now), "recorded_at": aware(now),
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        "dedupe_key": dedupe_key,
    }
    if dedupe_key is None:
        return conn.execute(insert(_events).values(**values)).inserted_primary_key[0]
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = conn.execute(dialect_insert(_events).values(**values).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(_events.c.id))
    return result.scalar()


def consent_event(session: Session, consent: Any, type: str, data: dict[str, Any], *, now: datetime) -> int | None:
    """An event about `consent` (a Consent or ConsentView), in the session's transaction."""
    session.flush()
    return record_on(session.connection(), institution_id=consent.institution_id, type=type, now=now, data=data,
                     consent_id=consent.id, person_id=consent.person_id)


# --- consent.expired: written by whoever first sees it ------------------------------------------


# Prepared (store/prepared.py): every read of an ended consent asks this.
_BY_DEDUPE_KEY = Prepared(select(_events.c.id).where(_events.c.dedupe_key == bindparam("dedupe_key")))


def expiry_key(consent_id: str, ends_at: datetime) -> str:
    return f"expired:{consent_id}:{int(aware(ends_at).timestamp())}"


def note_expiry(conn: Connection, consent: Any, now: datetime) -> bool:
    """Write consent.expired (and, for a home-visit relationship, relationship.ended) if the
    consent has passed its end while active and nobody has written it yet. True when written now."""
    ends = consent.ends_at
    if consent.status != STATUS_ACTIVE or ends is None or aware(now) < ends:
        return False
    key = expiry_key(consent.id, ends)
    if _BY_DEDUPE_KEY.execute(conn, {"dedupe_key": key}):
        return False  # the common case, answered without taking the stream's lock
    common = {"institution_id": consent.institution_id, "consent_id": consent.id, "person_id": consent.person_id,
              "now": now, "occurred_at": ends}
    written = record_on(conn, type=EVENT_CONSENT_EXPIRED, dedupe_key=key, **common, data={
        "expired_at": rfc3339(ends), "cause": "lapse" if consent.relationship else "window_end"})
    if written is not None and consent.relationship:
        record_on(conn, type=EVENT_RELATIONSHIP_ENDED, dedupe_key="ended:" + key, **common, data={
            "ended_at": rfc3339(ends), "expiry_reason": REASON_EXPIRY})
    return written is not None


def sweep_expiries(session: Session, *, now: datetime, own_clocks: Mapping[int, datetime] | None = None) -> int:
    """Note every expiry since the last sweep (the delivery worker runs this); how many were new.

    Walks the consents whose window or lapse fell between the last sweep and now (indexed), so
    its cost follows the expiries, not the table. Commits nothing: the caller commits.
    `own_clocks`: the sandbox's institutions with a clock of their own, and its instant; their
    consents are judged on that clock instead (every one ended by then, noted once).
    """
    now = aware(now)
    own_clocks = own_clocks or {}
    begin_write(session)
    mark = session.get(Setting, SWEPT_THROUGH, with_for_update=True)
    since = datetime.fromisoformat(mark.value) if mark is not None else now - KEPT
    since = min(since, now)
    table = Consent.__table__
    on_global_clock = [table.c.institution_id.not_in(list(own_clocks))] if own_clocks else []
    rows = session.execute(
        select(table).where(
            table.c.status == STATUS_ACTIVE, *on_global_clock,
            or_(and_(table.c.window_end > since, table.c.window_end <= now),
                and_(table.c.window_end.is_(None), table.c.lapses_at > since, table.c.lapses_at <= now)),
        ).order_by(table.c.institution_id, table.c.id)
    ).all()
    conn = session.connection()
    written = sum(note_expiry(conn, ConsentView(*row), now) for row in rows)
    for institution_id, own_now in sorted(own_clocks.items()):
        own_now = aware(own_now)
        ended = session.execute(select(table).where(
            table.c.institution_id == institution_id, table.c.status == STATUS_ACTIVE,
            or_(table.c.window_end <= own_now, and_(table.c.window_end.is_(None), table.c.lapses_at <= own_now)),
        ).order_by(table.c.id)).all()
        written += sum(note_expiry(conn, ConsentView(*row), own_now) for row in ended)
    if mark is None:
        session.add(Setting(key=SWEPT_THROUGH, value=now.isoformat(), updated_at=now))
    else:
        mark.value, mark.updated_at = now.isoformat(), now
    session.flush()
    return written


# --- the feed ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    next_cursor: str


def event_json(row: Any) -> dict[str, Any]:
    """An event as the feed lists it and a webhook sends it."""
    return {
        "id": public_id(row.id), "type": row.type, "occurred_at": rfc3339(row.occurred_at),
        "consent_id": row.consent_id, "patient_id": row.patient_id, "data": json.loads(row.data),
    }


_CURSOR = struct.Struct(">BIQI")  # version, institution id, event id, issued at (epoch seconds)
_CURSOR_VERSION = 1
_TAG_BYTES = 10


def cursor_key(secret: str) -> bytes:
    """The cursors' MAC key, derived from the app's secret (a cursor is no integer to edit)."""
    return hmac.new(secret.encode(), b"mynareception event cursor v1", hashlib.sha256).digest()


def encode_cursor(key: bytes, *, institution_id: int, event_id: int, issued_at: datetime) -> str:
    body = _CURSOR.pack(_CURSOR_VERSION, institution_id, event_id, max(0, int(aware(issued_at).timestamp())))
    tag = hmac.new(key, body, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode()


def decode_cursor(key: bytes, cursor: str, *, institution_id: int, now: datetime) -> int:
    """The event id a cursor stands after. A cursor that is malformed, altered or another
    institution's is invalid_cursor (422); one issued before the retention, cursor_expired (410)."""
    try:
        if not cursor.isascii() or len(cursor) > 64:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if len(body) != _CURSOR.size or not hmac.compare_digest(tag, hmac.new(key, body, hashlib.sha256).digest()[:_TAG_BYTES]):
            raise ValueError
        version, owner, event_id, issued = _CURSOR.unpack(body)
    except (ValueError, struct.error):
        raise EventFeedError("invalid_cursor", field="after") from None
    if version != _CURSOR_VERSION or owner != institution_id:
        raise EventFeedError("invalid_cursor", field="after")
    if issued < (aware(now) - RETENTION).timestamp():
        raise EventFeedError("cursor_expired", field="after", detail=RETENTION.days)
    return event_id


def read_feed(
    session: Session | Connection, *, institution_id: int, after: str | None, limit: int | None, now: datetime,
    key: bytes,
) -> FeedPage:
    """The institution's events after the cursor, oldest first, at most `limit` (100; 1 to 1,000).

    `next_cursor` stands after the last event given (or where `after` stood): passing it back
    gives each event exactly once. Each page renews it, so a client that keeps polling never
    meets the retention.
    """
    if limit is None:
        limit = DEFAULT_LIMIT
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise EventFeedError("invalid_limit", field="limit", detail=MAX_LIMIT)
    position = 0 if after is None else decode_cursor(key, after, institution_id=institution_id, now=now)
    conn = session.connection() if isinstance(session, Session) else session
    rows = conn.execute(
        select(_events).where(_events.c.institution_id == institution_id, _events.c.id > position)
        .order_by(_events.c.id).limit(limit)
    ).all()
    if rows:
        position = rows[-1].id
    return FeedPage([event_json(row) for row in rows],
                    encode_cursor(key, institution_id=institution_id, event_id=position, issued_at=now))


def latest_event_id(session: Session, institution_id: int) -> int:
    """The institution's newest event id (0 when none): where a new webhook endpoint starts."""
    return session.scalar(select(_events.c.id).where(_events.c.institution_id == institution_id)
                          .order_by(_events.c.id.desc()).limit(1)) or 0


def purge(session: Session, *, now: datetime) -> int:
    """Delete events past their keeping (31 days); their delivery records go with them (ON
    DELETE CASCADE). How many."""
    cutoff = aware(now) - KEPT
    return session.execute(delete(_events).where(_events.c.recorded_at < cutoff)).rowcount
