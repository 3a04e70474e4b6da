"""Per-request access to the app's settings, clock, relying party (and the browser's WebAuthn binding)."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

from flask import current_app, g, request
from sqlalchemy.orm import Session

from consent.clock import JST
from integrations.card.interface import CardAuthority
from consent.webauthn import RelyingParty
from integrations.oqs.interface import OQS
from store.ratelimit import count_hits, count_hits_in, limit_key
from web.config import Settings
from web.db import db
from web.errors import ApiError
from web.security import session_secret
from web.sessions import commit_with_session


def engine_of_app():
    return current_app.extensions["engine"]


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def oqs_for(session: Session) -> OQS:
    """The app's OQS (chosen by `create_app` from OQS_BACKEND), reading through `session`."""
    return current_app.extensions["integrations"].oqs(session)


def card_authority_for(session: Session) -> CardAuthority:
    """The app's card authority (chosen by `create_app` from CARD_AUTHORITY) on `session`."""
    return current_app.extensions["integrations"].card_authority(session)


def now() -> datetime:
    """The request's "now" (sandbox clock included), read once per request: in the sandbox, the
    clock of the institution the request acts for when it has one of its own."""
    if "now" not in g:
        clock = current_app.extensions["clock"]
        now_for = getattr(clock, "now_for", None)
        g.now = now_for(institution_of_request) if now_for is not None else clock.now()
    return g.now


# Blueprint name -> how that audience tells which institution a request acts for (its clock applies).
InstitutionOfRequest = Callable[[], "int | None"]


def tell_institution_of_requests(app, blueprint: str, resolve: InstitutionOfRequest) -> None:
    """Register how requests of `blueprint` name their institution (web/__init__.py wires them)."""
    app.extensions.setdefault("institution_of_request", {})[blueprint] = resolve


def institution_of_request() -> int | None:
    """The institution this request acts for, as its audience tells; None when it names none
    (a login page, the sandbox's global routes). Asked only when some institution has a clock
    of its own."""
    resolve = current_app.extensions.get("institution_of_request", {}).get(request.blueprint or "")
    return resolve() if resolve is not None else None


def wall_now() -> datetime:
    """Real time (never the sandbox clock): session lifetimes, login throttling."""
    return current_app.extensions["wall_clock"].now()


def today_jst() -> date:
    return now().astimezone(JST).date()


def relying_party() -> RelyingParty:
    s = settings()
    return RelyingParty(rp_id=s.rp_id, origins=tuple(s.origins), challenge_ttl_seconds=s.challenge_ttl_seconds)


def browser_binding() -> str:
    """A random value tying WebAuthn challenges to this browser session (the cookie alone is not
    enough: it is rotated at sign-in)."""
    return session_secret("card_binding", 24)


def client_address() -> str:
    # With TRUSTED_PROXIES, ProxyFix has made remote_addr the client's address (create_app).
    return request.remote_addr or "unknown"


def enforce_rate_limit(scope: str, subject: str, *, limit: int, window_seconds: int = 60) -> None:
    """Count a hit; refuse with 429 over the limit."""
    enforce_rate_limits([(scope, subject, limit)], window_seconds=window_seconds)


RATE_LIMITED_MESSAGE = "短時間に操作が集中しました。1分ほど待ってからもう一度お試しください。"


def _redis_counts():
    """The Redis counters when REDIS_URL is set (create_app), else None: counted in the database."""
    return current_app.extensions.get("rate_counts")


def enforce_rate_limits(rules: list[tuple[str, str, int]], *, window_seconds: int = 60) -> None:
    """Count a hit on each (scope, subject, limit) at once; 429 if any is over its limit.

    Counted in real time (not the sandbox clock), shared by all workers: in Redis when REDIS_URL
    is set, otherwise in the database in a short transaction of its own (so a refused request
    still counts). Card reads count inside their own transaction instead: count_in_request.
    """
    limits = {limit_key(scope, subject): limit for scope, subject, limit in rules}
    now_ts = time.time()
    redis_counts = _redis_counts()
    if redis_counts is not None:
        counts = redis_counts.count_hits(list(limits), window_seconds=window_seconds, now_ts=now_ts)
    else:
        request_session = g.get("db")
        if request_session is not None and request_session.in_transaction() \
                and current_app.extensions["engine"].dialect.name == "sqlite":
            # The request's SQLite transaction holds the write lock (BEGIN IMMEDIATE): counting on a
            # connection of our own now would wait for ourselves. Count before touching db().
            raise RuntimeError("enforce_rate_limits() called inside the request's database transaction")
        counts = count_hits(current_app.extensions["engine"], list(limits), window_seconds=window_seconds,
                            now_ts=now_ts)
    if _pace(limits, counts, window_seconds, now_ts):
        raise ApiError(429, "rate_limited", RATE_LIMITED_MESSAGE)


def count_in_request(rules: list[tuple[str, str, int]], *, window_seconds: int = 60) -> None:
    """Count a hit on each (scope, subject, limit) as part of the request's one write
    transaction (db()), or in Redis when REDIS_URL is set; 429 if any is over its limit.

    Call it before the request writes anything else: over a limit, the counts (and the browser
    session) alone are committed, then refused. Should the request's transaction later roll back,
    the counts are written on their own all the same (store/kept.py): a refused read still counts.
    """
    limits = {limit_key(scope, subject): limit for scope, subject, limit in rules}
    now_ts = time.time()
    redis_counts = _redis_counts()
    if redis_counts is not None:
        counts = redis_counts.count_hits(list(limits), window_seconds=window_seconds, now_ts=now_ts)
    else:
        counts = count_hits_in(db(), list(limits), window_seconds=window_seconds, now_ts=now_ts)
    if _pace(limits, counts, window_seconds, now_ts):
        commit_with_session(db())
        raise ApiError(429, "rate_limited", RATE_LIMITED_MESSAGE)


def _pace(limits: dict[str, int], counts: dict[str, int], window_seconds: int, now_ts: float) -> bool:
    """Remember the rule a client must pace itself by (RateLimit-* headers); True when over a limit."""
    # The rule closest to its limit is the one a client must pace itself by.
    key = min(limits, key=lambda k: limits[k] - counts[k])
    reset = max(1, window_seconds - int(now_ts % window_seconds))
    g.rate_limit = (limits[key], max(0, limits[key] - counts[key]), reset)
    return any(counts[k] > limit for k, limit in limits.items())


def rate_limit_headers(response):
    """RateLimit-Limit, -Remaining and -Reset on every answer of a rate-limited route (and
    Retry-After on its 429): a client paces itself instead of guessing."""
    state = g.pop("rate_limit", None)
    if state is not None:
        limit, remaining, reset = state
        response.headers["RateLimit-Limit"] = str(limit)
        response.headers["RateLimit-Remaining"] = str(remaining)
        response.headers["RateLimit-Reset"] = str(reset)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(reset)
    elif response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = "60"  # the throttles count per minute
    return response


class RequestRateLimits:
    """consent/app/ports.py's RateLimits over enforce_rate_limits (429 rate_limited when over)."""

    def hit(self, rules) -> None:
        enforce_rate_limits(list(rules))


RATE_LIMITS = RequestRateLimits()
