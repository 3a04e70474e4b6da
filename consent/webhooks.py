"""Webhook endpoints of an institution, and what the delivery worker records of each delivery.

An admin registers an endpoint (URL, event types) in 「API連携」; its signing secret (`whsec_…`,
Standard Webhooks) is shown once and kept encrypted with WEBHOOK_KEY (`SecretBox`). The delivery
worker (ops/webhook_worker.py) takes a lease on one endpoint at a time - `FOR UPDATE SKIP LOCKED`
on PostgreSQL, a conditional UPDATE on SQLite - and sends that endpoint's events in id order, one
at a time, from its cursor: so a receiver gets them in order (per consent and overall), every
one at least once, and never the same one from two workers at once. A failure keeps the cursor
where it is and backs off exponentially with jitter; an endpoint failing for 3 days is disabled,
with the reason kept for the admin. A crashed worker's lease runs out and another one resumes.

Addresses: in production an endpoint must be https and resolve to public addresses only, checked
at registration and before every delivery (through a `Resolver`, so tests need no DNS); in
development and the sandbox a local receiver is allowed.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import random
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_, delete, exists, or_, select, update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from consent import events
from consent.errors import DomainError
from consent.events import Event, EventId
from consent.vocabulary import EVENT_TYPES
from consent.window import aware
from store.base import Base
from store.types import UTCDateTime

MAX_URL_LENGTH = 2000
MAX_ENDPOINTS = 10  # per institution: each is one more stream to send
# A receiver answering in time: the whole exchange is cut here.
RECEIVER_TIMEOUT_SECONDS = 10.0
# A lease outlives one delivery (cut at 10 s) with room; the worker renews it before each one.
LEASE = timedelta(seconds=30)
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)
DISABLE_AFTER = timedelta(days=3)
ACTIVE, DISABLED = "active", "disabled"
# disabled_reason codes (the console words them).
FAILING_TOO_LONG, DISABLED_BY_ADMIN = "failing_3_days", "by_admin"
# Delivery states: delivered; failed (the latest attempt failed, it is retried); resend (an admin
# asked for it again).
DELIVERED, FAILED, RESEND = "delivered", "failed", "resend"


class WebhookError(DomainError):
    """An endpoint the admin must correct, or an action on one that is not there."""

    domain = "webhooks"
    codes = frozenset({
        "url_missing", "url_too_long", "url_malformed", "url_not_https", "url_private_address", "url_unresolvable",
        "no_event_types", "unknown_event_type", "too_many_endpoints", "not_found",
    })


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    # Event types it receives, space-separated (consent/vocabulary.py EVENT_TYPES).
    event_types: Mapped[str] = mapped_column(String(400))
    # The whsec_ secret, encrypted (SecretBox): "v1:" + base64(nonce + ciphertext).
    secret_sealed: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    disabled_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Every event of the institution up to this id has been sent (or was not for this endpoint).
    cursor_event_id: Mapped[int] = mapped_column(EventId, default=0)
    # Failing since (the first failure after the last success); the next try; consecutive failures.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The worker sending it now, until when.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.event_types.split())


class WebhookDelivery(Base):
    """One event sent (or being retried) to one endpoint: what the console's recent list shows."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_endpoint_status", "endpoint_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(EventId, ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


_endpoints = WebhookEndpoint.__table__
_deliveries = WebhookDelivery.__table__
_events = Event.__table__


# --- the signing secret, encrypted at rest ------------------------------------------------------


class SecretBox:
    """AES-256-GCM under a key derived from WEBHOOK_KEY. The database alone never yields a secret."""

    _AAD = b"mynareception webhook secret v1"

    def __init__(self, key_material: str) -> None:
        if not key_material:
            raise ValueError("WEBHOOK_KEY is empty")
        self._aead = AESGCM(hashlib.sha256(key_material.encode()).digest())

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        return "v1:" + base64.b64encode(nonce + self._aead.encrypt(nonce, secret.encode(), self._AAD)).decode()

    def open(self, sealed: str) -> str:
        version, _, body = sealed.partition(":")
        if version != "v1":
            raise ValueError("unknown sealed secret version")
        raw = base64.b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], self._AAD).decode()

    def __repr__(self) -> str:  # never print a key
        return "SecretBox(…)"


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- where an endpoint may point ----------------------------------------------------------------

# host, port -> the addresses it resolves to (strings). socket.getaddrinfo by default.
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def is_public(address: str) -> bool:
    """Not loopback, private, link-local, multicast, reserved or otherwise not globally routable."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the addresses checked for it."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check_url(url: str, *, production: bool, resolver: Resolver) -> Target:
    """The endpoint URL, checked (WebhookError): at most 2,000 characters, http(s) with a host and
    no credentials; in production https only, resolving only to public addresses."""
    if not url:
        raise WebhookError("url_missing", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookError("url_too_long", field="url", detail=MAX_URL_LENGTH)
    if not url.isascii() or any(c.isspace() or ord(c) < 0x21 for c in url):
        raise WebhookError("url_malformed", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookError("url_malformed", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.fragment:
        raise WebhookError("url_malformed", field="url")
    if production and parts.scheme != "https":
        raise WebhookError("url_not_https", field="url")
    try:
        addresses = tuple(resolver(parts.hostname, port))
    except (OSError, UnicodeError):
        addresses = ()
    if not addresses:
        raise WebhookError("url_unresolvable", field="url")
    if production and not all(is_public(a) for a in addresses):
        raise WebhookError("url_private_address", field="url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses)


def check_event_types(chosen: Iterable[str]) -> tuple[str, ...]:
    chosen = set(chosen)
    if not chosen:
        raise WebhookError("no_event_types", field="event_types")
    if chosen - set(EVENT_TYPES):
        raise WebhookError("unknown_event_type", field="event_types")
    return tuple(t for t in EVENT_TYPES if t in chosen)


# --- the admin's side ---------------------------------------------------------------------------


def register_endpoint(
    session: Session, *, institution_id: int, url: str, event_types: Iterable[str], box: SecretBox,
    production: bool, resolver: Resolver, now: datetime, staff_id: int | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (shown once). It receives the events from now on."""
    url = url.strip()
    types = check_event_types(event_types)
    check_url(url, production=production, resolver=resolver)
    count = session.scalar(select(_endpoints.c.id).where(_endpoints.c.institution_id == institution_id)
                           .order_by(_endpoints.c.id.desc()).offset(MAX_ENDPOINTS - 1).limit(1))
    if count is not None:
        raise WebhookError("too_many_endpoints", detail=MAX_ENDPOINTS)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        institution_id=institution_id, url=url, event_types=" ".join(types), secret_sealed=box.seal(secret),
        status=ACTIVE, created_at=aware(now), created_by_staff_id=staff_id,
        cursor_event_id=events.latest_event_id(session, institution_id), failures=0,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def endpoints_of(session: Session, institution_id: int) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.institution_id == institution_id)
                                .order_by(WebhookEndpoint.id)))


def _own(session: Session, institution_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=True, populate_existing=True)
    if endpoint is None or endpoint.institution_id != institution_id:
        raise WebhookError("not_found")
    return endpoint


def set_enabled(session: Session, *, institution_id: int, endpoint_id: int, enabled: bool, now: datetime) -> None:
    """「停止」/「再開」. Resuming sends what it missed from its cursor (events are kept 31 days)."""
    endpoint = _own(session, institution_id, endpoint_id)
    if enabled:
        endpoint.status, endpoint.disabled_reason, endpoint.disabled_at = ACTIVE, None, None
        endpoint.failing_since, endpoint.next_attempt_at, endpoint.failures = None, None, 0
    elif endpoint.status == ACTIVE:
        endpoint.status, endpoint.disabled_reason, endpoint.disabled_at = DISABLED, DISABLED_BY_ADMIN, aware(now)
    session.flush()


def delete_endpoint(session: Session, *, institution_id: int, endpoint_id: int) -> None:
    endpoint = _own(session, institution_id, endpoint_id)
    session.execute(delete(_deliveries).where(_deliveries.c.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()


def resend(session: Session, *, institution_id: int, endpoint_id: int, delivery_id: int) -> None:
    """「再送」: send that event again (before the endpoint's next ones)."""
    endpoint = _own(session, institution_id, endpoint_id)
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise WebhookError("not_found")
    delivery.status = RESEND
    endpoint.next_attempt_at = None  # now
    session.flush()


def recent_deliveries(session: Session, endpoint_id: int, limit: int = 20) -> list[tuple[WebhookDelivery, Event]]:
    return list(session.execute(
        select(WebhookDelivery, Event).join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.last_attempt_at.desc(), WebhookDelivery.id.desc()).limit(limit)
    ).all())


# --- the worker's side --------------------------------------------------------------------------


def _has_work():
    pending = exists().where(_events.c.institution_id == _endpoints.c.institution_id,
                             _events.c.id > _endpoints.c.cursor_event_id)
    resends = exists().where(_deliveries.c.endpoint_id == _endpoints.c.id, _deliveries.c.status == RESEND)
    return or_(pending, resends)


def claim(session: Session, *, owner: str, now: datetime, lease: timedelta = LEASE) -> int | None:
    """Lease one endpoint that has something to send and is due; its id, or None. Commits."""
    now = aware(now)
    due = and_(_endpoints.c.status == ACTIVE,
               or_(_endpoints.c.next_attempt_at.is_(None), _endpoints.c.next_attempt_at <= now),
               or_(_endpoints.c.lease_until.is_(None), _endpoints.c.lease_until < now))
    query = select(_endpoints.c.id).where(due, _has_work()).order_by(
        _endpoints.c.next_attempt_at.is_not(None), _endpoints.c.next_attempt_at, _endpoints.c.id).limit(1)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Another worker's candidate row is skipped, not waited for.
        query = query.with_for_update(skip_locked=True)
    endpoint_id = session.scalar(query)
    if endpoint_id is None:
        session.rollback()
        return None
    # The condition repeats the check: on SQLite (no row locks) two workers may have picked the
    # same row, and only the one whose UPDATE still finds it free gets it.
    taken = session.execute(
        update(_endpoints).where(_endpoints.c.id == endpoint_id, due)
        .values(lease_owner=owner, lease_until=now + lease)
    ).rowcount
    session.commit()
    return endpoint_id if taken == 1 else None


def renew(session: Session, *, endpoint_id: int, owner: str, now: datetime, lease: timedelta = LEASE) -> bool:
    """Extend the lease before a delivery; False when it is no longer ours (then stop). Commits."""
    held = session.execute(
        update(_endpoints).where(_endpoints.c.id == endpoint_id, _endpoints.c.lease_owner == owner,
                                 _endpoints.c.status == ACTIVE)
        .values(lease_until=aware(now) + lease)
    ).rowcount
    session.commit()
    return held == 1


def release(session: Session, *, endpoint_id: int, owner: str) -> None:
    session.execute(update(_endpoints).where(_endpoints.c.id == endpoint_id, _endpoints.c.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None))
    session.commit()


@dataclass(frozen=True)
class Outgoing:
    """One event to send to one endpoint."""

    endpoint_id: int
    url: str
    secret: str
    event_id: int
    body: str  # the JSON sent, exactly as signed
    msg_id: str
    resend: bool


def next_batch(session: Session, *, endpoint_id: int, box: SecretBox, limit: int = 50) -> list[Outgoing]:
    """What the leased endpoint sends next, in order: resends asked for first, then its events
    after the cursor that it subscribed to (others are stepped over: `skip_to`)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    secret = box.open(endpoint.secret_sealed)
    resent = session.execute(
        select(_events).join(_deliveries, _deliveries.c.event_id == _events.c.id)
        .where(_deliveries.c.endpoint_id == endpoint_id, _deliveries.c.status == RESEND)
        .order_by(_events.c.id).limit(limit)
    ).all()
    rows = [(row, True) for row in resent]
    if not rows:
        wanted = set(endpoint.types)
        fresh = session.execute(
            select(_events).where(_events.c.institution_id == endpoint.institution_id,
                                  _events.c.id > endpoint.cursor_event_id)
            .order_by(_events.c.id).limit(limit)
        ).all()
        rows = [(row, False) for row in fresh if row.type in wanted]
        if fresh and not rows:
            skip_to(session, endpoint_id=endpoint_id, event_id=fresh[-1].id)
    session.rollback()
    return [Outgoing(endpoint_id, endpoint.url, secret, row.id, events_body(row), events.public_id(row.id), again)
            for row, again in rows]


def events_body(row: Any) -> str:
    import json

    return json.dumps(events.event_json(row), ensure_ascii=False, separators=(",", ":"))


def skip_to(session: Session, *, endpoint_id: int, event_id: int) -> None:
    """Move the cursor over events the endpoint does not receive."""
    session.execute(update(_endpoints).where(_endpoints.c.id == endpoint_id, _endpoints.c.cursor_event_id < event_id)
                    .values(cursor_event_id=event_id))
    session.commit()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None  # http_<code>, redirect_<code>, timeout, connection_failed, blocked_address, ...
    latency_ms: int = 0


def record_outcome(session: Session, item: Outgoing, outcome: Outcome, *, owner: str, now: datetime,
                   rng: random.Random | None = None) -> bool:
    """Keep what one attempt did; True to go on with the endpoint's next event. Commits.

    Success moves the cursor past the event (or clears a resend) and the failure count; a
    failure keeps the cursor, backs off (5 s doubling to 10 minutes, with jitter) and disables
    the endpoint once it has failed for 3 days.
    """
    now = aware(now)
    endpoint = session.get(WebhookEndpoint, item.endpoint_id, with_for_update=True, populate_existing=True)
    if endpoint is None or endpoint.lease_owner != owner:
        session.rollback()
        return False  # deleted, or the lease passed to another worker: it will send this one
    delivery = session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == item.endpoint_id, WebhookDelivery.event_id == item.event_id)).one_or_none()
    if delivery is None:
        delivery = WebhookDelivery(endpoint_id=item.endpoint_id, event_id=item.event_id, attempts=0,
                                   last_attempt_at=now)
        session.add(delivery)
    delivery.attempts = (delivery.attempts or 0) + 1
    delivery.status_code, delivery.latency_ms, delivery.last_attempt_at = outcome.status_code, outcome.latency_ms, now
    if outcome.ok:
        delivery.status, delivery.last_error, delivery.delivered_at = DELIVERED, None, now
        if not item.resend and endpoint.cursor_event_id < item.event_id:
            endpoint.cursor_event_id = item.event_id
        endpoint.failing_since, endpoint.failures, endpoint.next_attempt_at, endpoint.last_error = None, 0, None, None
    else:
        delivery.status = RESEND if item.resend else FAILED
        delivery.last_error = endpoint.last_error = (outcome.error or "failed")[:200]
        endpoint.failures = (endpoint.failures or 0) + 1
        endpoint.failing_since = endpoint.failing_since or now
        endpoint.next_attempt_at = now + backoff(endpoint.failures, rng)
        if now - endpoint.failing_since >= DISABLE_AFTER:
            endpoint.status, endpoint.disabled_reason, endpoint.disabled_at = DISABLED, FAILING_TOO_LONG, now
        endpoint.lease_owner = endpoint.lease_until = None
    session.commit()
    return outcome.ok


def backoff(failures: int, rng: random.Random | None = None) -> timedelta:
    """After the n-th failure in a row: 5 s doubling to at most 10 minutes, less up to half of
    it at random (so that endpoints failing together do not retry in step)."""
    full = min(BACKOFF_CAP.total_seconds(), BACKOFF_BASE.total_seconds() * 2 ** max(0, min(failures - 1, 20)))
    return timedelta(seconds=full * (1 - 0.5 * (rng or random).random()))
