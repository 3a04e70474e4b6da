"""The append-only, keyed, hash-chained audit log: one chain per institution.

Each entry carries its predecessor's hash and its own MAC over a canonical serialization of all
its fields, so an edited, deleted or reordered entry breaks the chain. Appends of one
institution serialize on that institution's chain-head row (FOR UPDATE on PostgreSQL, the
BEGIN IMMEDIATE write lock on SQLite); institutions never wait for each other on PostgreSQL.

Entries hold ids and codes only - never names or medical data.

Versions: entries written before keying are version 1 (plain SHA-256) and stay as they are.
Each chain switches to version 2 (HMAC-SHA-256 with the audit key, whose id the entry carries) at
a boundary entry (`audit_keyed`) written before its next append; from there on every entry is
keyed, so someone with write access to the database but not the key cannot rewrite it. What the
key cannot show - entries cut from the end with the head moved back, or a rewrite of a chain's
unkeyed part - the signed checkpoints do: `Checkpoint` lines kept outside the database.

The key reaches this module through the engine (`use_keyring`), never through the database.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consent.actors import actor_display
from consent.errors import DomainError
from consent.vocabulary import disaster_consent_kind, label
from consent.models import AuditChainHead, AuditEntry
from store.prepared import Prepared
from consent.window import aware
from store.engine import begin_write
from consent.institutions import Institution

GENESIS_HASH = "0" * 64
LEGACY_VERSION = 1  # plain SHA-256: entries written before the chain was keyed
KEYED_VERSION = 2  # HMAC-SHA-256 with the audit key named by the entry's key_id
HASH_VERSION = KEYED_VERSION  # what new entries use

EVENTS = frozenset({
    "consent_registered", "consent_updated", "consent_revoked", "read_allowed", "read_denied",
    # An operator's declaration or end of a disaster covering the institution (consent.disasters).
    "disaster_declared", "disaster_ended",
    # 資格確認限定型 switched on or off; a consent's data categories ended by that switch.
    "institution_mode_changed", "consent_use_changed",
    # a home visit recorded (consent/home_visits.py)
    "visit_recorded",
    # A role or a system job refused an action its role may not take (consent/permissions.py).
    "action_refused",
    # A search that can identify a person (consent/searches.py): who, when, the kind of criteria.
    "person_searched",
    # 「管理」 (consent/app/staff_admin.py): staff accounts changed by an admin; detail names the
    # member by id (staff_id) and, for a role, the roles before and after.
    "staff_added", "staff_disabled", "staff_enabled", "staff_password_reset", "staff_role_changed",
    # 「受付URL」: an entry point's URL replaced (detail: the setting); 「環境設定」 changed (detail: what).
    "reception_url_rotated", "settings_changed",
    # 「予約」: an appointment added, changed or deleted (detail: its id; never the patient's kana).
    "appointment_changed",
})
# Events of 「管理」: an admin's changes, as the audit log page groups them.
ADMIN_EVENTS = ("staff_added", "staff_disabled", "staff_enabled", "staff_password_reset", "staff_role_changed",
                "reception_url_rotated", "settings_changed", "appointment_changed")
# Written by the chain itself, never by callers: where a version-1 chain switches to keyed entries.
BOUNDARY_EVENT = "audit_keyed"
READ_EVENTS = ("read_allowed", "read_denied")

_entries = AuditEntry.__table__
_heads = AuditChainHead.__table__

# The hashed fields, in the order they are written; prev_hash is part of what is hashed.
HASHED_FIELDS = (
    "institution_id", "seq", "created_at", "event", "actor_kind", "actor_id", "actor_role",
    "person_id", "category", "consent_id", "reason", "detail", "prev_hash",
)


class AuditError(DomainError):
    """The audit log cannot do what was asked (no key bound, a checkpoint line that is not one).

    Raised to operators' commands and to programs, not to patients: `detail` is an English
    sentence for the operator.
    """

    domain = "audit"
    codes = frozenset({
        "audit_key_too_short", "audit_key_unknown", "audit_key_missing", "audit_version_unknown",
        "invalid_checkpoint", "checkpoint_not_authentic",
    })


_KEY_ID_LABEL = b"mynareception audit key id"
MIN_KEY_LENGTH = 32


def key_id_of(secret: str) -> str:
    """A key's id: derived from the key, so an id can never name two different keys."""
    return hmac.new(secret.encode("utf-8"), _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class AuditKeyring:
    """The audit keys: `current_id` keys new entries and signs checkpoints; every key verifies.

    Retired keys stay here read-only so that the entries and checkpoints they keyed still verify.
    """

    current_id: str
    _secrets: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_secrets(cls, current: str, retired: Iterable[str] = ()) -> "AuditKeyring":
        secrets_by_id: dict[str, bytes] = {}
        for secret in (current, *retired):
            if len(secret) < MIN_KEY_LENGTH:
                raise AuditError("audit_key_too_short", detail=f"an audit key needs at least {MIN_KEY_LENGTH} characters")
            secrets_by_id[key_id_of(secret)] = secret.encode("utf-8")
        return cls(key_id_of(current), tuple(secrets_by_id.items()))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self._secrets)

    def secret(self, key_id: str | None) -> bytes | None:
        for known, secret in self._secrets:
            if known == key_id:
                return secret
        return None

    def mac(self, key_id: str, text: str) -> str:
        secret = self.secret(key_id)
        if secret is None:
            raise AuditError("audit_key_unknown", detail=f"audit key {key_id} is not configured (AUDIT_KEY, AUDIT_KEYS)")
        return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never print a key
        return f"AuditKeyring(current_id={self.current_id!r}, key_ids={self.key_ids!r})"


def use_keyring(engine: Engine, keyring: AuditKeyring) -> None:
    """Bind the audit keys to an engine: every connection it (and engines derived later) hands out
    carries them, like the `sqlite_begin` option. Call before deriving sessionmakers from it."""
    engine.update_execution_options(audit_keyring=keyring)


def keyring_of(conn: Connection) -> AuditKeyring:
    keyring = conn.get_execution_options().get("audit_keyring")
    if keyring is None:
        raise AuditError("audit_key_missing", detail="no audit key is bound to this engine (consent.audit.use_keyring)")
    return keyring


def _timestamp(instant: datetime) -> str:
    # Microseconds survive both SQLite and PostgreSQL, so the text is stable across a round trip.
    return aware(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _serialize(prefix: list[Any], fields: Mapping[str, Any]) -> str:
    values = list(prefix)
    for name in HASHED_FIELDS:
        value = fields[name]
        values.append(_timestamp(value) if name == "created_at" else value)
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def entry_hash(fields: Mapping[str, Any], keyring: AuditKeyring | None = None) -> str:
    """An entry's hash (hex), by its hash_version (1 when absent: rows from before keying).

    The serialization is a compact JSON array, UTF-8: the format version (then, when keyed, the
    key id), then HASHED_FIELDS in order (times as UTC with microseconds). Positional, so no key
    order to get wrong. Version 1 is its SHA-256; version 2 its HMAC-SHA-256 with that key.
    """
    version = fields.get("hash_version") or LEGACY_VERSION
    if version == LEGACY_VERSION:
        return hashlib.sha256(_serialize([LEGACY_VERSION], fields).encode("utf-8")).hexdigest()
    if version != KEYED_VERSION:
        raise AuditError("audit_version_unknown", detail=f"unknown audit entry version {version!r}")
    if keyring is None:
        raise AuditError("audit_key_missing", detail="a keyed entry's hash needs the audit keys")
    key_id = fields["key_id"]
    return keyring.mac(key_id, _serialize([KEYED_VERSION, key_id], fields))


def canonical_detail(detail: Mapping[str, Any] | None) -> str | None:
    if not detail:
        return None
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# Built once: decisions append on every read, and statement construction costs more than SQLite.
_SELECT_HEAD = Prepared(
    select(_heads.c.last_seq, _heads.c.last_hash, _heads.c.hash_version)
    .where(_heads.c.institution_id == bindparam("b_institution_id"))
    .with_for_update()
)
_INSERT_ENTRY = Prepared(insert(_entries))
_UPDATE_HEAD = Prepared(
    update(_heads)
    .where(_heads.c.institution_id == bindparam("b_institution_id"))
    .values(last_seq=bindparam("b_last_seq"), last_hash=bindparam("b_last_hash"),
            hash_version=bindparam("b_hash_version"))
)


def _lock_head(conn: Connection, institution_id: int):
    params = {"b_institution_id": institution_id}
    rows = _SELECT_HEAD.execute(conn, params)
    if not rows:
        # First entry of this institution: create the head (keyed from the start: nothing to
        # switch from); a concurrent first append may win.
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            dialect_insert(_heads)
            .values(institution_id=institution_id, last_seq=0, last_hash=GENESIS_HASH,
                    hash_version=KEYED_VERSION)
            .on_conflict_do_nothing(index_elements=["institution_id"])
        )
        rows = _SELECT_HEAD.execute(conn, params)
    return rows[0]


class EntryFields(TypedDict, total=False):
    """What an entry may say besides its institution, event and time."""

    actor_kind: str | None
    actor_id: str | None
    actor_role: str | None
    person_id: str | None
    category: str | None
    consent_id: str | None
    reason: str | None
    detail: Mapping[str, Any] | None


def append_entry(session: Session, *, institution_id: int, event: str, now: datetime,
                 **fields: Unpack[EntryFields]) -> int:
    """Append one entry to the institution's chain in the session's transaction; return its seq.

    The caller commits. On SQLite call this (or any consent function) at the start of a
    transaction, or call store.engine.begin_write first, so the write lock is taken up front.
    """
    begin_write(session)
    return append_on(session.connection(), institution_id=institution_id, event=event, now=now, **fields)


def _insert(conn: Connection, keyring: AuditKeyring, fields: dict[str, Any]) -> str:
    fields["hash_version"] = KEYED_VERSION
    fields["key_id"] = keyring.current_id
    digest = entry_hash(fields, keyring)
    # Prepared statements: appends run on every read and must stay cheap.
    _INSERT_ENTRY.execute(conn, {**fields, "hash": digest})
    return digest


def append_on(conn: Connection, *, institution_id: int, event: str, now: datetime,
              **fields: Unpack[EntryFields]) -> int:
    """append_entry on a connection already in a writing transaction (the decision's hot path)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    keyring = keyring_of(conn)
    last_seq, last_hash, version = _lock_head(conn, institution_id)
    if version != KEYED_VERSION and last_seq > 0:
        # A chain from before keying: its entries stay as written; the boundary entry links
        # them into the keyed part, so rewriting them now breaks a MAC.
        last_seq += 1
        last_hash = _insert(conn, keyring, _fields(
            institution_id, last_seq, now, BOUNDARY_EVENT, last_hash,
            detail=canonical_detail({"from_version": version, "to_version": KEYED_VERSION}),
        ))
    seq = last_seq + 1
    digest = _insert(conn, keyring, _fields(
        institution_id, seq, now, event, last_hash, **{**fields, "detail": canonical_detail(fields.get("detail"))},
    ))
    _UPDATE_HEAD.execute(conn, {
        "b_institution_id": institution_id, "b_last_seq": seq, "b_last_hash": digest,
        "b_hash_version": KEYED_VERSION,
    })
    return seq


def _fields(institution_id: int, seq: int, now: datetime, event: str, prev_hash: str, *,
            actor_kind: str | None = None, actor_id: str | None = None, actor_role: str | None = None,
            person_id: str | None = None, category: str | None = None, consent_id: str | None = None,
            reason: str | None = None, detail: str | None = None) -> dict[str, Any]:
    return {
        "institution_id": institution_id,
        "seq": seq,
        "created_at": aware(now),
        "event": event,
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "person_id": person_id,
        "category": category,
        "consent_id": consent_id,
        "reason": reason,
        "detail": detail,
        "prev_hash": prev_hash,
    }


# Checkpoints: one signed JSON line per chain, kept outside the database.

CHECKPOINT_FIELDS = ("institution_code", "seq", "hash", "at", "key_id", "signature")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Checkpoint:
    """How far a chain reached and its hash there, signed with the audit key.

    A later chain must still hold this entry (seq, hash), and everything after it must be keyed.
    """

    institution_code: str
    seq: int
    hash: str
    at: str  # when it was taken, UTC with microseconds
    key_id: str
    signature: str

    def to_json(self) -> str:
        return json.dumps({name: getattr(self, name) for name in CHECKPOINT_FIELDS}, separators=(", ", ": "))


def _checkpoint_text(institution_code: str, seq: int, digest: str, at: str, key_id: str) -> str:
    return json.dumps(["audit_checkpoint", institution_code, seq, digest, at, key_id], separators=(",", ":"))


def sign_checkpoint(keyring: AuditKeyring, *, institution_code: str, seq: int, digest: str,
                    now: datetime) -> Checkpoint:
    at = _timestamp(now)
    key_id = keyring.current_id
    signature = keyring.mac(key_id, _checkpoint_text(institution_code, seq, digest, at, key_id))
    return Checkpoint(institution_code, seq, digest, at, key_id, signature)


def parse_checkpoints(lines: Iterable[str], keyring: AuditKeyring) -> list[Checkpoint]:
    """Read checkpoint lines (blank lines skipped); raise AuditError for the first bad one.

    Codes: "invalid_checkpoint" (not a checkpoint line at all), "checkpoint_not_authentic" (its
    signature does not hold under the key it names, or that key is not configured: edited).
    """
    checkpoints = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if (
            not isinstance(data, dict) or set(data) != set(CHECKPOINT_FIELDS)
            or not all(isinstance(data[n], str) for n in CHECKPOINT_FIELDS if n != "seq")
            or type(data["seq"]) is not int or data["seq"] < 0
        ):
            raise AuditError("invalid_checkpoint", detail=f"line {number} is not a checkpoint line")
        checkpoint = Checkpoint(**{name: data[name] for name in CHECKPOINT_FIELDS})
        where = f"line {number} ({checkpoint.institution_code} seq {checkpoint.seq})"
        if keyring.secret(checkpoint.key_id) is None:
            raise AuditError("checkpoint_not_authentic", detail=f"{where} is signed with key {checkpoint.key_id}, which is not in AUDIT_KEY or AUDIT_KEYS")
        expected = keyring.mac(checkpoint.key_id, _checkpoint_text(
            checkpoint.institution_code, checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.key_id))
        if not hmac.compare_digest(expected, checkpoint.signature) or not _HEX64.fullmatch(checkpoint.hash):
            raise AuditError("checkpoint_not_authentic", detail=f"{where}: the signature does not match (the line was edited)")
        checkpoints.append(checkpoint)
    return checkpoints


@dataclass(frozen=True)
class BrokenEntry:
    """The first place where an institution's chain does not hold.

    problem: "hash_mismatch" (the entry was edited or moved, or re-hashed without the key),
    "prev_hash_mismatch" (it does not follow the entry before it: an entry was replaced,
    reordered or rewritten), "missing_entry" (seq has a gap: an entry was deleted),
    "head_mismatch" (entries at the end were deleted, or the head was tampered with),
    "unkeyed_entry" (a version-1 entry after keyed entries or after a checkpoint: a rewrite
    without the key), "missing_boundary" (keyed entries follow version-1 ones without the
    boundary entry), "unknown_key" (keyed with a key not in AUDIT_KEY/AUDIT_KEYS),
    "unknown_version"; with checkpoints also "checkpoint_mismatch" (the entry is not the one a
    checkpoint recorded: the chain up to it was rewritten) and "shortened" (the chain ends
    before a checkpoint's seq: entries were removed from the end).
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


def _entry_problem(row: Mapping[str, Any], keyring: AuditKeyring, keyed_before: bool,
                   keyed_after: int | None, keyed_since: datetime | None = None) -> tuple[str, str] | None:
    """What is wrong with one entry taken on its own (its version, key and MAC), or None."""
    version, seq = row["hash_version"], row["seq"]
    if version == LEGACY_VERSION:
        if keyed_before:
            return "unkeyed_entry", "a version-1 (unkeyed) entry follows keyed entries"
        if keyed_after is not None and seq > keyed_after:
            return "unkeyed_entry", f"a version-1 (unkeyed) entry after the checkpoint at seq {keyed_after}"
        if keyed_since is not None and aware(row["created_at"]) >= keyed_since:
            return "unkeyed_entry", (f"a version-1 (unkeyed) entry dated at or after AUDIT_KEYED_SINCE "
                                     f"({_timestamp(keyed_since)}): rewritten without the key")
    elif version == KEYED_VERSION:
        if keyring.secret(row["key_id"]) is None:
            return "unknown_key", f"keyed with key {row['key_id']}, which is not in AUDIT_KEY or AUDIT_KEYS"
        if not keyed_before and seq > 1 and row["event"] != BOUNDARY_EVENT:
            return "missing_boundary", "keyed entries follow version-1 ones without the boundary entry"
    else:
        return "unknown_version", f"unknown entry version {version!r}"
    if not hmac.compare_digest(entry_hash(row, keyring), row["hash"]):
        return "hash_mismatch", "the entry's content does not match its hash"
    return None


def verify_chain(session: Session, institution_id: int,
                 checkpoints: Sequence[Checkpoint] = (), *, keyed_since: datetime | None = None) -> BrokenEntry | None:
    """Walk an institution's chain in seq order; return the first broken entry, or None.

    `checkpoints` (this institution's, already authenticated by parse_checkpoints) must still
    hold: the chain reaches each one's seq with the same hash, and is keyed after it.
    `keyed_since` (AUDIT_KEYED_SINCE, kept outside the database): no version-1 entry may be dated
    at or after it - a keyed chain recomputed as plain SHA-256 entries is caught there.
    """
    keyring = keyring_of(session.connection())
    at_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        at_seq.setdefault(checkpoint.seq, []).append(checkpoint)
    # Checkpoints are taken by keyed code: whatever was appended after one is keyed.
    keyed_after = min(at_seq) if at_seq else None
    expected_seq, prev_hash, keyed = 1, GENESIS_HASH, False
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
        problem = _entry_problem(row, keyring, keyed, keyed_after, keyed_since)
        if problem is not None:
            return BrokenEntry(institution_id, seq, *problem, row["event"], row["created_at"])
        if row["prev_hash"] != prev_hash:
            return BrokenEntry(
                institution_id, seq, "prev_hash_mismatch",
                "prev_hash does not match the previous entry's hash", row["event"], row["created_at"],
            )
        for checkpoint in at_seq.get(seq, ()):
            if checkpoint.hash != row["hash"]:
                return BrokenEntry(
                    institution_id, seq, "checkpoint_mismatch",
                    f"not the entry the checkpoint of {checkpoint.at} recorded: the chain up to here "
                    "was rewritten", row["event"], row["created_at"],
                )
        keyed = keyed or row["hash_version"] == KEYED_VERSION
        expected_seq, prev_hash = seq + 1, row["hash"]
    head = session.execute(
        select(_heads.c.last_seq, _heads.c.last_hash).where(_heads.c.institution_id == institution_id)
    ).first()
    last_seq = expected_seq - 1
    if head is None and last_seq > 0:
        return BrokenEntry(institution_id, last_seq, "head_mismatch", "the chain head is missing")
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        return BrokenEntry(
            institution_id, last_seq + 1, "head_mismatch",
            f"the head records {head.last_seq} entries but {last_seq} are present and linked",
        )
    if at_seq and max(at_seq) > last_seq:
        furthest = at_seq[max(at_seq)][0]
        return BrokenEntry(
            institution_id, last_seq + 1, "shortened",
            f"the chain ends at seq {last_seq} but the checkpoint of {furthest.at} recorded seq "
            f"{furthest.seq}: entries {last_seq + 1}..{furthest.seq} were removed",
        )
    return None


def keyed_from_the_start(session: Session, institution_id: int) -> bool:
    """Is the chain's first entry keyed (or is there none)? Such a chain cannot be rewritten
    without the key; one that starts with version-1 entries can, up to its first keyed entry."""
    first = session.execute(
        select(_entries.c.hash_version).where(_entries.c.institution_id == institution_id)
        .order_by(_entries.c.seq).limit(1)
    ).scalar()
    return first is None or first == KEYED_VERSION


def chain_state(session: Session, institution_id: int) -> ChainState:
    """How long the chain is and its head hash (what a checkpoint records)."""
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
    # Read under the disaster measure (災害時特別措置): without the card, on the disaster's basis.
    disaster: bool = False
    # ... and the consent kind staff recorded for it (vocabulary.DISASTER_CONSENT_KINDS: "oral" or
    # "none"; an entry written as "difficult" before the depth release reads "none" - the chained
    # entry itself is never rewritten). None for other reads, or a refusal before one was recorded.
    consent_kind: str | None = None


def reads_of_person(
    session: Session, *, person_id: str, institution_id: int | None = None, limit: int = 200
) -> list[ReadRecord]:
    """Who read what of this person's data, and when (newest first), allowed or denied."""
    stmt = (
        select(
            _entries.c.created_at, _entries.c.institution_id, Institution.name, _entries.c.actor_kind,
            _entries.c.actor_role, _entries.c.detail, _entries.c.category, _entries.c.event,
            _entries.c.reason, _entries.c.consent_id, Institution.kind,
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
        detail = json.loads(row.detail) if row.detail else {}
        via_client = "client_id" in detail
        records.append(
            ReadRecord(
                at=row.created_at,
                institution_id=row.institution_id,
                institution_name=row.name,
                actor=actor_display(row.actor_kind, row.actor_role, via_client, row.kind),
                category=row.category,
                category_label=label(row.category),
                allowed=row.event == "read_allowed",
                reason=row.reason,
                consent_id=row.consent_id,
                disaster="disaster_id" in detail,
                consent_kind=disaster_consent_kind(detail.get("consent_kind")),
            )
        )
    return records


# --- the audit log as 「管理」's 監査ログ shows it ----------------------------------------------------

# Event groups an admin filters by (labels: vocabulary.AUDIT_GROUP_LABELS).
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "read": READ_EVENTS + ("action_refused",),
    "consent": ("consent_registered", "consent_updated", "consent_revoked", "consent_use_changed", "visit_recorded"),
    "search": ("person_searched",),
    "admin": ADMIN_EVENTS + ("institution_mode_changed", "disaster_declared", "disaster_ended"),
}
DECISIONS = {"allowed": ("read_allowed",), "denied": ("read_denied", "action_refused")}


@dataclass(frozen=True)
class LogFilter:
    """What 監査ログ narrows to; every part optional. `person_ids` None: anyone; empty: nobody."""

    person_ids: tuple[str, ...] | None = None
    staff_id: int | None = None
    group: str | None = None
    category: str | None = None
    decision: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at: datetime
    event: str
    actor_kind: str | None
    actor_id: str | None
    actor_role: str | None
    person_id: str | None
    category: str | None
    reason: str | None
    detail: dict


def log_entries(session: Session, institution_id: int, wanted: LogFilter = LogFilter(), *,
                limit: int = 500) -> list[LogEntry]:
    """The institution's entries matching `wanted`, newest first, at most `limit`."""
    c = _entries.c
    stmt = select(c.seq, c.created_at, c.event, c.actor_kind, c.actor_id, c.actor_role, c.person_id, c.category,
                  c.reason, c.detail).where(c.institution_id == institution_id)
    if wanted.person_ids is not None:
        stmt = stmt.where(c.person_id.in_(list(wanted.person_ids)))
    if wanted.staff_id is not None:
        stmt = stmt.where(c.actor_kind == "staff", c.actor_id == str(wanted.staff_id))
    if wanted.group is not None:
        stmt = stmt.where(c.event.in_(EVENT_GROUPS[wanted.group]))
    if wanted.category is not None:
        stmt = stmt.where(c.category == wanted.category)
    if wanted.decision is not None:
        stmt = stmt.where(c.event.in_(DECISIONS[wanted.decision]))
    if wanted.since is not None:
        stmt = stmt.where(c.created_at >= wanted.since)
    if wanted.until is not None:
        stmt = stmt.where(c.created_at < wanted.until)
    rows = session.execute(stmt.order_by(c.seq.desc()).limit(limit)).all()
    return [LogEntry(r.seq, r.created_at, r.event, r.actor_kind, r.actor_id, r.actor_role, r.person_id, r.category,
                     r.reason, json.loads(r.detail) if r.detail else {}) for r in rows]
