"""A small webhook receiver for development: verifies each delivery and prints its event.

    python -m integrations.webhooks.receiver --secret whsec_... [--port 5199]

Register http://127.0.0.1:5199/ in 「管理」 → 「API連携」 → 「Webhook」 (development and sandbox
allow a local receiver), paste the secret shown there, and change a consent: each event prints
as one JSON line. A delivery whose signature does not verify is answered 400 and printed as
such. Loopback only: it is a tool for one machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1024 * 1024


class Receiver:
    """An HTTP server on 127.0.0.1 in a thread, verifying with `secret` (None: record unverified).

    `received` lists (headers, body) of every request, verified or not; `events` the verified
    events. `answer(headers, body) -> status` decides the response (200 by default).
    """

    def __init__(self, secret: str | None = None, *, port: int = 0,
                 answer: Callable[[dict[str, str], bytes], int] | None = None,
                 on_event: Callable[[dict], None] | None = None) -> None:
        self.secret = secret
        self.answer = answer
        self.on_event = on_event
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.events: list[dict] = []
        self.lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.handle(headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet: events are printed by on_event
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        event = None
        if self.secret is not None:
            try:
                event = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                event = None
        status = self.answer(headers, body) if self.answer is not None else 200
        if self.secret is not None and event is None:
            status = 400
        with self.lock:
            self.received.append((headers, body))
            if event is not None and 200 <= status < 300:
                self.events.append(event)
            self.lock.notify_all()
        if event is not None and self.on_event is not None:
            self.on_event(event)
        return status

    def wait_for(self, condition: Callable[["Receiver"], bool], timeout: float = 30) -> bool:
        """Block until `condition(self)` holds (re-checked at each request) or `timeout` passes."""
        with self.lock:
            return self.lock.wait_for(lambda: condition(self), timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print verified webhook events (development).")
    parser.add_argument("--secret", required=True, help="the endpoint's whsec_ secret, shown at registration")
    parser.add_argument("--port", type=int, default=5199)
    args = parser.parse_args(argv)
    if not args.secret.startswith("whsec_"):
        parser.error("--secret must be the whsec_ secret shown in 「API連携」")

    def show(event: dict) -> None:
        print(json.dumps(event, ensure_ascii=False), flush=True)

    receiver = Receiver(args.secret, port=args.port, on_event=show)
    original = receiver.handle

    def handle(headers: dict[str, str], body: bytes) -> int:
        status = original(headers, body)
        if status == 400:
            print(f"refused: signature did not verify (webhook-id {headers.get('webhook-id')!r})",
                  file=sys.stderr, flush=True)
        return status

    receiver.handle = handle  # type: ignore[method-assign]
    print(f"listening on http://127.0.0.1:{receiver.port}/ (Ctrl-C stops)", flush=True)
    try:
        receiver.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
