"""Home visits (訪問診療等, care setting 2): the relationship consent, its visits and its end.

Seed 000: at the first visit the patient consents on the institution's tablet; the consent carries
over to later visits 「当該医療機関等との継続的な関係のもと訪問診療等が行われている間」. So a
relationship is a consent without a window (window_end None, every category's expires_at None),
one per institution and person. Later visits are found by a card-less 再照会 and recorded here.

It ends when the institution records 訪問終了 (grants.revoke_by_institution, reason 1), when the
patient revokes (grants.revoke_all_for_person, reason 2), and - only where the institution sets
a number of days N (its home_visit_lapse_days; empty by default) - when no visit is recorded for N
days: it lapses at 00:00 JST of last visit + N + 1 days, expiry reason 0. That lapse is the
project's own rule: the real one is not public, and vendor material says later visits work
「患者が認証取消しを行わない限り」. With no N a relationship has no lapses_at and never lapses.

A house call (往診: care setting 2 with house_call) is not a relationship: it is windowed and
registered through consent.grants like an online consultation.

Like consent.grants, every function works inside the caller's transaction and never commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent import audit, events, grants
from consent.actors import Actor
from consent.category_states import consented
from consent.clock import JST
from consent.errors import ConsentError
from consent.institutions import MAX_LAPSE_DAYS, MIN_LAPSE_DAYS, Institution
from consent.models import Consent, Visit
from consent.vocabulary import (
    EVENT_CONSENT_REGISTERED, EVENT_CONSENT_UPDATED, EVENT_VISIT_RECORDED, HOME_VISIT, QUALIFICATION, STATUS_ACTIVE,
    VERIFICATION_PIN,
)
from consent.window import aware, jst_date
from store.engine import begin_write

# The audit reason of a 再照会 that matched nobody (the API answers 404 not_found).
REINQUIRY_NOT_FOUND = "not_found"


def is_first_visit(care_setting: int, house_call: bool) -> bool:
    """Whether a reception in this care setting opens a relationship (a home visit's first visit)
    rather than a windowed consent (a house call, an online consultation, the outpatient flow)."""
    return care_setting == HOME_VISIT and not house_call


def lapse_end(last_visit: date, lapse_days: int | None) -> datetime | None:
    """The instant a relationship lapses: 00:00 JST of last visit + N + 1 days (exclusive), as UTC;
    None when the institution sets no lapse (it never lapses)."""
    if lapse_days is None:
        return None
    end_jst = datetime.combine(last_visit + timedelta(days=lapse_days + 1), time(0), tzinfo=JST)
    return end_jst.astimezone(timezone.utc)


def is_open(consent: Any, now: datetime) -> bool:
    """A relationship still in force at `now`: neither ended by anyone nor lapsed (one without a
    lapse never lapses)."""
    return (consent.relationship and consent.status == STATUS_ACTIVE
            and (consent.lapses_at is None or aware(now) < consent.lapses_at))


def days_until_lapse(consent: Any, now: datetime) -> int | None:
    """Whole days from today (JST) to the last day of the relationship; None once it has ended,
    and when it has no lapse (it goes on until 訪問終了 or the patient's 取消)."""
    if not is_open(consent, now) or consent.lapses_at is None:
        return None
    last_day = jst_date(consent.lapses_at) - timedelta(days=1)
    return (last_day - jst_date(now)).days


def check_first_visit(*, categories: Iterable[str], qualification_only: bool = False) -> tuple[str, ...]:
    """What the tablet checks before the card read: the normalized categories (or ConsentError).
    At a 資格確認限定型 institution no category may be asked for: the relationship then records the
    qualification confirmation alone (every flag 0), which later 再照会 find."""
    if qualification_only:
        if isinstance(categories, str) or any(True for _ in categories):
            raise ConsentError("qualification_only")
        return ()
    return grants.normalize_categories(categories)


def lapse_days_of(session: Session, institution_id: int) -> int | None:
    return session.get(Institution, institution_id).home_visit_lapse_days


def _relationship_for_update(session: Session, institution_id: int, person_id: str) -> Consent | None:
    return session.scalars(
        select(Consent)
        .where(Consent.institution_id == institution_id, Consent.person_id == person_id,
               Consent.window_end.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def relationship_of(session: Session, *, institution_id: int, person_id: str) -> Consent | None:
    """The person's home-visit relationship at the institution (open or ended), if any."""
    return session.scalars(
        select(Consent)
        .where(Consent.institution_id == institution_id, Consent.person_id == person_id,
               Consent.window_end.is_(None))
        .execution_options(populate_existing=True)
    ).one_or_none()


def register_first_visit(
    session: Session,
    *,
    institution_id: int,
    person_id: str,
    card_id: str,
    categories: Iterable[str],
    now: datetime,
    validity_code: int | None = None,
    verification: str = VERIFICATION_PIN,
    verified_by: str | None = None,
) -> Consent:
    """The first visit: the patient read the card on the institution's tablet and consented.
    `verification`: "pin", or "photo" (目視確認) with the staff member "staff:<id>" who did it.

    One relationship per institution and person: a first visit while one is open updates it (same
    id, audited, today's visit recorded); after it ended (訪問終了, the patient's 取消 or a lapse) the
    same row opens again with today as its first visit. The first visit is a recorded visit.
    """
    now = aware(now)
    today = jst_date(now)
    identified = grants.check_verification(HOME_VISIT, verification, verified_by)
    begin_write(session)
    chosen = check_first_visit(categories=categories,
                               qualification_only=grants.is_qualification_only(session, institution_id, lock=True))
    lapse_days = lapse_days_of(session, institution_id)
    consent = _relationship_for_update(session, institution_id, person_id)
    if consent is None:
        consent = Consent(
            id=grants.new_consent_id(), institution_id=institution_id, person_id=person_id, card_id=card_id,
            care_setting=HOME_VISIT, categories=chosen, consultation_date=today, consented_at=now,
            window_end=None, status=STATUS_ACTIVE, validity_code=validity_code,
            qualification_confirmed_at=now if validity_code is not None else None,
            created_at=now, updated_at=now, house_call=False,
            category_states=tuple(consented(c, now=now, window_end=None) for c in chosen),
            last_visit_date=today, lapses_at=lapse_end(today, lapse_days), **identified,
        )
        if grants.insert_consent(session, consent):
            audit.append_entry(
                session, institution_id=institution_id, event="consent_registered", now=now,
                actor_kind="patient", person_id=person_id, consent_id=consent.id,
                detail={"card_id": card_id, "care_setting": HOME_VISIT, "categories": list(chosen),
                        "first_visit": today.isoformat(), "validity_code": validity_code,
                        **grants.verification_detail(consent)},
            )
            events.consent_event(session, consent, EVENT_CONSENT_REGISTERED, grants.registered_data(consent), now=now)
            _add_visit(session, consent, today, by="patient", now=now, lapse_days=lapse_days)
            return consent
        # A concurrent first visit inserted it first: update that one.
        consent = _relationship_for_update(session, institution_id, person_id)
        if consent is None:
            raise RuntimeError("relationship insert conflicted, but none was found")
    wanted: dict[str, Any] = {"card_id": card_id, "care_setting": HOME_VISIT, "categories": chosen, **identified}
    if validity_code is not None:
        wanted["validity_code"] = validity_code
    if not is_open(consent, now):
        # Ended: it opens again, today being its first visit (every category consented afresh).
        wanted["consultation_date"] = today
    grants.update_consent(session, consent, wanted, now)
    _add_visit(session, consent, today, by="patient", now=now, lapse_days=lapse_days)
    return consent


def record_visit(
    session: Session, *, institution_id: int, consent_id: str, visit_date: date, by: str, now: datetime
) -> tuple[Visit, bool]:
    """「訪問を記録」: a later visit of an open relationship; (the visit, True when new).

    The same day twice is one visit. Refused: not a relationship or a future date or a date
    before the first visit (ConsentError, 422), an ended relationship (relationship_ended, 409),
    another institution's or an unknown id (not_found).
    """
    now = aware(now)
    begin_write(session)
    consent = grants.get_for_update(session, institution_id, consent_id)
    if not consent.relationship:
        raise ConsentError("not_a_relationship")
    if visit_date > jst_date(now):
        raise ConsentError("visit_in_future", field="visit_date")
    if visit_date < consent.consultation_date:
        raise ConsentError("visit_before_first_visit", field="visit_date", detail=consent.consultation_date)
    if not is_open(consent, now):
        raise ConsentError("relationship_ended")
    return _add_visit(session, consent, visit_date, by=by, now=now, lapse_days=lapse_days_of(session, institution_id))


def _find_visit(session: Session, consent_id: str, visit_date: date) -> Visit | None:
    return session.scalars(
        select(Visit).where(Visit.consent_id == consent_id, Visit.visit_date == visit_date)
    ).one_or_none()


def _add_visit(
    session: Session, consent: Consent, visit_date: date, *, by: str, now: datetime, lapse_days: int | None
) -> tuple[Visit, bool]:
    """Record a visit (once a day) and move the lapse on from the latest visit."""
    existing = _find_visit(session, consent.id, visit_date)
    if existing is not None:
        return existing, False
    visit = Visit(consent_id=consent.id, institution_id=consent.institution_id, visit_date=visit_date,
                  recorded_at=now, recorded_by=by)
    if grants.writers_queue(session):
        session.add(visit)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(visit)
        except IntegrityError:
            # The same visit recorded a moment ago by another request (a double tap).
            return _find_visit(session, consent.id, visit_date), False
    if consent.last_visit_date is None or visit_date > consent.last_visit_date:
        consent.last_visit_date = visit_date
        consent.lapses_at = lapse_end(visit_date, lapse_days)
    consent.updated_at = now
    session.flush()
    kind, _, actor_id = by.partition(":")
    audit.append_entry(
        session, institution_id=consent.institution_id, event="visit_recorded", now=now,
        actor_kind=kind, actor_id=actor_id or None, person_id=consent.person_id, consent_id=consent.id,
        detail={"visit_date": visit_date.isoformat(),
                "lapses_at": consent.lapses_at.isoformat() if consent.lapses_at is not None else None},
    )
    events.consent_event(session, consent, EVENT_VISIT_RECORDED, {
        "visit_date": visit_date.isoformat(), "last_visit_date": consent.last_visit_date.isoformat(),
        "lapses_at": events.rfc3339(consent.lapses_at)}, now=now)
    return visit, True


def visits_of(session: Session, consent_id: str) -> list[Visit]:
    """A relationship's recorded visits, latest first."""
    return list(session.scalars(
        select(Visit).where(Visit.consent_id == consent_id).order_by(Visit.visit_date.desc())))


def relationships_of(session: Session, institution_id: int) -> list[Consent]:
    """The institution's home-visit relationships (「訪問患者」), latest visit first."""
    return list(session.scalars(
        select(Consent)
        .where(Consent.institution_id == institution_id, Consent.window_end.is_(None))
        .order_by(Consent.last_visit_date.desc(), Consent.id)
        .execution_options(populate_existing=True)
    ))


NOBODY = "-" * 16  # matches no person id (16 hex digits)


def record_reinquiry(
    session: Session, *, institution_id: int, actor: Actor, person_id: str | None, now: datetime
) -> Consent | None:
    """Audit a card-less 再照会 (a qualification read by insurance keys) and return the person's
    relationship here, if any.

    `person_id` None: the keys (or the birth date) matched nobody - audited as a refused
    qualification read; callers answer 404 without saying whether anyone has those keys.
    """
    now = aware(now)
    begin_write(session)
    audit.append_entry(
        session, institution_id=institution_id, event="read_allowed" if person_id else "read_denied", now=now,
        actor_kind=actor.kind, actor_id=actor.id, actor_role=actor.role, person_id=person_id,
        category=QUALIFICATION, reason=None if person_id else REINQUIRY_NOT_FOUND,
        detail={"via": "reinquiry", **({"client_id": actor.client_id} if actor.client_id else {})},
    )
    # Looked up for nobody too (an id no person has): a stranger's probe of unknown keys runs the
    # same statements as one that found someone.
    found = relationship_of(session, institution_id=institution_id, person_id=person_id or NOBODY)
    return found if person_id is not None else None


def check_lapse_days(days: Any) -> int | None:
    """None (no lapse) or a whole number of days, MIN..MAX; else ConsentError invalid_lapse_days.
    0 is refused: it would end a relationship the day after each visit, and "no lapse" is None."""
    if days is not None and (type(days) is not int or not MIN_LAPSE_DAYS <= days <= MAX_LAPSE_DAYS):
        raise ConsentError("invalid_lapse_days", field="home_visit_lapse_days", detail=MAX_LAPSE_DAYS)
    return days


def set_lapse_days(session: Session, *, institution_id: int, days: int | None, now: datetime) -> None:
    """Change the institution's lapse rule (None: no lapse); its open relationships follow from
    their last visit (one that the new rule ends at an instant already past has ended then; with
    no lapse they go on until 訪問終了 or the patient's 取消)."""
    check_lapse_days(days)
    now = aware(now)
    begin_write(session)
    session.get(Institution, institution_id).home_visit_lapse_days = days
    open_ = session.scalars(
        select(Consent)
        .where(Consent.institution_id == institution_id, Consent.window_end.is_(None),
               Consent.status == STATUS_ACTIVE, or_(Consent.lapses_at.is_(None), Consent.lapses_at > now))
        .with_for_update()
    ).all()
    for consent in open_:
        before = consent.lapses_at
        consent.lapses_at = lapse_end(consent.last_visit_date, days)
        if consent.lapses_at == before:
            continue
        session.flush()
        if consent.lapses_at is not None and now >= consent.lapses_at:
            # The new rule ended it in the past, before any sweep could see that instant: say so now.
            events.note_expiry(session.connection(), consent, now)
        else:
            events.consent_event(session, consent, EVENT_CONSENT_UPDATED, {
                "changed": ["lapses_at"], "status": STATUS_ACTIVE, "categories": list(consent.categories),
                "categories_added": [], "categories_removed": [],
                "consultation_date": consent.consultation_date.isoformat(), "window_end": None,
                "lapses_at": events.rfc3339(consent.lapses_at)}, now=now)
    session.flush()
