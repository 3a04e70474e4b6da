"""The disaster measure (災害時特別措置): a declared area and period inside which licensed staff of
the institutions there may read a person's qualification, drug and checkup data without the card.

Seed 003 (slide 13) says only that MHLW was considering it, 「災害の規模等に応じて医療機関・薬局の範囲
及び期間を限定する」. Every rule below is the project's own (docs/domain.md, "The disaster measure"):
- the area is the union of whole prefectures (an institution's prefecture is the first two digits
  of its code) and listed institutions; the period runs from `starts_at` (inclusive) to `ends_at`
  (exclusive), or until an operator ends it earlier;
- a declaration is refused, and nothing written, for an empty area, an unknown prefecture or
  institution, an end not after the start, or an area and period intersecting an active
  (not ended, not yet over) disaster's;
- each declaration and end is appended to the audit chain of every institution it covers (actor
  "operator") and to the security log, which holds it even when no institution is covered yet.

The read itself is judged by consent.decision.decide (with a DisasterBasis): this module answers
only whether a disaster is in effect for an institution at an instant (`refusal`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Integer, String, Text, bindparam, func, or_, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from consent import audit
from consent.errors import DomainError
from consent.institutions import Institution
from consent.security_log import record_event
from consent.window import aware
from store.base import Base
from store.engine import begin_write
from store.types import UTCDateTime

# 都道府県コード (JIS X 0401): 01 北海道 .. 47 沖縄県, the first two digits of an institution code.
PREFECTURE_CODES: tuple[str, ...] = tuple(f"{n:02d}" for n in range(1, 48))
OPERATOR = "operator"  # the audit entries' actor kind: no staff member, no client

# Refusal reasons of a disaster read (consent.decision adds them to its own).
NOT_IN_EFFECT = "disaster_not_in_effect"  # no such disaster, or outside its period
OUT_OF_AREA = "disaster_out_of_area"
NO_CONSENT_KIND = "disaster_consent_not_recorded"
CATEGORY_EXCLUDED = "disaster_category_excluded"
REASONS = (NOT_IN_EFFECT, OUT_OF_AREA, NO_CONSENT_KIND, CATEGORY_EXCLUDED)


class DisasterError(DomainError):
    """A declaration or end refused (nothing written). `detail` names the offending value."""

    domain = "disaster"
    codes = frozenset({
        "invalid_name", "empty_area", "unknown_prefecture", "unknown_institution", "invalid_period",
        "intersects_active", "not_found", "already_over",
    })


class Disaster(Base):
    """One declaration: a name, an area (prefectures and institution codes) and a period."""

    __tablename__ = "disasters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Comma-separated codes ("13,14"; "" for none): a declaration names a handful.
    prefectures: Mapped[str] = mapped_column(String(150), default="")
    institution_codes: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Ended early by an operator: the measure stops there.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def prefecture_list(self) -> tuple[str, ...]:
        return _split(self.prefectures)

    @property
    def institution_list(self) -> tuple[str, ...]:
        return _split(self.institution_codes)

    @property
    def effective_end(self) -> datetime:
        """Where the measure stops: its `until`, or the operator's end when earlier."""
        return min(self.ends_at, self.ended_at) if self.ended_at is not None else self.ends_at

    def in_effect(self, now: datetime) -> bool:
        return self.starts_at <= aware(now) < self.effective_end

    def active(self, now: datetime) -> bool:
        """Not ended and not yet over (it may not have started): what a new area must not meet."""
        return self.ended_at is None and aware(now) < self.ends_at

    def covers(self, institution_code: str) -> bool:
        return covers(self.prefecture_list, self.institution_list, institution_code)


def _split(joined: str) -> tuple[str, ...]:
    return tuple(part for part in joined.split(",") if part)


def prefecture_of(institution_code: str) -> str:
    return institution_code[:2]


def covers(prefectures: Iterable[str], institution_codes: Iterable[str], institution_code: str) -> bool:
    return prefecture_of(institution_code) in set(prefectures) or institution_code in set(institution_codes)


def _areas_meet(prefectures_a: Sequence[str], codes_a: Sequence[str], prefectures_b: Sequence[str],
                codes_b: Sequence[str]) -> bool:
    if set(prefectures_a) & set(prefectures_b) or set(codes_a) & set(codes_b):
        return True
    return any(prefecture_of(c) in set(prefectures_b) for c in codes_a) or any(
        prefecture_of(c) in set(prefectures_a) for c in codes_b)


@dataclass(frozen=True)
class DisasterBasis:
    """What a disaster read rests on: the disaster and the consent kind staff recorded
    (vocabulary.DISASTER_CONSENT_KINDS; None before one is recorded). Both go into the audit entry."""

    disaster_id: int | None
    consent_kind: str | None = None

    def audit_detail(self) -> dict:
        return {"disaster_id": self.disaster_id, "consent_kind": self.consent_kind}


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100 or any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise DisasterError("invalid_name", detail=name[:100])
    return name


def _clean_codes(values: Iterable[str]) -> list[str]:
    """Stripped, without blanks and repeats, in the given order."""
    seen: list[str] = []
    for value in values:
        value = value.strip() if isinstance(value, str) else value
        if value and value not in seen:
            seen.append(value)
    return seen


def _lock(session: Session) -> None:
    """Serialise declarations, so two that intersect cannot both pass the check."""
    begin_write(session)  # SQLite: one writer at a time already
    if session.connection().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE disasters IN SHARE ROW EXCLUSIVE MODE"))


def declare(session: Session, *, name: str, prefectures: Iterable[str] = (), institution_codes: Iterable[str] = (),
            starts_at: datetime, ends_at: datetime, now: datetime) -> Disaster:
    """Declare a disaster (the caller commits). Raises DisasterError, having written nothing."""
    name = _clean_name(name)
    prefs, codes = _clean_codes(prefectures), _clean_codes(institution_codes)
    if not prefs and not codes:
        raise DisasterError("empty_area")
    unknown = [p for p in prefs if p not in PREFECTURE_CODES]
    if unknown:
        raise DisasterError("unknown_prefecture", detail=str(unknown[0])[:20])
    if starts_at.tzinfo is None or ends_at.tzinfo is None or ends_at <= starts_at:
        raise DisasterError("invalid_period")
    _lock(session)
    known = set(session.scalars(select(Institution.institution_code).where(
        Institution.institution_code.in_([c for c in codes if isinstance(c, str)]))))
    missing = [c for c in codes if c not in known]
    if missing:
        raise DisasterError("unknown_institution", detail=str(missing[0])[:20])
    for other in session.scalars(select(Disaster).where(Disaster.ended_at.is_(None), Disaster.ends_at > now)):
        overlapping = other.starts_at < ends_at and starts_at < other.ends_at
        if overlapping and _areas_meet(prefs, codes, other.prefecture_list, other.institution_list):
            raise DisasterError("intersects_active", detail=other.id)
    disaster = Disaster(name=name, prefectures=",".join(prefs), institution_codes=",".join(codes),
                        starts_at=aware(starts_at), ends_at=aware(ends_at), declared_at=now)
    session.add(disaster)
    session.flush()
    _record(session, disaster, "disaster_declared", now)
    return disaster


def end(session: Session, *, disaster_id: int, now: datetime) -> Disaster:
    """End a disaster now (the caller commits): its reads are refused from this instant."""
    _lock(session)
    disaster = session.get(Disaster, disaster_id)
    if disaster is None:
        raise DisasterError("not_found", detail=disaster_id)
    if not disaster.active(now):
        raise DisasterError("already_over", detail=disaster_id)
    disaster.ended_at = aware(now)
    session.flush()
    _record(session, disaster, "disaster_ended", now)
    return disaster


def covered_institutions(session: Session, disaster: Disaster) -> list[Institution]:
    wanted = []
    if disaster.prefecture_list:
        wanted.append(func.substr(Institution.institution_code, 1, 2).in_(disaster.prefecture_list))
    if disaster.institution_list:
        wanted.append(Institution.institution_code.in_(disaster.institution_list))
    return list(session.scalars(select(Institution).where(or_(*wanted)).order_by(Institution.id)))


def _record(session: Session, disaster: Disaster, event: str, now: datetime) -> None:
    detail = {"disaster_id": disaster.id, "prefectures": disaster.prefectures,
              "from": disaster.starts_at.isoformat(), "until": disaster.ends_at.isoformat()}
    record_event(session, event=event, subject=f"disaster:{disaster.id}", now=now, detail=detail)
    for institution in covered_institutions(session, disaster):
        audit.append_entry(session, institution_id=institution.id, event=event, now=now,
                           actor_kind=OPERATOR, detail={"disaster_id": disaster.id})


def all_disasters(session: Session) -> list[Disaster]:
    """Every declaration, newest first (the operator's list)."""
    return list(session.scalars(select(Disaster).order_by(Disaster.id.desc())))


def active_for(session: Session, institution_code: str, now: datetime) -> list[Disaster]:
    """The active disasters covering the institution (in effect, or declared to start later)."""
    rows = session.scalars(select(Disaster).where(Disaster.ended_at.is_(None), Disaster.ends_at > now)
                           .order_by(Disaster.starts_at))
    return [d for d in rows if d.covers(institution_code)]


def announced_for(session: Session, institution_code: str, now: datetime, *, ended_within: timedelta) -> list[Disaster]:
    """What the institution's console announces: the active disasters covering it, and those that
    ended (or ran out) within `ended_within`, by start."""
    rows = session.scalars(select(Disaster).where(Disaster.ends_at > aware(now) - ended_within)
                           .order_by(Disaster.starts_at, Disaster.id))
    return [d for d in rows if d.covers(institution_code) and d.effective_end > aware(now) - ended_within]


def in_effect(session: Session, now: datetime) -> list[Disaster]:
    """The disasters in effect now, anywhere."""
    rows = session.scalars(select(Disaster).where(Disaster.starts_at <= now, Disaster.ends_at > now)
                           .order_by(Disaster.id))
    return [d for d in rows if d.in_effect(now)]


def in_effect_for(session: Session, institution_code: str, now: datetime) -> Disaster | None:
    """The disaster in effect for this institution now (areas of active ones never meet: one)."""
    return next((d for d in in_effect(session, now) if d.covers(institution_code)), None)


_disasters = Disaster.__table__
_institutions = Institution.__table__
_BY_ID = select(_disasters).where(_disasters.c.id == bindparam("disaster_id"))
_CODE = select(_institutions.c.institution_code).where(_institutions.c.id == bindparam("institution_id"))


def refusal(conn: Connection, *, disaster_id: int | None, institution_id: int, now: datetime) -> str | None:
    """Why the disaster does not open reads for this institution now (NOT_IN_EFFECT, OUT_OF_AREA),
    or None when it does. The decision function adds the reader's own conditions."""
    row = conn.execute(_BY_ID, {"disaster_id": disaster_id}).first() if disaster_id is not None else None
    if row is None:
        return NOT_IN_EFFECT
    end_at = min(row.ends_at, row.ended_at) if row.ended_at is not None else row.ends_at
    if not row.starts_at <= aware(now) < end_at:
        return NOT_IN_EFFECT
    code = conn.execute(_CODE, {"institution_id": institution_id}).scalar()
    if code is None or not covers(_split(row.prefectures), _split(row.institution_codes), code):
        return OUT_OF_AREA
    return None
