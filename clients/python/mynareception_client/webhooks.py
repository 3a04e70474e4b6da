"""Webhooks: the service POSTs each event (the same object the feed lists) signed as Standard
Webhooks say - headers `webhook-id` (the event id), `webhook-timestamp`, `webhook-signature` - with
the endpoint's `whsec_…` secret shown once in 「管理」 → 「API連携」 → 「Webhook」.

`verify_webhook` checks one delivery; `webhook_app` is a tiny WSGI application that verifies each
delivery and hands the event to your function (answering 204, or 400 for a delivery that does not
verify; an exception in your function answers 500, so the service sends it again later).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as _StandardError

from mynareception_client._decode import decode
from mynareception_client.errors import WebhookVerificationError
from mynareception_client.models import Event

log = logging.getLogger("mynareception_client.webhooks")
MAX_BODY = 1024 * 1024  # an event is a few hundred bytes
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def verify_webhook(headers: Mapping[str, str], body: bytes | str, secret: str) -> Event:
    """The event of a delivery whose signature verifies with `secret` (the whsec_ value), sent
    within five minutes of now (Standard Webhooks' tolerance, against replays); else
    WebhookVerificationError. Pass the body exactly as received, before any JSON parsing."""
    if not secret.startswith("whsec_"):
        raise ValueError("secret: the whsec_… value shown when the endpoint was registered")
    wanted = {k.lower(): v for k, v in headers.items() if k.lower() in HEADERS}
    try:
        payload = Webhook(secret).verify(body, wanted)
    except _StandardError as exc:
        raise WebhookVerificationError(str(exc)) from None
    if not isinstance(payload, dict) or payload.get("id") != wanted.get("webhook-id"):
        raise WebhookVerificationError("the body is not the event the webhook-id names")
    return decode(Event, payload)


def webhook_app(secret: str, on_event: Callable[[Event], Any]) -> Callable[..., Iterable[bytes]]:
    """A WSGI application receiving deliveries at any path: POST, verified, then `on_event(event)`.

    Deliveries come at least once: the same `webhook-id` may arrive again (a retry after a
    timeout); `on_event` should ignore an id it has handled."""
    if not secret.startswith("whsec_"):
        raise ValueError("secret: the whsec_… value shown when the endpoint was registered")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def answer(status: str, text: str = "") -> list[bytes]:
            body = text.encode()
            start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                    ("Content-Length", str(len(body)))])
            return [body]

        if environ.get("REQUEST_METHOD") != "POST":
            return answer("405 Method Not Allowed", "POST only\n")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return answer("400 Bad Request", "bad Content-Length\n")
        if length > MAX_BODY:
            return answer("413 Content Too Large", "too large\n")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {name: environ.get("HTTP_" + name.upper().replace("-", "_"), "") for name in HEADERS}
        try:
            event = verify_webhook(headers, body, secret)
        except WebhookVerificationError as exc:
            log.warning("webhook refused: %s (webhook-id %r)", exc, headers["webhook-id"])
            return answer("400 Bad Request", "signature did not verify\n")
        try:
            on_event(event)
        except Exception:
            log.exception("on_event failed for %s; answering 500 so it is sent again", event.id)
            return answer("500 Internal Server Error", "not handled\n")
        return answer("204 No Content")

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def serve_webhooks(secret: str, on_event: Callable[[Event], Any], *, host: str = "127.0.0.1",
                   port: int = 0) -> WSGIServer:
    """Serve `webhook_app` in a background thread (development, or behind your own proxy); the
    server's `server_port` is its port, `shutdown()` stops it. Production apps mount
    `webhook_app` in their own WSGI server instead."""
    server = make_server(host, port, webhook_app(secret, on_event), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="webhooks", daemon=True).start()
    return server
