"""Fixed-window rate limits counted in the database, so all workers share one count."""
from __future__ import annotations

import hashlib
import random

from functools import lru_cache

from sqlalchemy import Engine, TextClause, select, text
from sqlalchemy.orm import Session

from store.kept import execute_kept
from store.models import RateLimitCounter


def limit_key(scope: str, subject: str) -> str:
    """A counter key that never stores the subject itself (addresses, card ids are personal)."""
    # surrogatepass: a subject straight from JSON may hold a lone surrogate ("\ud800").
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{scope}:{digest}"


def hit(engine: Engine, key: str, *, limit: int, window_seconds: int, now_ts: float) -> bool:
    """Count one hit for `key`; return False when the window's limit is exceeded."""
    return hit_many(engine, {key: limit}, window_seconds=window_seconds, now_ts=now_ts) == []


def hit_many(engine: Engine, limits: dict[str, int], *, window_seconds: int, now_ts: float) -> list[str]:
    """Count one hit on each key in one statement; return the keys over their limit.

    Runs in its own short transaction so a refused request still counts, and so the
    counter is never rolled back with the request's own work.
    """
    counts = count_hits(engine, list(limits), window_seconds=window_seconds, now_ts=now_ts)
    return [key for key, limit in limits.items() if counts[key] > limit]


def count_hits(engine: Engine, keys: list[str], *, window_seconds: int, now_ts: float) -> dict[str, int]:
    """Count one hit on each key in one statement (atomic per key); return each key's new count."""
    window_start = int(now_ts // window_seconds) * window_seconds
    params = {f"k{i}": key for i, key in enumerate(keys)}
    params["w"] = window_start
    with engine.begin() as conn:
        counts = dict(conn.execute(_upsert_statement(len(keys)), params).all())
        if random.random() < 0.01:
            # Old windows are useless; sweep them now and then rather than in a cron job.
            conn.execute(_SWEEP, {"before": window_start - 3600})
    return counts


def count_hits_in(session: Session, keys: list[str], *, window_seconds: int, now_ts: float) -> dict[str, int]:
    """Count one hit on each key in the caller's own transaction; each key's new count.

    The request's one write transaction carries its counts (no transaction of their own), and
    they stand even if that transaction rolls back (store/kept.py). On PostgreSQL the counter
    rows stay locked until it ends: callers count first and keep the transaction short.
    """
    window_start = int(now_ts // window_seconds) * window_seconds
    params = {f"k{i}": key for i, key in enumerate(keys)}
    params["w"] = window_start
    counts = dict(execute_kept(session, _upsert_statement(len(keys)), params).all())
    if random.random() < 0.01:
        session.connection().execute(_SWEEP, {"before": window_start - 3600})
    return counts


class CounterUnavailable(Exception):
    """The rate-limit store (Redis) cannot be reached: the request is answered 503, not let through."""


class RedisCounts:
    """Fixed-window counters in Redis (REDIS_URL): no database write for a rate limit at all.

    INCR is atomic per key, so every worker (and machine) shares one count; a window's key
    expires after two windows. `prefix` keeps deployments (and test runs) sharing a Redis apart.
    """

    def __init__(self, url: str, *, prefix: str = "mynareception:") -> None:
        import redis

        self.prefix = prefix + "ratelimit:"
        # A person is waiting: fail within a second rather than hang on a silent Redis.
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._errors = redis.RedisError

    def count_hits(self, keys: list[str], *, window_seconds: int, now_ts: float) -> dict[str, int]:
        window_start = int(now_ts // window_seconds) * window_seconds
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            name = f"{self.prefix}{key}:{window_start}"
            pipe.incr(name)
            pipe.expire(name, 2 * window_seconds)
        try:
            results = pipe.execute()
        except self._errors as exc:
            raise CounterUnavailable(type(exc).__name__) from exc
        return {key: int(results[2 * i]) for i, key in enumerate(keys)}

    def current_count(self, key: str, *, window_seconds: int, now_ts: float) -> int:
        window_start = int(now_ts // window_seconds) * window_seconds
        try:
            value = self.client.get(f"{self.prefix}{key}:{window_start}")
        except self._errors as exc:
            raise CounterUnavailable(type(exc).__name__) from exc
        return int(value or 0)

    def ping(self) -> None:
        try:
            self.client.ping()
        except self._errors as exc:
            raise CounterUnavailable(type(exc).__name__) from exc


def uncount_hits(engine: Engine, keys: list[str], *, window_seconds: int, now_ts: float) -> None:
    """Take back one hit on each key, in the window `now_ts` fell in (a reserved attempt that
    turned out not to count)."""
    window_start = int(now_ts // window_seconds) * window_seconds
    with engine.begin() as conn:
        conn.execute(_UNCOUNT, [{"k": key, "w": window_start} for key in keys])


# Every card read and login counts here: plain SQL built once per key count keeps the
# statement off SQLAlchemy's per-call construction path. The syntax (ON CONFLICT ... RETURNING)
# is the same on SQLite 3.35+ and PostgreSQL.
_SWEEP = text("DELETE FROM rate_limit_counters WHERE window_start < :before")
_UNCOUNT = text("UPDATE rate_limit_counters SET count = count - 1 WHERE key = :k AND window_start = :w AND count > 0")


@lru_cache(maxsize=8)
def _upsert_statement(n_keys: int) -> TextClause:
    rows = ", ".join(f"(:k{i}, :w, 1)" for i in range(n_keys))
    return text(
        f"INSERT INTO rate_limit_counters (key, window_start, count) VALUES {rows} "
        "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + 1 "
        "RETURNING key, count"
    )


def current_count(engine: Engine, key: str, *, window_seconds: int, now_ts: float) -> int:
    window_start = int(now_ts // window_seconds) * window_seconds
    with Session(engine) as session:
        value = session.scalar(
            select(RateLimitCounter.count).where(
                RateLimitCounter.key == key, RateLimitCounter.window_start == window_start
            )
        )
    return value or 0
