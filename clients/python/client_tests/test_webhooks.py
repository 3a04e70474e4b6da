"""Webhooks through the client: an admin registers the client's WSGI receiver in 「API連携」, the
service's delivery worker (`flask --app app webhooks deliver --once`) sends a real event to it,
`verify_webhook` accepts it, and a tampered copy (or one signed with another secret) is refused -
by the function and by the receiver, which answers 400 and hands nothing over."""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from playwright.sync_api import expect

from mynareception_client import Event, WebhookVerificationError, verify_webhook, webhook_app
from mynareception_client.webhooks import HEADERS

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def deliver_once(live_server) -> str:
    """One round of the service's webhook worker over the live server's database."""
    env = {**os.environ, "APP_ENV": "sandbox", "DATABASE_URL": live_server.database_url,
           "SECRET_KEY": "e2e-" + "s" * 60, "ORIGINS": live_server.url, "RP_ID": "localhost"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "webhooks", "deliver", "--once"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def register_webhook(admin, url: str) -> str:
    """An admin registers `url` in 「API連携」 → 「Webhook」; the signing secret shown once."""
    admin.goto("/pharmacy/admin/api")
    admin.get_by_label("通知先のURL", exact=False).fill(url)
    admin.get_by_role("button", name="通知先を登録").click()
    secret = admin.locator("#webhooks [role=status] code").inner_text()
    assert secret.startswith("whsec_")
    return secret


def test_a_delivered_webhook_verifies_and_a_tampered_one_is_refused(live_server, staff_page, sandbox, pharmacy,
                                                                    system_client):
    if not live_server.database_url:
        pytest.skip("delivers with the worker over the server's database (not with E2E_BASE_URL)")
    port = free_port()
    admin = staff_page("admin")
    secret = register_webhook(admin, f"http://127.0.0.1:{port}/hooks")

    handed_over: list[Event] = []
    raw: list[tuple[dict[str, str], bytes]] = []
    receiver = webhook_app(secret, handed_over.append)

    def recording(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        raw.append(({h: environ.get("HTTP_" + h.upper().replace("-", "_"), "") for h in HEADERS}, body))
        environ["wsgi.input"] = io.BytesIO(body)
        return receiver(environ, start_response)

    server = make_server("127.0.0.1", port, recording, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sandbox.change_institution(pharmacy["institution_code"], qualification_only=True)
        assert "delivered 1" in deliver_once(live_server)

        [event] = handed_over
        [feed_event] = list(system_client.iter_events())
        assert event == feed_event  # the webhook carries the event the feed lists
        assert event.type == "institution.mode_changed" and event.data == {"qualification_only": True}
        headers, body = raw[0]
        assert headers["webhook-id"] == event.id
        assert verify_webhook(headers, body, secret) == event

        # Tampered: the same signature over another body; or signed with another secret.
        tampered = json.dumps({**json.loads(body), "data": {"qualification_only": False}}).encode()
        with pytest.raises(WebhookVerificationError):
            verify_webhook(headers, tampered, secret)
        with pytest.raises(WebhookVerificationError):
            verify_webhook(headers, body, "whsec_" + "QUJD" * 11)
        answer = httpx.post(f"http://127.0.0.1:{port}/hooks", content=tampered,
                            headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 400
        assert httpx.get(f"http://127.0.0.1:{port}/hooks").status_code == 405
        assert len(handed_over) == 1  # nothing unverified was handed over

        # The console lists the delivery as done.
        admin.reload()
        expect(admin.locator("#webhooks")).to_contain_text("配信済み")
    finally:
        server.shutdown()
        server.server_close()


def test_watch_prints_an_event_that_arrives_by_webhook(live_server, staff_page, sandbox, pharmacy):
    if not live_server.database_url:
        pytest.skip("delivers with the worker over the server's database (not with E2E_BASE_URL)")
    port = free_port()
    secret = register_webhook(staff_page("admin"), f"http://127.0.0.1:{port}/")
    creds = pharmacy["api_client"]
    # --no-feed: what prints after the start came by webhook.
    proc = subprocess.Popen(
        [sys.executable, "-m", "mynareception_client", "watch", "--base-url", live_server.url,
         "--client-id", creds["client_id"], "--no-feed",
         "--webhook-port", str(port), "--webhook-secret", secret],
        env={**os.environ, "MYNARECEPTION_CLIENT_SECRET": creds["client_secret"]},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    killer = threading.Timer(60, proc.kill)  # a line that never comes fails the test, not hangs it
    killer.start()
    try:
        lines = iter(proc.stdout)
        assert next(lines).startswith("Consents of ")
        assert next(lines).strip() == f"Webhooks: http://127.0.0.1:{port}/"
        assert next(lines).startswith("Watching events")
        sandbox.change_institution(pharmacy["institution_code"], qualification_only=True)
        assert "delivered 1" in deliver_once(live_server)
        line = next(lines)
        assert "institution.mode_changed" in line and line.rstrip().endswith("(webhook)")
    finally:
        killer.cancel()
        proc.terminate()
        proc.wait(timeout=10)
