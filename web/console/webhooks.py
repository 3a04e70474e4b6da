"""「API連携」's webhook section for admins: register endpoints, see their recent deliveries, 「再送」.

The rules (where an endpoint may point, the secret shown once and kept encrypted, the delivery
states) are consent/webhooks.py's; this parses the forms and shows the panel
(console/webhooks.html, included in the admin page below the API clients). web/__init__.py names
its routes in the console blueprint.
"""
from __future__ import annotations

from flask import Flask, abort, current_app, redirect, request, session, url_for

from consent import webhooks
from consent.app import staff_admin
from consent.vocabulary import EVENT_TYPES
from web.context import now, settings, wall_now
from web.db import db
from web.error_messages import describe
from web.console.routes import Routes
from web.staff_session import admin_required, current_staff

routes = Routes()
# Ids are 32-bit integer columns: a longer number is no id.
ENDPOINT = "<int(max=2147483647):endpoint_id>"

# What the console says of a delivery's last error (consent/webhooks.py Outcome.error).
ERROR_LABELS = {
    "timeout": "10秒以内に応答がありませんでした",
    "connection_failed": "接続できませんでした",
    "tls": "TLS（https）の接続に失敗しました",
    "blocked_address": "プライベートなアドレスを指しているため送りませんでした",
    "url_unresolvable": "ホスト名が見つかりませんでした",
    "url_not_https": "https ではないため送りませんでした",
}
DISABLED_LABELS = {
    webhooks.FAILING_TOO_LONG: "3日間続けて配信できなかったため、自動で停止しました",
    webhooks.DISABLED_BY_ADMIN: "管理者が停止しました",
}
DELIVERY_LABELS = {webhooks.DELIVERED: "配信済み", webhooks.FAILED: "失敗（再試行します）", webhooks.RESEND: "再送待ち"}


def error_label(code: str | None) -> str:
    if not code:
        return ""
    kind, _, status = code.partition("_")
    if kind == "http" and status.isdigit():
        return f"HTTP {status} が返りました"
    if kind == "redirect" and status.isdigit():
        return f"HTTP {status}（リダイレクト）が返りました。リダイレクトは追いません"
    return ERROR_LABELS.get(code, code)


def _back():
    return redirect(url_for("console.admin_home") + "#webhooks", code=303)


def _resolver():
    return current_app.extensions.get("webhook_resolver", webhooks.system_resolver)


@routes.post("/admin/webhooks")
@admin_required
def admin_register_webhook():
    staff = current_staff()
    form = request.form
    try:
        endpoint, secret = staff_admin.register_webhook(
            db(), institution_id=staff.institution_id, url=form.get("url", "")[:webhooks.MAX_URL_LENGTH + 1],
            event_types=form.getlist("event_types")[:20], box=webhooks.SecretBox(settings().webhook_key),
            production=settings().production, resolver=_resolver(), now=now(), staff_id=staff.staff_id,
        )
    except webhooks.WebhookError as exc:
        session["webhook_error"] = describe(exc).message
        return _back()
    session["new_webhook"] = {"url": endpoint.url, "secret": secret}
    return _back()


def _act(action) -> object:
    staff = current_staff()
    try:
        action(staff.institution_id)
    except webhooks.WebhookError:
        abort(404)
    return _back()


@routes.post(f"/admin/webhooks/{ENDPOINT}/disable")
@admin_required
def admin_disable_webhook(endpoint_id: int):
    return _act(lambda institution_id: staff_admin.set_webhook_enabled(
        db(), institution_id=institution_id, endpoint_id=endpoint_id, enabled=False, now=wall_now()))


@routes.post(f"/admin/webhooks/{ENDPOINT}/enable")
@admin_required
def admin_enable_webhook(endpoint_id: int):
    return _act(lambda institution_id: staff_admin.set_webhook_enabled(
        db(), institution_id=institution_id, endpoint_id=endpoint_id, enabled=True, now=wall_now()))


@routes.post(f"/admin/webhooks/{ENDPOINT}/delete")
@admin_required
def admin_delete_webhook(endpoint_id: int):
    return _act(lambda institution_id: staff_admin.delete_webhook(
        db(), institution_id=institution_id, endpoint_id=endpoint_id))


@routes.post(f"/admin/webhooks/{ENDPOINT}/deliveries/<int(max=2147483647):delivery_id>/resend")
@admin_required
def admin_resend_webhook(endpoint_id: int, delivery_id: int):
    return _act(lambda institution_id: staff_admin.resend_webhook(
        db(), institution_id=institution_id, endpoint_id=endpoint_id, delivery_id=delivery_id))


def webhooks_panel() -> dict:
    """What the admin page's webhook section shows (called from the template)."""
    staff = current_staff()
    if staff is None or not staff.is_admin:
        return {"endpoints": []}
    endpoints = webhooks.endpoints_of(db(), staff.institution_id)
    return {
        "endpoints": [{"row": e, "types": [EVENT_TYPES[t] for t in e.types],
                       "disabled": DISABLED_LABELS.get(e.disabled_reason or "", ""),
                       "last_error": error_label(e.last_error),
                       "deliveries": webhooks.recent_deliveries(db(), e.id)} for e in endpoints],
        "new": session.pop("new_webhook", None),
        "error": session.pop("webhook_error", None),
        "event_types": list(EVENT_TYPES.items()),
        "delivery_labels": DELIVERY_LABELS,
        "error_label": error_label,
        "production": settings().production,
        "max_url": webhooks.MAX_URL_LENGTH,
    }


def init_app(app: Flask) -> None:
    app.jinja_env.globals["webhooks_panel"] = webhooks_panel
