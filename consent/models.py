"""Consent and audit tables.

Person and card ids are opaque strings owned by the OQS simulator and the card authority: no
foreign keys to their tables, so either can move to a remote service without a schema change.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from consent.category_states import CategoryState, CategoryStateList
from consent.vocabulary import SOURCE_CARD, SOURCE_CERTIFICATE, STATUS_REVOKED
from store.base import Base
from store.types import UTCDateTime


class CategoryList(TypeDecorator):
    """A tuple of category codes, stored space-separated (e.g. "drug limit").

    Six codes never need their own table; a string keeps the row narrow and the decision cheap.
    """

    impl = String(128)
    cache_ok = True

    def process_bind_param(self, value, dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            raise TypeError("categories must be a sequence of codes, not a string")
        return " ".join(value)

    def process_result_value(self, value: str | None, dialect) -> tuple[str, ...] | None:
        if value is None:
            return None
        return tuple(value.split())


class Consent(Base):
    """One patient's consent to one institution for one consultation date (同意情報), or a home-visit
    relationship (訪問診療等, consent/home_visits.py).

    Registering again for the same institution, person and date updates this row in place, so
    its id (used in URLs and by the pharmacy API) never changes. A relationship has no window
    (window_end is None - that is what makes a row a relationship): its consultation_date is the
    first visit's date, and it lapses at `lapses_at` unless a visit is recorded before.
    """

    __tablename__ = "consents"
    __table_args__ = (
        # Serves every decision (institution_id, person_id, consultation_date >= ...), keeping reads
        # O(1) in table size.
        Index("ix_consents_institution_person_date", "institution_id", "person_id", "consultation_date"),
        # One windowed consent per institution, person and date...
        Index("uq_consents_institution_person_date", "institution_id", "person_id", "consultation_date",
              unique=True, sqlite_where=text("window_end IS NOT NULL"),
              postgresql_where=text("window_end IS NOT NULL")),
        # ...and one home-visit relationship per institution and person (it has no window).
        Index("uq_consents_institution_person_relationship", "institution_id", "person_id",
              unique=True, sqlite_where=text("window_end IS NULL"), postgresql_where=text("window_end IS NULL")),
        # The console's 「同意取得済み患者一覧」 by consultation date.
        Index("ix_consents_institution_id_consultation_date", "institution_id", "consultation_date"),
        # The events' expiry sweep (consent/events.py): windows and lapses that passed since the last one.
        Index("ix_consents_window_end", "window_end"),
        Index("ix_consents_lapses_at", "lapses_at"),
    )

    # Opaque and unguessable (secrets.token_urlsafe): it appears in URLs and API paths.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    person_id: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[str] = mapped_column(String(64))
    care_setting: Mapped[int] = mapped_column(Integer)
    # Category codes in CATEGORIES order (consent/vocabulary.py).
    categories: Mapped[tuple[str, ...]] = mapped_column(CategoryList())
    consultation_date: Mapped[date] = mapped_column(Date)
    # When the current categories were agreed (the window opens here); created_at is the first time.
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # None for a home-visit relationship.
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Only "active" or "revoked" is stored; 同意有効期限切れ is computed from now (status_at).
    status: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Who revoked: "patient", "staff:<id>", "client:<id>" - never a name.
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # 1 by the institution, 2 by the patient, 3 use changed.
    revocation_reason: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The qualification confirmed through OQS at the card read: the institution's billing record.
    qualification_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # OQS validity (consent/vocabulary.py VALIDITY), as confirmed at the card read.
    validity_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Per category as stored (consent.category_states): only categories ever consented here;
    # flag 1 past its expiry is read as 2 (reason 0) - see category_states.states_at.
    category_states: Mapped[tuple[CategoryState, ...]] = mapped_column(CategoryStateList())
    # 往診 (care setting 2 from the tablet's house-call URL): a one-off visit, windowed like care
    # settings 1 and 3 - a consent per visit day, not a home-visit relationship.
    house_call: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # A home-visit relationship only: the latest recorded visit, and the instant the relationship
    # lapses without a further visit (00:00 JST of last visit + N + 1 days, N the institution's
    # home_visit_lapse_days). Kept on the row so that a decision stays one row read.
    last_visit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    lapses_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # How the qualification was confirmed (vocabulary.SOURCES): "card" (a card read, the patient's
    # consent) or "certificate" (資格確認書: staff typed its numbers; no categories, no data ever -
    # consent.decision refuses every data read with `certificate_only`). card_id is "" then.
    source: Mapped[str] = mapped_column(String(16), server_default=SOURCE_CARD, default=SOURCE_CARD)
    # How the patient was identified at the last card read that registered it: "pin" (the card's
    # PIN) or "photo" (目視確認: a staff member compared the card's face photo on the institution's
    # tablet, 訪問診療等 and 往診 only). `verified_by`: that staff member ("staff:<id>"), None for "pin".
    verification: Mapped[str] = mapped_column(String(8), server_default="pin", default="pin")
    verified_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def revoked(self) -> bool:
        return self.status == STATUS_REVOKED

    @property
    def relationship(self) -> bool:
        return self.window_end is None

    @property
    def confirmation_only(self) -> bool:
        """A 資格確認限定型 confirmation: the qualification read at the institution's counter, no
        category ever consented and no relationship (consent/qualification_only.py). A 資格確認書's
        record is not one: it has its own words and refusals (source "certificate")."""
        return not self.categories and not self.relationship and self.source != SOURCE_CERTIFICATE

    @property
    def nothing_to_end(self) -> bool:
        """A record of a qualification check only (資格確認限定型, or a 資格確認書): nothing was
        consented, so the institution has no 「同意の取消」 to make (ConsentError confirmation_only)."""
        return self.confirmation_only or self.source == SOURCE_CERTIFICATE

    @property
    def ends_at(self) -> datetime | None:
        """When reads end by themselves: the window end, or a relationship's lapse; None for a
        relationship at an institution that sets no lapse (it ends only when someone ends it)."""
        return self.window_end if self.window_end is not None else self.lapses_at


@dataclass(frozen=True)
class ConsentView:
    """A read-only snapshot of a consent row, as a decision judged it.

    Same attribute names as Consent, so pages and the API can use either; being frozen and
    detached, it cannot be changed or saved by mistake.
    """

    id: str
    institution_id: int
    person_id: str
    card_id: str
    care_setting: int
    categories: tuple[str, ...]
    consultation_date: date
    consented_at: datetime
    window_end: datetime | None
    status: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_reason: int | None
    qualification_confirmed_at: datetime | None
    validity_code: int | None
    created_at: datetime
    updated_at: datetime
    category_states: tuple[CategoryState, ...]
    house_call: bool
    last_visit_date: date | None
    lapses_at: datetime | None
    source: str = SOURCE_CARD
    verification: str = "pin"
    verified_by: str | None = None

    revoked = Consent.revoked
    relationship = Consent.relationship
    confirmation_only = Consent.confirmation_only
    nothing_to_end = Consent.nothing_to_end
    ends_at = Consent.ends_at


class Visit(Base):
    """One recorded visit of a home-visit relationship (the first visit included), at most one a day."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("consent_id", "visit_date", name="uq_visits_consent_date"),
        # GET /api/v1/consents?date= and the console's list: the relationships visited that day.
        Index("ix_visits_institution_id_visit_date", "institution_id", "visit_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "patient" (the first visit, on the tablet), "staff:<id>", "client:<id>" - never a name.
    recorded_by: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last entry of one institution's audit chain.

    Appends lock this row (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so appends of one
    institution serialize while other institutions never wait. It also lets verification notice
    entries deleted from the end of the chain.
    """

    __tablename__ = "audit_chain_heads"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    # The entry format the chain has switched to: 1 (chains from before keying), 2 (keyed).
    hash_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class AuditEntry(Base):
    """One append-only, hash-chained audit entry. Ids and codes only: no names, no data."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        # 「同意照会」: who read what of mine, when.
        Index("ix_audit_entries_person_id", "person_id"),
    )

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id"), primary_key=True, autoincrement=False
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # consent_registered, consent_updated, consent_revoked, consent_use_changed, read_allowed,
    # read_denied, institution_mode_changed (consent/audit.py EVENTS)
    event: Mapped[str] = mapped_column(String(32))
    actor_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    consent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Canonical JSON (sorted keys) of event details; hashed exactly as stored.
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    # Version 1: plain SHA-256 (entries from before keying). Version 2: HMAC-SHA-256 with the
    # audit key named by key_id (the key itself never enters the database).
    hash: Mapped[str] = mapped_column(String(64))
    hash_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


_VIEW_FIELDS = tuple(f.name for f in fields(ConsentView))
# ConsentView(*row) takes a consents row as is: keep the fields in the table's column order.
assert _VIEW_FIELDS == tuple(Consent.__table__.columns.keys()), "ConsentView must mirror Consent"
