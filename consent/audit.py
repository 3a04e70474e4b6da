"""The append-only, hash-chained audit log: one chain per institution.

Each entry carries its predecessor's hash and its own SHA-256 over a canonical serialization of
all its fields, so an edited, deleted or reordered entry breaks the chain. Appends of one
institution serialize on that institution's chain-head row (FOR UPDATE on PostgreSQL, the
BEGIN IMMEDIATE write lock on SQLite); institutions never wait for each other on PostgreSQL.

Entries hold ids and codes only - never names or medical data.

Caveat: an unkeyed hash chain proves integrity against edits that do not rewrite every later
entry and the head. Someone with write access could rebuild the whole chain; record the head
hash printed by `flask audit verify` outside the database to close that gap.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consent.actors import actor_display
from consent.vocabulary import label
from consent.models import AuditChainHead, AuditEntry
from store.prepared import Prepared
from consent.window import aware
from store.engine import begin_write
from store.models import Institution

GENESIS_HASH = "0" * 64
HASH_VERSION = 1

EVENTS = frozenset({"consent_registered", "consent_updated", "consent_revoked", "read_allowed", "read_denied"})
READ_EVENTS = ("read_allowed", "read_denied")

_entries = AuditEntry.__table__
_heads = AuditChainHead.__table__

# The hashed fields, in the order they are written; prev_hash is part of what is hashed.
HASHED_FIELDS = (
    "institution_id", "seq", "created_at", "event", "actor_kind", "actor_id", "actor_role",
    "person_id", "category", "consent_id", "reason", "detail", "prev_hash",
)


def _timestamp(instant: datetime) -> str:
    # Microseconds survive both SQLite and PostgreSQL, so the text is stable across a round trip.
    return aware(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an entry's canonical serialization.

    The serialization is a compact JSON array, UTF-8: the format version, then HASHED_FIELDS in
    order (times as UTC with microseconds). Positional, so no key order to get wrong.
    """
    values = [HASH_VERSION]
    for name in HASHED_FIELDS:
        value = fields[name]
        values.append(_timestamp(value) if name == "created_at" else value)
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_detail(detail: Mapping[str, Any] | None) -> str | None:
    if not detail:
        return None
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# Built once: decisions append on every read, and statement construction costs more than SQLite.
_SELECT_HEAD = Prepared(
    select(_heads.c.last_seq, _heads.c.last_hash)
    .where(_heads.c.institution_id == bindparam("b_institution_id"))
    .with_for_update()
)
_INSERT_ENTRY = Prepared(insert(_entries))
_UPDATE_HEAD = Prepared(
    update(_heads)
    .where(_heads.c.institution_id == bindparam("b_institution_id"))
    .values(last_seq=bindparam("b_last_seq"), last_hash=bindparam("b_last_hash"))
)


def _lock_head(conn: Connection, institution_id: int):
    params = {"b_institution_id": institution_id}
    rows = _SELECT_HEAD.execute(conn, params)
    if not rows:
        # First entry of this institution: create the head; a concurrent first append may win.
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            dialect_insert(_heads)
            .values(institution_id=institution_id, last_seq=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["institution_id"])
        )
        rows = _SELECT_HEAD.execute(conn, params)
    return rows[0]


def append_entry(
    session: Session,
    *,
    institution_id: int,
    event: str,
    now: datetime,
    actor_kind: str | None = None,
    actor_id: str | None = None,
    actor_role: str | None = None,
    person_id: str | None = None,
    category: str | None = None,
    consent_id: str | None = None,
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry to the institution's chain in the session's transaction; return its seq.

    The caller commits. On SQLite call this (or any consent function) at the start of a
    transaction, or call store.engine.begin_write first, so the write lock is taken up front.
    """
    begin_write(session)
    return append_on(
        session.connection(), institution_id=institution_id, event=event, now=now,
        actor_kind=actor_kind, actor_id=actor_id, actor_role=actor_role, person_id=person_id,
        category=category, consent_id=consent_id, reason=reason, detail=detail,
    )


def append_on(
    conn: Connection,
    *,
    institution_id: int,
    event: str,
    now: datetime,
    actor_kind: str | None = None,
    actor_id: str | None = None,
    actor_role: str | None = None,
    person_id: str | None = None,
    category: str | None = None,
    consent_id: str | None = None,
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """append_entry on a connection already in a writing transaction (the decision's hot path)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    last_seq, last_hash = _lock_head(conn, institution_id)
    fields = {
        "institution_id": institution_id,
        "seq": last_seq + 1,
        "created_at": aware(now),
        "event": event,
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "person_id": person_id,
        "category": category,
        "consent_id": consent_id,
        "reason": reason,
        "detail": canonical_detail(detail),
        "prev_hash": last_hash,
    }
    digest = entry_hash(fields)
    # Prepared statements: appends run on every read and must stay cheap.
    _INSERT_ENTRY.execute(conn, {**fields, "hash": digest})
    _UPDATE_HEAD.execute(
        conn, {"b_institution_id": institution_id, "b_last_seq": fields["seq"], "b_last_hash": digest}
    )
    return fields["seq"]


@dataclass(frozen=True)
class BrokenEntry:
    """The first place where an institution's chain does not hold.

    problem: "hash_mismatch" (the entry was edited or moved), "prev_hash_mismatch" (it does not
    follow the entry before it: an entry was replaced, reordered or rewritten), "missing_entry"
    (seq has a gap: an entry was deleted), "head_mismatch" (entries at the end were deleted, or
    the head was tampered with).
    """

    institution_id: int
    seq: int
    problem: str
    detail: str
    event: str | None = None
    created_at: datetime | None = None

    def describe(self) -> str:
        when = f" at {_timestamp(self.created_at)}" if self.created_at else ""
        event = f" ({self.event}{when})" if self.event else ""
        return f"institution {self.institution_id} seq {self.seq}{event}: {self.problem}: {self.detail}"


@dataclass(frozen=True)
class ChainState:
    institution_id: int
    entries: int
    head_hash: str


def verify_chain(session: Session, institution_id: int) -> BrokenEntry | None:
    """Walk an institution's chain in seq order; return the first broken entry, or None."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    stmt = (
        select(_entries)
        .where(_entries.c.institution_id == institution_id)
        .order_by(_entries.c.seq)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(stmt).mappings():
        seq = row["seq"]
        if seq != expected_seq:
            return BrokenEntry(
                institution_id, expected_seq, "missing_entry",
                f"entries {expected_seq}..{seq - 1} are missing (next present is {seq})",
            )
        if entry_hash(row) != row["hash"]:
            return BrokenEntry(
                institution_id, seq, "hash_mismatch",
                "the entry's content does not match its hash", row["event"], row["created_at"],
            )
        if row["prev_hash"] != prev_hash:
            return BrokenEntry(
                institution_id, seq, "prev_hash_mismatch",
                "prev_hash does not match the previous entry's hash", row["event"], row["created_at"],
            )
        expected_seq, prev_hash = seq + 1, row["hash"]
    head = session.execute(
        select(_heads.c.last_seq, _heads.c.last_hash).where(_heads.c.institution_id == institution_id)
    ).first()
    last_seq = expected_seq - 1
    if head is None:
        if last_seq == 0:
            return None
        return BrokenEntry(institution_id, last_seq, "head_mismatch", "the chain head is missing")
    if head.last_seq != last_seq or head.last_hash != prev_hash:
        return BrokenEntry(
            institution_id, last_seq + 1, "head_mismatch",
            f"the head records {head.last_seq} entries but {last_seq} are present and linked",
        )
    return None


def chain_state(session: Session, institution_id: int) -> ChainState:
    """How long the chain is and its head hash (worth recording outside the database)."""
    head = session.execute(
        select(_heads.c.last_seq, _heads.c.last_hash).where(_heads.c.institution_id == institution_id)
    ).first()
    if head is None:
        return ChainState(institution_id, 0, GENESIS_HASH)
    return ChainState(institution_id, head.last_seq, head.last_hash)


@dataclass(frozen=True)
class ReadRecord:
    """One read of a person's data, as the patient's 同意照会 page lists it."""

    at: datetime
    institution_id: int
    institution_name: str
    actor: str
    category: str
    category_label: str
    allowed: bool
    reason: str | None
    consent_id: str | None


def reads_of_person(
    session: Session, *, person_id: str, institution_id: int | None = None, limit: int = 200
) -> list[ReadRecord]:
    """Who read what of this person's data, and when (newest first), allowed or denied."""
    stmt = (
        select(
            _entries.c.created_at, _entries.c.institution_id, Institution.name, _entries.c.actor_kind,
            _entries.c.actor_role, _entries.c.detail, _entries.c.category, _entries.c.event,
            _entries.c.reason, _entries.c.consent_id,
        )
        .join(Institution, Institution.id == _entries.c.institution_id)
        .where(_entries.c.person_id == person_id, _entries.c.event.in_(READ_EVENTS))
        .order_by(_entries.c.created_at.desc(), _entries.c.seq.desc())
        .limit(limit)
    )
    if institution_id is not None:
        stmt = stmt.where(_entries.c.institution_id == institution_id)
    records = []
    for row in session.execute(stmt):
        via_client = bool(row.detail and "client_id" in json.loads(row.detail))
        records.append(
            ReadRecord(
                at=row.created_at,
                institution_id=row.institution_id,
                institution_name=row.name,
                actor=actor_display(row.actor_kind, row.actor_role, via_client),
                category=row.category,
                category_label=label(row.category),
                allowed=row.event == "read_allowed",
                reason=row.reason,
                consent_id=row.consent_id,
            )
        )
    return records
