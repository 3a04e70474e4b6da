"""The console's 「API連携」 section for admins: register, list and revoke pharmacy-system API clients.

Shown inside the admin page (console/admin.html includes console/api_clients.html). A new
client's secret is shown once, right after registration, and stored only as a digest.
"""
from __future__ import annotations

from flask import Flask, abort, redirect, request, session, url_for

from consent import oauth_clients
from consent.app import staff_admin
from consent.vocabulary import CLIENT_CREDENTIALS_SCOPES, CLINICAL_SCOPES, SCOPE_LABELS, SCOPES
from web.context import now
from web.db import db
from web.error_messages import describe
from web.console.routes import Routes
from web.staff_session import admin_required, current_staff

routes = Routes()


def _back():
    return redirect(url_for("console.admin_home") + "#api-clients", code=303)


@routes.post("/admin/api-clients")
@admin_required
def admin_register_api_client():
    staff = current_staff()
    form = request.form
    try:
        client, secret = staff_admin.register_api_client(
            db(), institution_id=staff.institution_id, name=form.get("name", "")[:200],
            grant_type=form.get("grant_type", ""), scopes=form.getlist("scopes")[:20],
            redirect_uri=form.get("redirect_uri", "")[:1000] or None, now=now(), staff_id=staff.staff_id,
        )
    except oauth_clients.OAuthClientError as exc:
        session["api_client_error"] = describe(exc).message
        return _back()
    session["new_api_client"] = {"name": client.name, "client_id": client.client_id, "client_secret": secret}
    return _back()


# Ids are 32-bit integer columns: a longer number is no id (the database refused it: a 500).
@routes.post("/admin/api-clients/<int(max=2147483647):client_pk>/revoke")
@admin_required
def admin_revoke_api_client(client_pk: int):
    staff = current_staff()
    if not staff_admin.revoke_api_client(db(), institution_id=staff.institution_id, client_pk=client_pk, now=now()):
        abort(404)
    return _back()


def api_clients_panel() -> dict:
    """What the admin page's API section shows (called from the template)."""
    staff = current_staff()
    if staff is None or not staff.is_admin:
        return {"clients": []}
    return {
        "clients": oauth_clients.clients_of(db(), staff.institution_id),
        "new": session.pop("new_api_client", None),
        "error": session.pop("api_client_error", None),
        "scopes": [(s, SCOPE_LABELS[s]) for s in SCOPES],
        "scope_labels": SCOPE_LABELS,
        "grant_types": oauth_clients.GRANT_TYPE_LABELS,
        "system_scopes": [SCOPE_LABELS[s] for s in SCOPES if s in CLIENT_CREDENTIALS_SCOPES],
        "licensed_scopes": [SCOPE_LABELS[s] for s in SCOPES if s in CLINICAL_SCOPES],
    }


def init_app(app: Flask) -> None:
    app.jinja_env.globals["api_clients_panel"] = api_clients_panel
