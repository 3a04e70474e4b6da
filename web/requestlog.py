"""One JSON log line per request: method, path template, status, duration, request id.

The path template (`/r/<token>`) is logged, never the concrete path, query or body, so no
personal data or secret token reaches the logs.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, current_app, g, request

log = logging.getLogger("app.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _start():
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _finish(response):
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    response.headers["X-Request-Id"] = g.get("request_id", "")
    from web import metrics

    metrics.observe_request(rule, response.status_code, duration_ms)
    if current_app.config.get("LOG_REQUESTS", True):
        # web.logs.JsonFormatter writes the fields as the line's keys, with the request id.
        log.info("request", extra={"fields": {
            "method": request.method,
            "path": rule,
            "status": response.status_code,
            "duration_ms": duration_ms,
        }})
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
