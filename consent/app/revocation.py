"""Ending consents: the institution's 取消 (reason 1 or 3) and 訪問終了, the patient's 取消.

Every path (the console's patient page and 「訪問患者」, the API, the tablet) calls one function
here: the role rule, the change (with its audit and events, written by consent/grants.py in the
same transaction), one commit, and the count reported.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consent import grants, permissions
from consent.actors import Actor
from consent.app.ports import Metrics
from consent.models import Consent
from consent.vocabulary import BY_PATIENT


def recorded_by(actor: Actor) -> str:
    """Who acts, for the consent's record: "staff:<id>" (also through a token) or "client:<id>"."""
    return f"{actor.kind}:{actor.id}"[:64]


def refuse_unless_permitted(session: Session, *, actor: Actor, consent_id: str, now: datetime) -> None:
    """Clerks and system jobs may not end a consent: their attempt is audited, committed and refused
    (ConsentError not_permitted). The API asks this before it reads the request's body."""
    if not permissions.may_end_consents(actor):
        permissions.refuse(session, actor=actor, action="revocation", consent_id=consent_id, now=now)


def end_consent(session: Session, *, actor: Actor, consent_id: str, reason: int, now: datetime,
                metrics: Metrics) -> Consent:
    """The institution ends one of its consents (INSTITUTION_REVOCATION_REASONS).

    Admins and pharmacists only (consent/permissions.py): anyone else's attempt is audited and
    refused (ConsentError not_permitted). Ending it twice is already_revoked.
    """
    refuse_unless_permitted(session, actor=actor, consent_id=consent_id, now=now)
    consent = grants.revoke_by_institution(session, institution_id=actor.institution_id, consent_id=consent_id,
                                           by=recorded_by(actor), reason=reason, now=now)
    session.commit()
    metrics.consent_event("revoked")
    return consent


def revoke_all_by_patient(session: Session, *, institution_id: int, person_id: str, now: datetime,
                          metrics: Metrics) -> list[Consent]:
    """「すべての同意を取消す」 at the tablet, after the patient's card read: the consents revoked now."""
    revoked = grants.revoke_all_for_person(session, institution_id=institution_id, person_id=person_id,
                                           by="patient", reason=BY_PATIENT, now=now)
    session.commit()
    metrics.consent_event("revoked", len(revoked))
    return revoked
