"""資格確認限定型 (qualification-only institutions): switching an institution into and out of the mode.

Such an institution confirms a patient's insurance qualification with the card and nothing else
(docs/sources.md [000], [001]: 「利用者の資格情報のみを取得できる仕組み」). Its reception records a confirmation - a
consent with no categories - and consent.decision refuses every data read there
(`qualification_only`). Switching an institution into the mode ends the data categories of its
open consents now, with expiry reason 3 (利用目的の変更); the consents stay, as the record of the
qualification confirmed. Switching back grants nothing until patients consent again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import audit, events
from consent.category_states import current_states, ended
from consent.institutions import Institution
from consent.models import Consent
from consent.vocabulary import (
    EVENT_CONSENT_UPDATED, EVENT_MODE_CHANGED, FLAG_CONSENTED, STATUS_ACTIVE, USE_CHANGED,
)
from consent.window import aware
from store.engine import begin_write


def set_qualification_only(session: Session, *, institution_id: int, on: bool, by: str, now: datetime) -> list[Consent]:
    """Switch the institution's mode; return the consents whose data categories ended now.

    `by` names who switched, without naming a person: "operator", "sandbox", "staff:<id>".
    Switching to the mode it is already in changes nothing and is not audited. Works in the
    caller's transaction; the caller commits.
    """
    now = aware(now)
    if not by or len(by) > 64:
        raise ValueError("`by` must name who switched, e.g. 'operator'")
    begin_write(session)
    institution = session.get(Institution, institution_id, with_for_update=True, populate_existing=True)
    if institution is None:
        raise LookupError(f"no institution {institution_id}")
    if institution.qualification_only == on:
        return []
    institution.qualification_only = on
    session.flush()
    kind, _, actor_id = by.partition(":")
    audit.append_entry(session, institution_id=institution_id, event="institution_mode_changed", now=now,
                       actor_kind=kind, actor_id=actor_id or None, detail={"qualification_only": on, "by": by})
    events.record_on(session.connection(), institution_id=institution_id, type=EVENT_MODE_CHANGED, now=now,
                     data={"qualification_only": on})
    return _end_data_categories(session, institution_id, by=by, now=now) if on else []


def _end_data_categories(session: Session, institution_id: int, *, by: str, now: datetime) -> list[Consent]:
    """Every category still running in the institution's consents ends now with reason 3."""
    consents = session.scalars(
        select(Consent)
        .where(Consent.institution_id == institution_id, Consent.status == STATUS_ACTIVE)
        .order_by(Consent.id)  # a fixed lock order
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    kind, _, actor_id = by.partition(":")
    changed = []
    for consent in consents:
        running = [s.category for s in current_states(consent, now) if s.flag == FLAG_CONSENTED]
        if not running:
            continue
        consent.category_states = ended(consent.category_states, reason=USE_CHANGED, now=now,
                                        lapses_at=consent.lapses_at)
        consent.updated_at = now
        session.flush()
        audit.append_entry(
            session, institution_id=institution_id, event="consent_use_changed", now=now, actor_kind=kind,
            actor_id=actor_id or None, person_id=consent.person_id, consent_id=consent.id,
            reason=str(USE_CHANGED), detail={"by": by, "categories_ended": running},
        )
        events.consent_event(session, consent, EVENT_CONSENT_UPDATED, {
            "changed": ["categories"], "status": STATUS_ACTIVE, "categories": list(consent.categories),
            "categories_added": [], "categories_removed": [], "categories_ended": running,
            "expiry_reason": USE_CHANGED, "consultation_date": consent.consultation_date.isoformat(),
            "window_end": events.rfc3339(consent.window_end), "lapses_at": events.rfc3339(consent.lapses_at)}, now=now)
        changed.append(consent)
    return changed
