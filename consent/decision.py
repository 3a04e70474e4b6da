"""The one decision every read goes through, for the console and the API alike.

(institution, actor, person, category, now) -> allow, or deny with a reason. Every decision,
allow or deny, is appended to the institution's audit chain in the caller's transaction: the
caller commits (and must, even for a deny, or the attempt is not recorded).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, bindparam, select, union_all
from sqlalchemy.orm import Session

from consent import audit, disasters, events
from consent.actors import Actor
from consent.category_states import CategoryState, current_state
from consent.errors import DomainError
from consent.institutions import Institution
from consent.models import Consent, ConsentView
from consent.vocabulary import (
    SOURCE_CERTIFICATE,
    CLINICAL_CATEGORIES, DISASTER_CATEGORIES, DISASTER_CONSENT_KINDS, FLAG_CONSENTED,
    LIMITED_CLIENT_CATEGORIES,
    NOT_EXPIRING, QUALIFICATION, READ_CATEGORIES, REASON_EXPIRY, SCOPE_OF_CATEGORY, STATUS_REVOKED,
)
from store.prepared import Prepared
from consent.window import aware, jst_date
from store.engine import begin_write

# Reason codes (stable: the API returns them as error codes).
NO_CONSENT = "no_consent"
CATEGORY_NOT_CONSENTED = "category_not_consented"
CONSENT_EXPIRED = "consent_expired"
CONSENT_REVOKED = "consent_revoked"
NOT_LICENSED = "not_licensed"
OTHER_INSTITUTION = "other_institution"  # the API answers 404 not_found
NOT_FOUND = "not_found"  # a named consent id that does not exist; the API answers 404
INSUFFICIENT_SCOPE = "insufficient_scope"  # a client-credentials token beyond its reach
# A 資格確認限定型 institution: nothing beyond the qualification, whatever the consent, role or token.
QUALIFICATION_ONLY = "qualification_only"
# A consent recorded from a 資格確認書 (source "certificate"): the qualification, nothing else.
CERTIFICATE_ONLY = "certificate_only"

# A disaster read (災害時特別措置, consent.disasters): outside its period or its area, or before
# staff recorded the consent kind, or a category the measure does not open.
DISASTER_NOT_IN_EFFECT = disasters.NOT_IN_EFFECT
DISASTER_OUT_OF_AREA = disasters.OUT_OF_AREA
DISASTER_NO_CONSENT_KIND = disasters.NO_CONSENT_KIND
DISASTER_CATEGORY_EXCLUDED = disasters.CATEGORY_EXCLUDED

# Every reason a read can be refused for (ReadRefused declares these as its codes).
REASONS = (
    NO_CONSENT, CATEGORY_NOT_CONSENTED, CONSENT_EXPIRED, CONSENT_REVOKED, NOT_LICENSED,
    OTHER_INSTITUTION, NOT_FOUND, INSUFFICIENT_SCOPE, QUALIFICATION_ONLY, CERTIFICATE_ONLY, *disasters.REASONS,
)

# When no consent allows, the refusal that tells the reader most (lower first).
# A 資格確認書 confirmation tells least: a card consent's own refusal says more about the data.
_REFUSAL_RANK = {CATEGORY_NOT_CONSENTED: 0, CONSENT_REVOKED: 1, CONSENT_EXPIRED: 2, NO_CONSENT: 3,
                 CERTIFICATE_ONLY: 4}


@dataclass(frozen=True)
class Decision:
    """The answer to one read: a reason code, and what its words need (web/error_messages.py's
    `decision_message` words it: the category's own state, when the refusal began)."""

    allowed: bool
    reason: str | None
    category: str
    # The consent relied on (or the one that refused), as judged; None when there is none or it
    # belongs to another institution.
    consent: ConsentView | None
    window_end: datetime | None
    # When the refusal began: the window end (expired) or the revocation (revoked).
    since: datetime | None
    audit_seq: int
    # The category's state in that consent as judged (None for the qualification or no consent).
    state: CategoryState | None = None

    @property
    def not_found(self) -> bool:
        """True when the reader must not learn the consent exists (the API answers 404)."""
        return self.reason in (OTHER_INSTITUTION, NOT_FOUND)


@dataclass(frozen=True)
class _Verdict:
    reason: str | None
    consent: ConsentView | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


def decide(
    session: Session,
    *,
    institution_id: int,
    actor: Actor,
    person_id: str | None,
    category: str,
    now: datetime,
    consent_id: str | None = None,
    scopes: Collection[str] | None = None,
    disaster: disasters.DisasterBasis | None = None,
) -> Decision:
    """May `actor` of `institution_id` read `category` of `person_id` now?

    `scopes`: the OAuth token's scopes when the read comes through the API; a token without the
    category's scope (vocabulary.SCOPE_OF_CATEGORY) is refused, and audited, like any read.

    With `consent_id` (the API names the consent it relies on) only that consent is judged, and
    `person_id` may be None. Without it, the person's consents at the institution are judged and
    the one that allows is used (the latest window end), else the most telling refusal.
    With `disaster` (災害時特別措置) the read rests on a declared disaster instead of a consent:
    allowed only inside its period, at an institution in its area, for licensed staff, for a
    category it opens, with the consent kind recorded; `person_id` may be None for the question
    "may this reader use the measure at all" (then no consent kind is needed). The audit entry
    names the disaster and the consent kind.
    Cost: two indexed lookups (the institution's mode, the consent) plus the audit append - independent
    of the table sizes.
    Call it at the start of a transaction and commit afterwards (the audit entry is part of it).
    """
    if category not in READ_CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    now = aware(now)
    begin_write(session)  # the audit append writes; take SQLite's lock before reading
    session.flush()  # the lookups below go straight to the connection
    conn = session.connection()
    verdict = _judge(conn, institution_id, actor, person_id, category, now, consent_id, scopes, disaster)
    consent = verdict.consent
    logged_person = person_id
    if logged_person is None and consent is not None and consent.institution_id == institution_id:
        logged_person = consent.person_id
    seq = audit.append_on(
        conn,
        institution_id=institution_id,
        event="read_allowed" if verdict.allowed else "read_denied",
        now=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_role=actor.role,
        person_id=logged_person,
        category=category,
        consent_id=consent.id if consent is not None else consent_id,
        reason=verdict.reason,
        detail=_audit_detail(actor, disaster),
    )
    if verdict.reason in (OTHER_INSTITUTION, NOT_FOUND):
        consent = None  # never hand another institution's consent to the caller
    elif consent is not None and consent.institution_id == institution_id:
        # A read may be the first to see that the consent's window (or relationship) has passed:
        # then it writes consent.expired (once; after the audit entry, as every event).
        events.note_expiry(conn, consent, now)
    return _decision(verdict.reason, category, consent, seq, now)


def _audit_detail(actor: Actor, disaster: disasters.DisasterBasis | None) -> dict | None:
    detail = {"client_id": actor.client_id} if actor.client_id else {}
    if disaster is not None:
        detail.update(disaster.audit_detail())
    return detail or None


def _judge(
    conn: Connection,
    institution_id: int,
    actor: Actor,
    person_id: str | None,
    category: str,
    now: datetime,
    consent_id: str | None,
    scopes: Collection[str] | None = None,
    disaster: disasters.DisasterBasis | None = None,
) -> _Verdict:
    if actor.institution_id != institution_id:
        return _Verdict(OTHER_INSTITUTION)
    named = None
    if consent_id is not None:
        rows = _BY_ID.execute(conn, {"consent_id": consent_id})
        named = ConsentView(*rows[0]) if rows else None
    if category != QUALIFICATION and _qualification_only(conn, institution_id):
        # Before scopes, roles and consents: no data at all here, for any reader (any id alike).
        own = named if named is not None and named.institution_id == institution_id else None
        return _Verdict(QUALIFICATION_ONLY, own if own is None or person_id in (None, own.person_id) else None)
    if scopes is not None and SCOPE_OF_CATEGORY[category] not in scopes:
        # The token's reach comes first, as before any lookup: whether the id exists is not its business.
        own = named if named is not None and named.institution_id == institution_id else None
        return _Verdict(INSUFFICIENT_SCOPE, own)
    if consent_id is not None:
        if named is None:
            return _Verdict(NOT_FOUND)
        if named.institution_id != institution_id:
            return _Verdict(OTHER_INSTITUTION, named)
        if person_id is not None and named.person_id != person_id:
            return _Verdict(NOT_FOUND)
    elif person_id is None and disaster is None:
        raise ValueError("name the person, the consent, or both")
    if named is not None and category != QUALIFICATION and named.source == SOURCE_CERTIFICATE and disaster is None:
        # A 資格確認書 confirmation grants no data to any role: say that, not the role's own limit.
        return _Verdict(CERTIFICATE_ONLY, named)
    if actor.limited and category not in LIMITED_CLIENT_CATEGORIES:
        return _Verdict(INSUFFICIENT_SCOPE, named)
    if category in CLINICAL_CATEGORIES and not actor.licensed:
        return _Verdict(NOT_LICENSED, named)
    if disaster is not None:
        # After every other early refusal (another institution, a token's reach, an institution's
        # own mode): the measure lifts the card and the consent, nothing else.
        return _Verdict(_judge_disaster(conn, institution_id, actor, person_id, category, now, disaster))
    if named is not None:
        return _Verdict(_judge_one(named, category, now), named)

    candidates = _candidates(conn, institution_id, person_id, now, every=category in NOT_EXPIRING)
    if not candidates:
        return _Verdict(NO_CONSENT)
    verdicts = [_Verdict(_judge_one(c, category, now), c) for c in candidates]
    allowing = [v for v in verdicts if v.allowed]
    if allowing:
        # The widest window; for the qualification, a consent still in force before a revoked one.
        return max(allowing, key=lambda v: (v.consent.status != STATUS_REVOKED, _end_key(v.consent)))
    return min(verdicts, key=lambda v: (_REFUSAL_RANK[v.reason], -_end_key(v.consent).timestamp()))


# A relationship without a lapse (ends_at None) runs longer than any window.
_NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)


def _end_key(consent: ConsentView) -> datetime:
    return consent.ends_at if consent.ends_at is not None else _NEVER


# Built once and run through store/prepared.py: per read, building statements and ORM-loading
# rows would cost several times the query itself.
_consents = Consent.__table__
_BY_ID = Prepared(select(_consents).where(_consents.c.id == bindparam("consent_id")))
_institutions = Institution.__table__
_QUALIFICATION_ONLY = Prepared(
    select(_institutions.c.qualification_only).where(_institutions.c.id == bindparam("institution_id")))
# window_end(d) > now  <=>  d >= (JST date of now) - 1 day. The windowed halves are ranges on the
# index (institution_id, person_id, consultation_date): the open windows (at most
# max_days_ahead + 2 rows) and, for a refusal that says why, the latest closed one. The third is
# the person's home-visit relationship here, if any (at most one, whatever its first visit's date).
_person = (
    (_consents.c.institution_id == bindparam("institution_id"))
    & (_consents.c.person_id == bindparam("person_id"))
)
_windowed = _consents.c.window_end.is_not(None)
_CANDIDATES = Prepared(union_all(
    select(_consents).where(_person, _windowed, _consents.c.consultation_date >= bindparam("first_open_date")),
    select(
        select(_consents)
        .where(_person, _windowed, _consents.c.consultation_date < bindparam("first_open_date"))
        .order_by(_consents.c.consultation_date.desc())
        .limit(1)
        .subquery()
    ),
    select(_consents).where(_person, _consents.c.window_end.is_(None)),
))


_EVERY = Prepared(select(_consents).where(_person).order_by(_consents.c.consultation_date.desc()))


def _qualification_only(conn: Connection, institution_id: int) -> bool:
    rows = _QUALIFICATION_ONLY.execute(conn, {"institution_id": institution_id})
    return bool(rows and rows[0][0])


def _candidates(
    conn: Connection, institution_id: int, person_id: str, now: datetime, *, every: bool = False
) -> list[ConsentView]:
    """The person's consents whose window may be open now; else the latest closed one.

    `every`: all of them, for a category without expiry (限度額), which a consent past its window
    still grants (a person has few consents at one institution).
    """
    if every:
        rows = _EVERY.execute(conn, {"institution_id": institution_id, "person_id": person_id})
        return [ConsentView(*row) for row in rows]
    first_open = jst_date(now) - timedelta(days=1)
    rows = _CANDIDATES.execute(
        conn, {"institution_id": institution_id, "person_id": person_id, "first_open_date": first_open}
    )
    views = [ConsentView(*row) for row in rows]
    # A relationship is judged with the open windows (it may have lapsed: then it refuses, saying why).
    open_ = [v for v in views if v.relationship or v.consultation_date >= first_open]
    return open_ or views


def _judge_disaster(conn: Connection, institution_id: int, actor: Actor, person_id: str | None, category: str,
                    now: datetime, basis: disasters.DisasterBasis) -> str | None:
    """The reason a read under the disaster measure is refused, or None (docs/domain.md: the project's own rules)."""
    reason = disasters.refusal(conn, disaster_id=basis.disaster_id, institution_id=institution_id, now=now)
    if reason is not None:
        return reason
    if actor.kind != "staff" or not actor.licensed:
        return NOT_LICENSED
    if category not in DISASTER_CATEGORIES:
        return DISASTER_CATEGORY_EXCLUDED
    if person_id is not None and basis.consent_kind not in DISASTER_CONSENT_KINDS:
        return DISASTER_NO_CONSENT_KIND
    return None


def _judge_one(consent: ConsentView, category: str, now: datetime) -> str | None:
    """The reason one consent refuses `category` now, or None when it allows; judged from the
    category's own state (its flag, consent time, expiry and expiry reason)."""
    if category == QUALIFICATION:
        # The qualification confirmed at reception is the institution's billing record: readable
        # once the consent exists, after the window and after a revocation alike.
        return None if now >= consent.created_at else NO_CONSENT
    if consent.source == SOURCE_CERTIFICATE:
        # Confirmed from a 資格確認書's numbers: the patient consented to nothing (whatever the date).
        return CERTIFICATE_ONLY
    state = current_state(consent, category, now)
    if state.flag == FLAG_CONSENTED:
        if now < state.consented_at:
            return NO_CONSENT  # consented later (only a moved sandbox clock sees this)
        return None
    if state.ended:  # flag 2, or 限度額's flag 0 with its expiry reason
        return CONSENT_EXPIRED if state.expiry_reason == REASON_EXPIRY else CONSENT_REVOKED
    # Never consented here (or removed): 対象外, whatever became of the consent since - never
    # 「同意が取り消されました」 for a category that was not in it (issue 36).
    return CATEGORY_NOT_CONSENTED


def _decision(
    reason: str | None, category: str, consent: ConsentView | None, seq: int, now: datetime
) -> Decision:
    """The Decision, with the category's own state and when a refusal began."""
    since = None
    state: CategoryState | None = None
    if consent is not None and category != QUALIFICATION:
        state = current_state(consent, category, now)
    ended = state is not None and state.ended
    if reason == CONSENT_EXPIRED and consent is not None and consent.relationship:
        # A home-visit relationship lapses when no visit is recorded for a while (or a category ended).
        since = state.ended_at if ended else consent.lapses_at
    elif reason in (CONSENT_EXPIRED, CONSENT_REVOKED) and ended:
        since = state.ended_at
    elif reason == CONSENT_EXPIRED:
        since = consent.window_end
    elif reason == CONSENT_REVOKED:
        since = consent.revoked_at
    return Decision(
        allowed=reason is None,
        reason=reason,
        category=category,
        consent=consent,
        window_end=consent.window_end if consent is not None else None,
        since=since,
        audit_seq=seq,
        state=state,
    )


class ReadRefused(DomainError):
    """A refusal answered as an error (the API). The Decision stays the record - audited and
    committed before this is raised; `detail` is that Decision (None for an id never issued)."""

    domain = "read"
    codes = frozenset(REASONS)
