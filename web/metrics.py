"""Prometheus metrics, counted in web/ (consent/ stays free of them), served at GET /metrics.

Under gunicorn every worker is its own process: with PROMETHEUS_MULTIPROC_DIR set (the gunicorn
config module web.gunicorn_conf sets it when METRICS=1) each worker writes its counts to files
there and a scrape of any worker adds them all up. Without it (one process: tests, `flask run`)
the counts live in this process. Labels are route templates and codes, never personal data.
"""
from __future__ import annotations

import ipaddress
import os
from functools import cache

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

PREFIX = "mynareception"
# One process's own registry; in multiprocess mode the scrape reads the files instead.
REGISTRY = CollectorRegistry(auto_describe=True)

bp = Blueprint("metrics", __name__)


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(f"{PREFIX}_http_requests", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=registry)
        self.latency = Histogram(f"{PREFIX}_http_request_duration_seconds",
                                 "Time to answer, by route template and status", ["method", "route", "status"],
                                 registry=registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.consents = Counter(f"{PREFIX}_consents", "Consents registered, updated or revoked", ["event"],
                                registry=registry)
        self.reads = Counter(f"{PREFIX}_reads", "Data reads decided, allowed or denied, by reason",
                             ["outcome", "reason"], registry=registry)
        self.card_refusals = Counter(f"{PREFIX}_card_refusals", "Card reads refused, by code", ["code"],
                                     registry=registry)
        self.rate_limited = Counter(f"{PREFIX}_rate_limit_refusals", "Requests refused with 429, by route",
                                    ["route"], registry=registry)


@cache
def _metrics() -> _Metrics:
    # Created on first use, after gunicorn's config has set PROMETHEUS_MULTIPROC_DIR.
    return _Metrics(REGISTRY)


def _on() -> bool:
    return bool(current_app.config["SETTINGS"].metrics)


def observe_request(route: str, status: int, duration_ms: float | None) -> None:
    if not _on():
        return
    m = _metrics()
    labels = (request.method, route, str(status))
    m.requests.labels(*labels).inc()
    if duration_ms is not None:
        m.latency.labels(*labels).observe(duration_ms / 1000)
    if status == 429:
        m.rate_limited.labels(route).inc()


def consent_event(event: str, count: int = 1) -> None:
    """`registered`, `updated` or `revoked`."""
    if _on() and count:
        _metrics().consents.labels(event).inc(count)


def read_decided(allowed: bool, reason: str | None) -> None:
    if _on():
        _metrics().reads.labels("allowed" if allowed else "denied", "" if allowed else (reason or "")).inc()


def card_refused(code: str) -> None:
    if _on():
        _metrics().card_refusals.labels(code).inc()


def _allowed(address: str | None, allow: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in allow)


@bp.get("/metrics")
def scrape():
    settings = current_app.config["SETTINGS"]
    # The address as seen after ProxyFix: with TRUSTED_PROXIES, the client's, not the proxy's.
    if not _allowed(request.remote_addr, settings.metrics_allow):
        abort(403)
    _metrics()  # so that a scrape before any request still names every metric
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    # Off by default: the route does not even exist (404) unless METRICS=1.
    if app.config["SETTINGS"].metrics:
        app.register_blueprint(bp)
