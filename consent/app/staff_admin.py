"""Staff administration (「管理」): reception URLs, 環境設定, the lapse rule, appointments, staff
members, API clients and webhook endpoints, and a staff member's own password. Each takes the acting admin's institution,
changes it through the domain and commits once."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from consent import audit, grants, home_visits, oauth_clients, webhooks
from consent.actors import Actor
from consent.app.ports import BrowserSessions
from consent.institutions import (
    ROLES, Appointment, Institution, Staff, appointment_of, StaffChangeError, add_staff, create_appointment, enable_staff, member_of,
    check_phone, check_privacy_url, reset_staff_password, rotate_reception_token, set_staff_role,
)
from consent.institutions import set_contact as set_institution_contact
from consent.oauth_models import ApiClient
from store.engine import begin_write
from consent.staff_auth import PasswordChangeError, login_id_taken
from consent.staff_auth import change_password as change


def _audit(session: Session, actor: Actor, event: str, now: datetime, **detail: Any) -> None:
    """An admin's change in the institution's audit chain, in the change's transaction."""
    audit.append_entry(session, institution_id=actor.institution_id, event=event, now=now, actor_kind=actor.kind,
                       actor_id=actor.id, actor_role=actor.role, detail=detail)


def rotate_reception_url(session: Session, *, institution_id: int, setting: str, now: datetime,
                         actor: Actor | None = None) -> None:
    """A new reception URL (and QR code) for one entry point; the old one stops at once (with it
    every appointment link built on it)."""
    if actor is not None:
        _audit(session, actor, "reception_url_rotated", now, setting=setting)
    rotate_reception_token(session, session.get(Institution, institution_id), now=now, setting=setting)
    session.commit()


def set_functions(session: Session, *, institution_id: int, running: dict[str, bool],
                  actor: Actor | None = None, now: datetime | None = None) -> None:
    """環境設定: which functions run (a switched-off function's URLs answer that it is not offered)."""
    if actor is not None and now is not None:
        _audit(session, actor, "settings_changed", now, functions=sorted(n for n, on in running.items() if on))
    session.get(Institution, institution_id).set_functions(running)
    session.commit()


def set_lapse_days(session: Session, *, institution_id: int, days: int, now: datetime,
                   actor: Actor | None = None) -> None:
    """The home-visit lapse rule; the open relationships follow from their last visit."""
    if actor is not None:
        _audit(session, actor, "settings_changed", now, home_visit_lapse_days=days)
    home_visits.set_lapse_days(session, institution_id=institution_id, days=days, now=now)
    session.commit()


def set_contact(session: Session, *, actor: Actor, phone: str, privacy_url: str, now: datetime) -> Institution:
    """環境設定: the phone number and privacy-notice URL patients see ("" clears one);
    InstitutionError (nothing written) when one is not what it says."""
    begin_write(session)
    institution = session.get(Institution, actor.institution_id)
    checked_phone, checked_url = check_phone(phone), check_privacy_url(privacy_url)
    changed = [name for name, value in (("phone", checked_phone), ("privacy_url", checked_url))
               if getattr(institution, name) != value]
    if changed:
        _audit(session, actor, "settings_changed", now, changed=changed)
        set_institution_contact(institution, phone=checked_phone, privacy_url=checked_url)
    session.commit()
    return institution


class AppointmentInput(NamedTuple):
    """An appointment as 「予約」's form gives it, parsed (the kana and birth date optional, together)."""

    consultation_date: date
    memo: str = ""
    patient_kana: str = ""
    patient_birth_date: date | None = None
    start_time: str | None = None  # HH:MM, told to the patient after 完了


def add_appointment(session: Session, *, institution_id: int, consultation_date: date, memo: str, now: datetime,
                    max_days_ahead: int, actor: Actor | None = None, patient_kana: str = "",
                    patient_birth_date: date | None = None, start_time: str | None = None) -> Appointment:
    """An appointment's reception URL: the 診療日 today or later, at most `max_days_ahead` ahead
    (ConsentError otherwise, nothing written); `start_time` (`HH:MM`, parsed by the caller) optional."""
    grants.check_consultation_date(consultation_date, now=now, max_days_ahead=max_days_ahead)
    begin_write(session)
    appointment = create_appointment(session, institution_id=institution_id, consultation_date=consultation_date,
                                     memo=memo, now=now, patient_kana=patient_kana,
                                     patient_birth_date=patient_birth_date, start_time=start_time)
    if actor is not None:
        _audit(session, actor, "appointment_changed", now, appointment_id=appointment.id, change="added")
    session.commit()
    return appointment


def update_appointment(session: Session, *, actor: Actor, appointment_id: int, change: AppointmentInput,
                       now: datetime, max_days_ahead: int) -> Appointment | None:
    """Edit an appointment (its link stays the same); None when there is none here."""
    begin_write(session)
    appointment = appointment_of(session, institution_id=actor.institution_id, appointment_id=appointment_id)
    if appointment is None:
        return None
    grants.check_consultation_date(change.consultation_date, now=now, max_days_ahead=max_days_ahead)
    _audit(session, actor, "appointment_changed", now, appointment_id=appointment.id, change="updated")
    appointment.consultation_date = change.consultation_date
    appointment.memo = change.memo
    appointment.patient_kana = change.patient_kana
    appointment.patient_birth_date = change.patient_birth_date
    appointment.start_time = change.start_time
    session.commit()
    return appointment


def delete_appointment(session: Session, *, actor: Actor, appointment_id: int, now: datetime) -> bool:
    """Delete an appointment: its link then opens the reception without a date."""
    begin_write(session)
    appointment = appointment_of(session, institution_id=actor.institution_id, appointment_id=appointment_id)
    if appointment is None:
        return False
    _audit(session, actor, "appointment_changed", now, appointment_id=appointment.id, change="deleted")
    session.delete(appointment)
    session.commit()
    return True


def add_member(session: Session, *, actor: Actor, login_id: str, role: str, display_name: str,
               now: datetime) -> str:
    """A new staff member with a one-time password (returned, to be shown once); StaffChangeError
    when the role was not chosen or the login id is taken. The admin saw the password: like an
    operator's, it opens nothing but the change form."""
    if role not in ROLES:
        raise StaffChangeError("no_role", field="role")
    if login_id_taken(session, login_id):
        raise StaffChangeError("login_id_taken", field="login_id")
    begin_write(session)  # SQLite: the write lock up front, as the audit append expects
    password = secrets.token_urlsafe(12)
    member = add_staff(session, session.get(Institution, actor.institution_id), login_id=login_id, password=password,
                       role=role, now=now, display_name=display_name, must_change_password=True)
    _audit(session, actor, "staff_added", now, staff_id=member.id, role=role)
    session.commit()
    return password


def _member(session: Session, actor: Actor, staff_id: int) -> Staff:
    """The member to change (a writer's transaction from here: SQLite queues writers, see begin_write)."""
    if str(staff_id) == actor.id:
        raise StaffChangeError("own_account")
    begin_write(session)
    return member_of(session, institution_id=actor.institution_id, staff_id=staff_id)


def disable_member(session: Session, *, actor: Actor, staff_id: int, now: datetime,
                   browser_sessions: BrowserSessions) -> Staff:
    """「利用停止」: the member can no longer sign in, their browser sessions end at once and their
    API tokens stop (tokens check the account on every use)."""
    member = _member(session, actor, staff_id)
    if member.disabled_at is not None:
        raise StaffChangeError("already_disabled")
    _audit(session, actor, "staff_disabled", now, staff_id=member.id)
    member.disabled_at = now
    browser_sessions.end_sessions_of_staff(session, member.id)
    session.commit()
    return member


def enable_member(session: Session, *, actor: Actor, staff_id: int, now: datetime) -> Staff:
    """「利用再開」."""
    member = _member(session, actor, staff_id)
    _audit(session, actor, "staff_enabled", now, staff_id=member.id)
    enable_staff(session, member)
    session.commit()
    return member


def reset_member_password(session: Session, *, actor: Actor, staff_id: int, now: datetime,
                          browser_sessions: BrowserSessions) -> tuple[Staff, str]:
    """「パスワード再発行」: a new one-time password (returned, to be shown once); the member's
    browser sessions end, and the next sign-in asks for their own password."""
    member = _member(session, actor, staff_id)
    _audit(session, actor, "staff_password_reset", now, staff_id=member.id)
    password = secrets.token_urlsafe(12)
    reset_staff_password(session, member, password)
    browser_sessions.end_sessions_of_staff(session, member.id)
    session.commit()
    return member, password


def change_member_role(session: Session, *, actor: Actor, staff_id: int, role: str, now: datetime) -> Staff:
    """A member's new role; it applies at their next request (the identity is read on each)."""
    member = _member(session, actor, staff_id)
    if role not in ROLES:
        raise StaffChangeError("no_role", field="role")
    if role == member.role:
        raise StaffChangeError("same_role")
    _audit(session, actor, "staff_role_changed", now, staff_id=member.id, role=role, from_role=member.role)
    set_staff_role(session, member, role)
    session.commit()
    return member


def register_api_client(session: Session, *, institution_id: int, name: str, grant_type: str, scopes: list[str],
                        redirect_uri: str | None, now: datetime, staff_id: int) -> tuple[ApiClient, str]:
    """A pharmacy system's API client and its secret (shown once); OAuthClientError when refused."""
    registered = oauth_clients.register_client(
        session, institution_id=institution_id, name=name, grant_type=grant_type, scopes=scopes,
        redirect_uri=redirect_uri, now=now, created_by_staff_id=staff_id)
    session.commit()
    return registered


def revoke_api_client(session: Session, *, institution_id: int, client_pk: int, now: datetime) -> bool:
    """Revoke a client of the institution (its tokens stop); False when there is none here."""
    if oauth_clients.revoke_client(session, institution_id=institution_id, client_pk=client_pk, now=now) is None:
        return False
    session.commit()
    return True


def change_own_password(session: Session, *, staff_id: int, current: str, new: str, confirm: str) -> None:
    """A staff member's own password; PasswordChangeError (nothing written) when refused."""
    try:
        change(session, staff_id=staff_id, current=current, new=new, confirm=confirm)
    except PasswordChangeError:
        session.rollback()
        raise
    session.commit()


# --- webhook endpoints (「API連携」, consent/webhooks.py): WebhookError when refused, nothing written --


def register_webhook(session: Session, *, institution_id: int, staff_id: int, url: str, event_types: list[str],
                     box: webhooks.SecretBox, production: bool, resolver: Any, now: datetime) -> tuple[Any, str]:
    """A webhook endpoint and its signing secret (shown once)."""
    registered = webhooks.register_endpoint(session, institution_id=institution_id, url=url,
                                            event_types=event_types, box=box, production=production,
                                            resolver=resolver, now=now, staff_id=staff_id)
    session.commit()
    return registered


def set_webhook_enabled(session: Session, *, institution_id: int, endpoint_id: int, enabled: bool,
                        now: datetime) -> None:
    webhooks.set_enabled(session, institution_id=institution_id, endpoint_id=endpoint_id, enabled=enabled, now=now)
    session.commit()


def delete_webhook(session: Session, *, institution_id: int, endpoint_id: int) -> None:
    webhooks.delete_endpoint(session, institution_id=institution_id, endpoint_id=endpoint_id)
    session.commit()


def resend_webhook(session: Session, *, institution_id: int, endpoint_id: int, delivery_id: int) -> None:
    """Queue a delivery again (the worker sends it)."""
    webhooks.resend(session, institution_id=institution_id, endpoint_id=endpoint_id, delivery_id=delivery_id)
    session.commit()
