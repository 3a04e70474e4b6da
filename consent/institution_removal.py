"""Removing an institution with everything it holds (the sandbox's clean-up after a QA suite).

Only institutions made through the sandbox may go (`Institution.sandbox_made`): the demo's are
restored by `flask --app app demo reset`, and an operator's are never removed by a test suite.

Every table of the service is named below, either as removed with the institution or as holding
nothing of it (with why): tests/consent/test_institution_removal.py fails when a table is in
neither list, so a new table cannot be forgotten here.
"""
from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from consent.institution_clocks import InstitutionClock
from consent.disasters import Disaster
from consent.errors import DomainError
from consent.events import Event
from consent.institutions import Appointment, Institution, RetiredReceptionToken, Staff
from consent.models import AuditChainHead, AuditEntry, Consent, Visit
from consent.oauth_models import ApiClient, OAuthCode, OAuthToken
from consent.patient_keys import PatientKey
from consent.staff_passkeys import StaffPasskey
from consent.webhooks import WebhookDelivery, WebhookEndpoint
from store.engine import begin_write
from store.models import WebSession

# Deleted with the institution, in this order (rows that point at others go first).
REMOVED_WITH_INSTITUTION = (
    "webhook_deliveries", "webhook_endpoints", "events", "visits", "consents", "audit_entries",
    "audit_chain_heads", "patient_keys", "oauth_codes", "oauth_tokens", "api_clients", "staff_passkeys",
    "web_sessions", "staff", "appointments", "retired_reception_tokens", "institution_clocks",
    "disasters", "institutions",
)
# Tables that hold nothing of one institution, and why.
NOT_INSTITUTION_DATA = {
    "settings": "service-wide settings (the global sandbox clock, the expiry sweep's mark)",
    "rate_limit_counters": "counters per client address, browser session or card, a minute each",
    "webauthn_challenges": "single-use challenges of browser sessions, minutes each",
    "security_events": "the operator's security log (refused logins, reinstated cards), kept as it is",
    "cards": "the patients' cards (the card authority's), used at any institution",
    "cards_unlinked_people": "the card authority's people without a card usable for health insurance",
    "oqs_people": "the qualification system's (simulated) people",
    "oqs_qualifications": "the qualification system's (simulated) records",
    "oqs_entrustments": "the welfare office's entrustments, the qualification system's record",
    "oqs_reference_numbers": "the qualification system's record of reference numbers",
}


class RemovalError(DomainError):
    """An institution that may not be removed this way (web/error_messages.py words it)."""

    domain = "institutions"
    codes = frozenset({"not_sandbox_made"})


def remove_institution(session: Session, institution: Institution, *, sandbox_only: bool = True) -> None:
    """Delete the institution and everything it holds, in the session's transaction (the caller
    commits). RemovalError `not_sandbox_made` for one the sandbox did not make, unless
    `sandbox_only` is off (`flask --app app demo reset`, restoring the demo's own)."""
    if sandbox_only and not institution.sandbox_made:
        raise RemovalError("not_sandbox_made")
    begin_write(session)
    iid, code = institution.id, institution.institution_code
    staff_ids = select(Staff.id).where(Staff.institution_id == iid).scalar_subquery()
    client_pks = select(ApiClient.id).where(ApiClient.institution_id == iid).scalar_subquery()
    session.flush()
    statements = (
        delete(WebhookDelivery).where(or_(
            WebhookDelivery.event_id.in_(select(Event.id).where(Event.institution_id == iid)),
            WebhookDelivery.endpoint_id.in_(select(WebhookEndpoint.id).where(WebhookEndpoint.institution_id == iid)))),
        delete(WebhookEndpoint).where(WebhookEndpoint.institution_id == iid),
        delete(Event).where(Event.institution_id == iid),
        delete(Visit).where(Visit.institution_id == iid),
        delete(Consent).where(Consent.institution_id == iid),
        delete(AuditEntry).where(AuditEntry.institution_id == iid),
        delete(AuditChainHead).where(AuditChainHead.institution_id == iid),
        delete(PatientKey).where(PatientKey.institution_id == iid),
        delete(OAuthCode).where(or_(OAuthCode.client_pk.in_(client_pks), OAuthCode.staff_id.in_(staff_ids))),
        delete(OAuthToken).where(or_(OAuthToken.institution_id == iid, OAuthToken.client_pk.in_(client_pks),
                                     OAuthToken.staff_id.in_(staff_ids))),
        delete(ApiClient).where(ApiClient.institution_id == iid),
        delete(StaffPasskey).where(StaffPasskey.staff_id.in_(staff_ids)),
        delete(WebSession).where(WebSession.staff_id.in_(staff_ids)),
        delete(Staff).where(Staff.institution_id == iid),
        delete(Appointment).where(Appointment.institution_id == iid),
        delete(RetiredReceptionToken).where(RetiredReceptionToken.institution_id == iid),
        delete(InstitutionClock).where(InstitutionClock.institution_id == iid),
    )
    for statement in statements:
        session.execute(statement, execution_options={"synchronize_session": False})
    _forget_in_disasters(session, code)
    session.execute(delete(Institution).where(Institution.id == iid), execution_options={"synchronize_session": False})
    session.expunge_all()  # nothing loaded before stands for a row any more


def _forget_in_disasters(session: Session, code: str) -> None:
    """A declared disaster no longer names the institution; one that named only it (no
    prefecture, no other institution) goes with it."""
    for disaster in session.scalars(select(Disaster).where(Disaster.institution_codes.contains(code))).all():
        codes = [c for c in disaster.institution_codes.split(",") if c and c != code]
        if codes or disaster.prefectures:
            disaster.institution_codes = ",".join(codes)
        else:
            session.delete(disaster)
    session.flush()
