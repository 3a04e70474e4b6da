"""Registering, changing and revoking consents, and what the pharmacy sees of them.

All functions work inside the caller's transaction and never commit: the caller commits, so a
consent and its audit entry (and, in the web flow, the consumed card challenge) land together.
They take the write lock first (store.engine.begin_write), so call them at the start of a
transaction.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent import audit, events
from consent.category_states import consented, current_states, ended, state_at
from consent.errors import ConsentError, ConsentNotFound
from consent.institutions import Institution
from consent.models import Consent, ConsentView, Visit
from consent.vocabulary import (
    EVENT_CONSENT_REGISTERED, EVENT_CONSENT_REVOKED, EVENT_CONSENT_UPDATED, EVENT_RELATIONSHIP_ENDED, CARE_SETTINGS, CATEGORIES, FLAG_CONSENTED, HOME_VISIT, INSTITUTION_REVOCATION_REASONS, REVOCATION_REASONS, STATUS_ACTIVE,
    STATUS_EXPIRED, STATUS_LABELS, STATUS_REVOKED, VERIFICATION_PHOTO, VERIFICATION_PIN, VERIFICATIONS,
    WINDOWED_CARE_SETTINGS, SOURCE_CARD, SOURCE_CERTIFICATE,
)
from consent.window import aware, jst_date, window_end
from store.engine import begin_write
from store.prepared import Prepared

DEFAULT_MAX_DAYS_AHEAD = 30


def new_consent_id() -> str:
    """Opaque and unguessable: consent ids appear in URLs and API paths."""
    return secrets.token_urlsafe(16)


def check_request(
    *,
    care_setting: int,
    categories: Iterable[str],
    consultation_date: date,
    now: datetime,
    max_days_ahead: int = DEFAULT_MAX_DAYS_AHEAD,
    house_call: bool = False,
    qualification_only: bool = False,
) -> tuple[str, ...]:
    """Validate what a patient asks for; return the normalized categories or raise ConsentError.

    The reception pages call this before the card read, so nobody reads a card for nothing.
    A house call (往診) is care setting 2 with `house_call`, windowed like 1 and 3: a consent per visit.
    `qualification_only` (a 資格確認限定型 institution): no category may be asked for; the
    consent records the qualification confirmation alone (every flag 0).
    """
    if care_setting not in CARE_SETTINGS:
        raise ConsentError("invalid_care_setting", detail=care_setting)
    if house_call and care_setting != HOME_VISIT:
        raise ConsentError("invalid_care_setting", detail=care_setting)
    if care_setting not in WINDOWED_CARE_SETTINGS and not house_call:
        # Home visits follow other rules, not built yet: refuse rather than grant a window that
        # would be wrong.
        raise ConsentError("care_setting_unsupported", detail=care_setting)
    if qualification_only:
        if isinstance(categories, str) or any(True for _ in categories):
            raise ConsentError("qualification_only")
        chosen: tuple[str, ...] = ()
    else:
        chosen = normalize_categories(categories)
    check_consultation_date(consultation_date, now=now, max_days_ahead=max_days_ahead)
    return chosen


def is_qualification_only(session: Session, institution_id: int, *, lock: bool = False) -> bool:
    """Whether the institution is 資格確認限定型 (qualification only).

    `lock` (a write that depends on the answer): hold the institution's row FOR SHARE until the
    commit (PostgreSQL; SQLite serializes writers anyway), so a switch into the mode
    (consent.qualification_only, FOR UPDATE) waits for this consent and ends its categories too,
    rather than missing it and leaving them running after a later switch back.
    """
    query = select(Institution.qualification_only).where(Institution.id == institution_id)
    return bool(session.scalar(query.with_for_update(read=True) if lock else query))


def check_consultation_date(
    consultation_date: date, *, now: datetime, max_days_ahead: int = DEFAULT_MAX_DAYS_AHEAD
) -> None:
    """The 診療日 must be today or later (JST) and at most `max_days_ahead` days ahead."""
    today = jst_date(now)
    if consultation_date < today:
        raise ConsentError("date_in_past")
    if consultation_date > today + timedelta(days=max_days_ahead):
        raise ConsentError("date_too_far", detail=max_days_ahead)


def normalize_categories(categories: Iterable[str]) -> tuple[str, ...]:
    if isinstance(categories, str):
        categories = [categories]
    chosen = set(categories)
    if not chosen:
        raise ConsentError("no_categories")
    if chosen - set(CATEGORIES):
        raise ConsentError("unknown_category")
    return tuple(c for c in CATEGORIES if c in chosen)


def _find_for_update(session: Session, institution_id: int, person_id: str, consultation_date: date):
    return session.scalars(
        select(Consent)
        .where(
            Consent.institution_id == institution_id,
            Consent.person_id == person_id,
            Consent.consultation_date == consultation_date,
            Consent.window_end.is_not(None),  # a windowed consent, not a home-visit relationship
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def check_verification(care_setting: int, verification: str, verified_by: str | None) -> dict[str, Any]:
    """The consent's columns for how the patient was identified at the card read: the PIN, or the
    photo check (目視確認), which only a staff member at a 訪問診療等 or 往診 reception does
    (ConsentError photo_check_unavailable otherwise; nothing is written)."""
    if verification not in VERIFICATIONS:
        raise ValueError(f"unknown verification {verification!r}")
    if verification == VERIFICATION_PIN:
        return {"verification": VERIFICATION_PIN, "verified_by": None}
    if care_setting != HOME_VISIT or not verified_by or not verified_by.startswith("staff:"):
        raise ConsentError("photo_check_unavailable")
    return {"verification": VERIFICATION_PHOTO, "verified_by": verified_by}


def verification_detail(consent: Any) -> dict[str, Any]:
    """What an audit entry of a registration says of the identification: nothing for the PIN (every
    consent before the photo check), else the photo check and the staff member's id."""
    if consent.verification != VERIFICATION_PHOTO:
        return {}
    return {"verification": VERIFICATION_PHOTO, "verified_by": consent.verified_by.partition(":")[2]}


def register_consent(
    session: Session,
    *,
    institution_id: int,
    person_id: str,
    card_id: str,
    care_setting: int,
    categories: Iterable[str],
    consultation_date: date,
    now: datetime,
    validity_code: int | None = None,
    max_days_ahead: int = DEFAULT_MAX_DAYS_AHEAD,
    house_call: bool = False,
    verification: str = VERIFICATION_PIN,
    verified_by: str | None = None,
) -> Consent:
    """Register (or re-register) a consent; one row per institution, person and date.

    Registering again updates the row in place (same id) and audits what changed; an identical
    repeat (double tap, reload, two tabs) changes nothing and is not audited again. Safe when two
    submissions race: SQLite serializes on BEGIN IMMEDIATE; on PostgreSQL the losing INSERT hits
    the unique constraint, and is retried as an update of the winner's row.
    `validity_code` is the OQS validity confirmed at the card read (qualification_confirmed_at=now).
    At a 資格確認限定型 institution `categories` must be empty: the consent then records the
    qualification confirmation alone (資格確認), every category flag 0.
    `verification`: "pin", or "photo" with `verified_by` "staff:<id>" (check_verification).
    """
    now = aware(now)
    identified = check_verification(care_setting, verification, verified_by)
    begin_write(session)
    chosen = check_request(
        care_setting=care_setting, categories=categories, consultation_date=consultation_date,
        now=now, max_days_ahead=max_days_ahead, house_call=house_call,
        qualification_only=is_qualification_only(session, institution_id, lock=True),
    )
    # A card read on a day a 資格確認書 confirmed the qualification turns that record into the card's consent.
    wanted: dict[str, Any] = {"card_id": card_id, "care_setting": care_setting, "house_call": house_call,
                              "categories": chosen, "source": SOURCE_CARD, **identified}
    if validity_code is not None:
        # A failed OQS confirmation (None) must not wipe an earlier confirmed validity.
        wanted["validity_code"] = validity_code
    consent = _find_for_update(session, institution_id, person_id, consultation_date)
    if consent is None:
        end = window_end(consultation_date)
        consent = Consent(
            id=new_consent_id(),
            institution_id=institution_id,
            person_id=person_id,
            consultation_date=consultation_date,
            consented_at=now,
            window_end=end,
            status=STATUS_ACTIVE,
            card_id=card_id,
            care_setting=care_setting,
            categories=chosen,
            validity_code=validity_code,
            qualification_confirmed_at=now if validity_code is not None else None,
            created_at=now,
            updated_at=now,
            category_states=tuple(consented(c, now=now, window_end=end) for c in chosen),
            house_call=house_call,
            **identified,
        )
        if not insert_consent(session, consent):
            # A concurrent submission inserted the same consent first; update that one instead.
            consent = _find_for_update(session, institution_id, person_id, consultation_date)
            if consent is None:
                raise RuntimeError("consent insert conflicted, but no consent was found")
        else:
            audit.append_entry(
                session, institution_id=institution_id, event="consent_registered", now=now,
                actor_kind="patient", person_id=person_id, consent_id=consent.id,
                detail=_registration_detail(consent),
            )
            events.consent_event(session, consent, EVENT_CONSENT_REGISTERED, registered_data(consent), now=now)
            return consent
    return update_consent(session, consent, wanted, now)


def register_certificate(
    session: Session,
    *,
    institution_id: int,
    person_id: str,
    care_setting: int,
    house_call: bool,
    consultation_date: date,
    now: datetime,
    validity_code: int,
    by: str,
) -> Consent:
    """Record a qualification confirmed from a 資格確認書 (source "certificate") for one day.

    Staff typed the document's numbers (`by`: "staff:<id>"); the patient consented to nothing, so
    the record has no categories (every flag 0) and consent.decision refuses every data read
    (`certificate_only`). It is windowed like a visit's consent - a home visit included: without
    a card there is no relationship to carry over - and one a day: confirming again that day
    updates the validity in place (same id). A card consent of that day stays as it is
    (ConsentError card_consent_exists): its qualification is already confirmed, by the card.
    Confirmed again the same day at another entry point (the tablet, then 「訪問患者」), the record
    takes that care setting.
    """
    now = aware(now)
    if care_setting not in CARE_SETTINGS or (house_call and care_setting != HOME_VISIT):
        raise ConsentError("invalid_care_setting", detail=care_setting)
    if not by or len(by) > 64:
        raise ValueError("`by` must name who confirmed, e.g. 'staff:12'")
    begin_write(session)
    check_consultation_date(consultation_date, now=now, max_days_ahead=0)
    kind, _, actor_id = by.partition(":")
    consent = _find_for_update(session, institution_id, person_id, consultation_date)
    if consent is not None and consent.source != SOURCE_CERTIFICATE:
        raise ConsentError("card_consent_exists")
    if consent is not None:
        wanted = {"validity_code": validity_code, "care_setting": care_setting, "house_call": house_call}
        changed = {name: [getattr(consent, name), value] for name, value in wanted.items()
                   if getattr(consent, name) != value}
        if consent.status == STATUS_REVOKED:
            changed["status"] = [STATUS_REVOKED, STATUS_ACTIVE]
        if not changed:
            return consent  # the same answer again: nothing changed, nothing to audit
        for name, value in wanted.items():
            setattr(consent, name, value)
        consent.qualification_confirmed_at = consent.updated_at = now
        consent.status = STATUS_ACTIVE
        consent.revoked_at = consent.revoked_by = consent.revocation_reason = None
        session.flush()
        audit.append_entry(session, institution_id=institution_id, event="consent_updated", now=now,
                           actor_kind=kind, actor_id=actor_id or None, person_id=person_id, consent_id=consent.id,
                           detail={"changed": changed, "source": SOURCE_CERTIFICATE})
        events.consent_event(session, consent, EVENT_CONSENT_UPDATED, {
            "changed": sorted({_PUBLIC_CHANGES[name] for name in changed}), "status": STATUS_ACTIVE,
            "categories": [], "categories_added": [], "categories_removed": [],
            "consultation_date": consent.consultation_date.isoformat(),
            "window_end": events.rfc3339(consent.window_end), "lapses_at": None,
        }, now=now)
        return consent
    consent = Consent(
        id=new_consent_id(), institution_id=institution_id, person_id=person_id,
        consultation_date=consultation_date, consented_at=now, window_end=window_end(consultation_date),
        status=STATUS_ACTIVE, card_id="", care_setting=care_setting, categories=(), validity_code=validity_code,
        qualification_confirmed_at=now, created_at=now, updated_at=now, category_states=(), house_call=house_call,
        source=SOURCE_CERTIFICATE,
    )
    if not insert_consent(session, consent):
        # A concurrent confirmation (or card read) of the same day won: answer as for it.
        session.expire_all()
        return register_certificate(session, institution_id=institution_id, person_id=person_id,
                                    care_setting=care_setting, house_call=house_call,
                                    consultation_date=consultation_date, now=now, validity_code=validity_code, by=by)
    audit.append_entry(session, institution_id=institution_id, event="consent_registered", now=now,
                       actor_kind=kind, actor_id=actor_id or None, person_id=person_id, consent_id=consent.id,
                       detail=_registration_detail(consent))
    events.consent_event(session, consent, EVENT_CONSENT_REGISTERED, registered_data(consent), now=now)
    return consent


def writers_queue(session: Session) -> bool:
    """SQLite: writers queue (BEGIN IMMEDIATE, snapshot isolation), so an insert race cannot happen."""
    return session.get_bind().dialect.name == "sqlite"


def insert_consent(session: Session, consent: Consent) -> bool:
    """Add a new consent; False when a concurrent submission inserted the same one first."""
    if writers_queue(session):
        # No other insert can have won since we looked. And a savepoint would not survive
        # SQLite's own rollback when the disk is full, turning "disk is full" into "no such savepoint".
        session.add(consent)
        session.flush()
        return True
    try:
        with session.begin_nested():
            session.add(consent)
    except IntegrityError:
        return False
    return True


def registered_data(consent: Consent) -> dict[str, Any]:
    """consent.registered's data: what was agreed (no card, no qualification: read those by API)."""
    return {
        "status": STATUS_ACTIVE, "care_setting": consent.care_setting, "house_call": bool(consent.house_call),
        "categories": list(consent.categories), "consultation_date": consent.consultation_date.isoformat(),
        "window_end": events.rfc3339(consent.window_end), "lapses_at": events.rfc3339(consent.lapses_at),
        "source": consent.source or SOURCE_CARD,
    }


# What consent.updated says changed, by column (card and validity: the qualification was confirmed
# again - read it through the API).
_PUBLIC_CHANGES = {"categories": "categories", "care_setting": "care_setting", "house_call": "house_call",
                   "consultation_date": "consultation_date", "status": "status", "card_id": "qualification",
                   "validity_code": "qualification", "source": "source"}


def _registration_detail(consent: Consent) -> dict[str, Any]:
    return {
        "card_id": consent.card_id,
        "care_setting": consent.care_setting,
        "categories": list(consent.categories),
        "consultation_date": consent.consultation_date.isoformat(),
        "window_end": consent.window_end.isoformat(),
        "validity_code": consent.validity_code,
        **({"house_call": True} if consent.house_call else {}),
        **({"source": consent.source} if consent.source == SOURCE_CERTIFICATE else {}),
        **verification_detail(consent),
    }


def update_consent(session: Session, consent: Consent, wanted: dict[str, Any], now: datetime) -> Consent:
    """Change a registered consent in place (same id) to `wanted` (column -> value, categories
    included); a revoked one is active again. Audits what changed; an identical repeat is a no-op."""
    changed = {
        name: [_jsonable(getattr(consent, name)), _jsonable(value)]
        for name, value in wanted.items()
        if getattr(consent, name) != value
    }
    reactivating = consent.status == STATUS_REVOKED
    if reactivating:
        changed["status"] = [STATUS_REVOKED, STATUS_ACTIVE]
    # A home-visit relationship has no window (its categories carry no expiry).
    end = None if consent.relationship else window_end(consent.consultation_date)
    states, added, removed = _changed_states(consent, wanted["categories"], end, now, fresh=reactivating)
    if not changed and not added:
        # An identical repeat: nothing to do, nothing to audit. (A category the institution ended -
        # 利用目的の変更 - is consented again: `added`.)
        return consent
    for name, value in wanted.items():
        setattr(consent, name, value)
    if "validity_code" in wanted:
        consent.qualification_confirmed_at = now
    consent.status = STATUS_ACTIVE
    consent.revoked_at = consent.revoked_by = consent.revocation_reason = None
    # The current set of categories was agreed now (each category keeps its own time in
    # category_states); the window end follows from the date.
    consent.consented_at = now
    consent.window_end = end
    consent.category_states = states
    consent.updated_at = now
    session.flush()
    # A registration again names how the patient was identified (a change of categories does not).
    detail: dict[str, Any] = {"changed": changed, **(verification_detail(consent) if "verification" in wanted else {})}
    if added or removed:
        detail["categories_added"], detail["categories_removed"] = added, removed
    audit.append_entry(
        session, institution_id=consent.institution_id, event="consent_updated", now=now,
        actor_kind="patient", person_id=consent.person_id, consent_id=consent.id,
        detail=detail,
    )
    events.consent_event(session, consent, EVENT_CONSENT_UPDATED, {
        "changed": sorted({_PUBLIC_CHANGES[name] for name in changed if name in _PUBLIC_CHANGES}),
        "status": STATUS_ACTIVE, "categories": list(consent.categories),
        "categories_added": added, "categories_removed": removed,
        "consultation_date": consent.consultation_date.isoformat(),
        "window_end": events.rfc3339(consent.window_end), "lapses_at": events.rfc3339(consent.lapses_at),
    }, now=now)
    return consent


def _changed_states(consent: Consent, chosen: tuple[str, ...], end: datetime | None, now: datetime, *, fresh: bool):
    """The states after choosing `chosen`: a category still consented keeps its consent time, one
    added is consented now, one left out is dropped (flag 0 from now on). `fresh` (consenting
    again after a revocation) consents every chosen category now."""
    before = {s.category: s for s in consent.category_states}
    states, added, removed = [], [], []
    for category in CATEGORIES:
        old = before.get(category)
        running = old is not None and state_at(old, now, lapses_at=consent.lapses_at).flag == FLAG_CONSENTED
        if category in chosen:
            if running and not fresh:
                states.append(old)
            else:
                states.append(consented(category, now=now, window_end=end))
                if not running:
                    added.append(category)
        elif running:
            removed.append(category)
    return tuple(states), added, removed


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


def change_categories(
    session: Session,
    *,
    institution_id: int,
    consent_id: str,
    person_id: str,
    categories: Iterable[str],
    now: datetime,
) -> Consent:
    """「同意照会・更新」: the patient changes the categories of one of their current consents."""
    now = aware(now)
    chosen = normalize_categories(categories)
    begin_write(session)
    if is_qualification_only(session, institution_id, lock=True):
        raise ConsentError("qualification_only")
    consent = get_for_update(session, institution_id, consent_id, person_id)
    if consent.source == SOURCE_CERTIFICATE:
        # The institution's record of a 資格確認書, not a consent the patient gave: register with the card.
        raise ConsentError("certificate_record")
    if consent.status == STATUS_REVOKED:
        raise ConsentError("consent_revoked")
    if consent.ends_at is not None and now >= consent.ends_at:  # None: a relationship without a lapse
        raise ConsentError("consent_expired")
    return update_consent(session, consent, {"categories": chosen}, now)


def get_for_update(
    session: Session, institution_id: int, consent_id: str, person_id: str | None = None
) -> Consent:
    consent = session.scalars(
        select(Consent)
        .where(Consent.id == consent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if consent is None or consent.institution_id != institution_id:
        raise ConsentNotFound()
    if person_id is not None and consent.person_id != person_id:
        raise ConsentNotFound()
    return consent


def revoke_consent(
    session: Session,
    *,
    institution_id: int,
    consent_id: str,
    by: str,
    reason: int,
    now: datetime,
    person_id: str | None = None,
) -> Consent:
    """Revoke one consent (取消). Revoking a revoked consent changes nothing.

    `by` names who revoked without naming a person: "patient", "staff:<id>", "client:<id>".
    `person_id`, when given, must be the consent's (the patient revoking their own).
    """
    now = aware(now)
    _check_revocation(by, reason)
    begin_write(session)
    consent = get_for_update(session, institution_id, consent_id, person_id)
    _revoke(session, consent, by=by, reason=reason, now=now)
    return consent


def revoke_by_institution(
    session: Session, *, institution_id: int, consent_id: str, by: str, reason: int, now: datetime
) -> Consent:
    """The institution ends a consent: reason 1 (医療機関等による取消, e.g. 訪問終了) or 3 (利用目的の変更).

    Unlike the patient's repeatable 取消, ending a consent twice is refused (already_revoked), so a
    pharmacy system learns that its request changed nothing.
    """
    now = aware(now)
    if reason not in INSTITUTION_REVOCATION_REASONS:
        raise ConsentError("invalid_reason", field="reason", detail=reason)
    _check_revocation(by, reason)
    begin_write(session)
    consent = get_for_update(session, institution_id, consent_id)
    if consent.nothing_to_end:
        # A 資格確認限定型 confirmation or a 資格確認書's record: nothing was consented, so there is
        # nothing to end (the console offers no 「同意の取消」 for it; the API answers the same refusal).
        raise ConsentError("confirmation_only")
    if consent.status == STATUS_REVOKED:
        raise ConsentError("already_revoked")
    _revoke(session, consent, by=by, reason=reason, now=now)
    return consent


def revoke_all_for_person(
    session: Session, *, institution_id: int, person_id: str, by: str, reason: int, now: datetime
) -> list[Consent]:
    """「すべての同意を取消す」: revoke every consent of the person here that still grants a read.

    Consents with no category running are left as they are (同意有効期限切れ): they grant
    nothing. 限度額 has no expiry, so a consent past its window that includes it is revoked too.
    Returns the consents revoked now.
    """
    now = aware(now)
    _check_revocation(by, reason)
    begin_write(session)
    consents = session.scalars(
        select(Consent)
        .where(
            Consent.institution_id == institution_id,
            Consent.person_id == person_id,
            # Not bounded by date: 限度額 runs on after the window (a person has few consents here).
            Consent.status == STATUS_ACTIVE,
        )
        .order_by(Consent.id)  # a fixed lock order
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    revoked = []
    for consent in consents:
        if any(state.flag == FLAG_CONSENTED for state in current_states(consent, now)):
            _revoke(session, consent, by=by, reason=reason, now=now)
            revoked.append(consent)
    return revoked


def _check_revocation(by: str, reason: int) -> None:
    if reason not in REVOCATION_REASONS:
        raise ConsentError("invalid_reason", detail=reason)
    if not by or len(by) > 64:
        raise ValueError("`by` must name who revoked, e.g. 'patient' or 'staff:12'")


def _revoke(session: Session, consent: Consent, *, by: str, reason: int, now: datetime) -> None:
    if consent.status == STATUS_REVOKED:
        return
    consent.status = STATUS_REVOKED
    # Every running category - 限度額 included - ends now with this reason.
    consent.category_states = ended(consent.category_states, reason=reason, now=now, lapses_at=consent.lapses_at)
    consent.revoked_at = now
    consent.revoked_by = by
    consent.revocation_reason = reason
    consent.updated_at = now
    session.flush()
    kind, _, actor_id = by.partition(":")
    audit.append_entry(
        session, institution_id=consent.institution_id, event="consent_revoked", now=now,
        actor_kind=kind, actor_id=actor_id or None, person_id=consent.person_id,
        consent_id=consent.id, reason=str(reason), detail={"by": by},
    )
    data = {"expiry_reason": reason, "revoked_by": "patient" if kind == "patient" else "institution",
            "revoked_at": events.rfc3339(now)}
    events.consent_event(session, consent, EVENT_CONSENT_REVOKED, data, now=now)
    if consent.relationship and (consent.lapses_at is None or now < consent.lapses_at):
        # A home-visit relationship is over (訪問終了 or the patient's 取消), whatever else follows.
        events.consent_event(session, consent, EVENT_RELATIONSHIP_ENDED,
                             {"expiry_reason": reason, "ended_at": events.rfc3339(now)}, now=now)


def status_code_at(consent: Consent, now: datetime) -> str:
    """STATUS_ACTIVE, STATUS_EXPIRED or STATUS_REVOKED at an instant."""
    if consent.status == STATUS_REVOKED:
        return STATUS_REVOKED
    if consent.ends_at is not None and aware(now) >= consent.ends_at:  # None: no lapse, never expires
        return STATUS_EXPIRED
    return STATUS_ACTIVE


def status_at(consent: Consent, now: datetime) -> str:
    """What the pharmacy sees: 有効, 同意有効期限切れ or 取消."""
    return STATUS_LABELS[status_code_at(consent, now)]


def get_consent(session: Session, *, institution_id: int, consent_id: str) -> Consent | None:
    """A consent of this institution by id; another institution's is None (callers answer 404)."""
    consent = session.get(Consent, consent_id, populate_existing=True)
    if consent is None or consent.institution_id != institution_id:
        return None
    return consent


def consents_for_date(session: Session, *, institution_id: int, consultation_date: date) -> list[ConsentView]:
    """The console's 「同意取得済み患者一覧」 for one consultation date, latest consent first: the
    consents of that date, and the home-visit relationships with a visit recorded that day.

    Read-only snapshots: a busy day has hundreds, and loading ORM objects cost more than the query.
    """
    rows = _FOR_DATE.execute(session.connection(), {"institution_id": institution_id, "day": consultation_date})
    return [ConsentView(*row) for row in rows]


_table = Consent.__table__
_visits = Visit.__table__
_FOR_DATE = Prepared(
    select(_table)
    .where(_table.c.institution_id == bindparam("institution_id"), _table.c.consultation_date == bindparam("day"),
           _table.c.window_end.is_not(None))
    .union_all(
        select(_table)
        .join(_visits, _visits.c.consent_id == _table.c.id)
        .where(_visits.c.institution_id == bindparam("institution_id"), _visits.c.visit_date == bindparam("day"))
    )
    .order_by(_table.c.consented_at.desc(), _table.c.id)
)


def consents_of_person(session: Session, *, institution_id: int, person_id: str) -> list[Consent]:
    """The patient's consents at one institution (「同意照会・更新」), latest consultation first."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.institution_id == institution_id, Consent.person_id == person_id)
            .order_by(Consent.consultation_date.desc())
            .execution_options(populate_existing=True)
        )
    )


def person_ids_of_institution(session: Session, institution_id: int) -> list[str]:
    """Everyone who consented at this institution (「管理」's 監査ログ looks patients up among them)."""
    return list(session.scalars(select(Consent.person_id).where(Consent.institution_id == institution_id)
                                .distinct()))
