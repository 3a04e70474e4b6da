"""POST one event to a receiver, signed as Standard Webhooks say (the `standardwebhooks` package).

The URL is checked again before every delivery (consent.webhooks.check_url: in production https
and public addresses only) and the connection goes to an address that check approved, so a name
that resolves elsewhere by the time of the delivery (DNS rebinding) reaches nothing private.
Redirects are not followed: a 3xx is a failure. The whole exchange is cut at 10 s, however
slowly the receiver drips its answer.
"""
from __future__ import annotations

import functools
import http.client
import socket
import ssl
import threading
import time
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

from consent.webhooks import RECEIVER_TIMEOUT_SECONDS, Outcome, Resolver, WebhookError, check_url

USER_AGENT = "mynareception-webhooks/1"


def signed_headers(*, secret: str, msg_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` (timestamp: real time, as receivers check it)."""
    at = at or datetime.now(timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the system's CA certificates costs ~20 ms: once per process, not per delivery.
    return ssl.create_default_context()


class _PinnedConnection(http.client.HTTPSConnection):
    """HTTP(S) to one checked address, with the URL's host for the Host header, SNI and the certificate."""

    def __init__(self, host: str, port: int, address: str, *, tls: bool, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=_tls_context())
        self._address, self._tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # One small request, sent whole: no wait for the receiver's delayed ACK (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls:
            sock = self._context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def send(url: str, *, secret: str, msg_id: str, body: str, production: bool, resolver: Resolver,
         timeout: float = RECEIVER_TIMEOUT_SECONDS) -> Outcome:
    """Deliver once; the outcome (2xx is success; anything else, 3xx included, a failure)."""
    started = time.monotonic()
    try:
        target = check_url(url, production=production, resolver=resolver)
    except WebhookError as refused:
        return Outcome(False, error="blocked_address" if refused.code == "url_private_address" else refused.code)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **signed_headers(secret=secret, msg_id=msg_id, body=body)}
    payload = body.encode()
    error = "connection_failed"
    for address in target.addresses:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            return Outcome(False, error="timeout", latency_ms=_ms(started))
        conn = _PinnedConnection(target.host, target.port, address, tls=target.scheme == "https", timeout=remaining)
        # The deadline of the whole exchange: a receiver sending a byte now and then still ends here.
        cut = threading.Timer(remaining, _shut, args=(conn,))
        cut.start()
        try:
            conn.request("POST", target.path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read(1024)  # a little of the answer; never more
            status = response.status
        except ssl.SSLError:
            error = "tls"
            continue
        except (OSError, http.client.HTTPException):
            error = "timeout" if time.monotonic() - started >= timeout - 0.05 else "connection_failed"
            if error == "timeout":
                return Outcome(False, error=error, latency_ms=_ms(started))
            continue
        finally:
            cut.cancel()
            conn.close()
        if 200 <= status < 300:
            return Outcome(True, status_code=status, latency_ms=_ms(started))
        kind = "redirect" if 300 <= status < 400 else "http"
        return Outcome(False, status_code=status, error=f"{kind}_{status}", latency_ms=_ms(started))
    return Outcome(False, error=error, latency_ms=_ms(started))


def _shut(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
