"""Staff administration (「管理」): reception URLs, 環境設定, the lapse rule, appointments, staff
members, API clients and webhook endpoints, and a staff member's own password. Each takes the acting admin's institution,
changes it through the domain and commits once."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import grants, home_visits, oauth_clients, webhooks
from consent.app.ports import BrowserSessions
from consent.institutions import Institution, add_staff, create_appointment, disable_staff, rotate_reception_token
from consent.oauth_models import ApiClient
from consent.staff_auth import PasswordChangeError, login_id_taken
from consent.staff_auth import change_password as change


def rotate_reception_url(session: Session, *, institution_id: int, setting: str, now: datetime) -> None:
    """A new reception URL (and QR code) for one entry point; the old one stops at once."""
    rotate_reception_token(session, session.get(Institution, institution_id), now=now, setting=setting)
    session.commit()


def set_functions(session: Session, *, institution_id: int, running: dict[str, bool]) -> None:
    """環境設定: which functions run (a switched-off function's URLs answer that it is not offered)."""
    session.get(Institution, institution_id).set_functions(running)
    session.commit()


def set_lapse_days(session: Session, *, institution_id: int, days: int, now: datetime) -> None:
    """The home-visit lapse rule; the open relationships follow from their last visit."""
    home_visits.set_lapse_days(session, institution_id=institution_id, days=days, now=now)
    session.commit()


def add_appointment(session: Session, *, institution_id: int, consultation_date: date, memo: str, now: datetime,
                    max_days_ahead: int, start_time: str | None = None) -> None:
    """An appointment's reception URL: the 診療日 today or later, at most `max_days_ahead` ahead
    (ConsentError otherwise, nothing written); `start_time` (`HH:MM`, parsed by the caller) optional."""
    grants.check_consultation_date(consultation_date, now=now, max_days_ahead=max_days_ahead)
    create_appointment(session, institution_id=institution_id, consultation_date=consultation_date, memo=memo,
                       now=now, start_time=start_time)
    session.commit()


def add_member(session: Session, *, institution_id: int, login_id: str, role: str, display_name: str,
               now: datetime) -> str | None:
    """A new staff member with a one-time password (returned, to be shown once), or None when the
    login id is taken. The admin saw the password: like an operator's, it opens nothing but the
    change form."""
    if login_id_taken(session, login_id):
        return None
    password = secrets.token_urlsafe(12)
    add_staff(session, session.get(Institution, institution_id), login_id=login_id, password=password, role=role,
              now=now, display_name=display_name, must_change_password=True)
    session.commit()
    return password


def disable_member(session: Session, *, institution_id: int, staff_id: int, now: datetime,
                   browser_sessions: BrowserSessions) -> bool:
    """Disable a staff member of the institution and end their browser sessions at once; False
    when there is no such member here."""
    if disable_staff(session, institution_id=institution_id, staff_id=staff_id, now=now) is None:
        return False
    browser_sessions.end_sessions_of_staff(session, staff_id)
    session.commit()
    return True


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
