"""Fixed-window rate limits counted in the database, so all workers share one count."""
from __future__ import annotations

import hashlib
import random

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import RateLimitCounter


def limit_key(scope: str, subject: str) -> str:
    """A counter key that never stores the subject itself (addresses, card ids are personal)."""
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"{scope}:{digest}"


def hit(engine: Engine, key: str, *, limit: int, window_seconds: int, now_ts: float) -> bool:
    """Count one hit for `key`; return False when the window's limit is exceeded."""
    return hit_many(engine, {key: limit}, window_seconds=window_seconds, now_ts=now_ts) == []


def hit_many(engine: Engine, limits: dict[str, int], *, window_seconds: int, now_ts: float) -> list[str]:
    """Count one hit on each key in one statement; return the keys over their limit.

    Runs in its own short transaction so a refused request still counts, and so the
    counter is never rolled back with the request's own work.
    """
    window_start = int(now_ts // window_seconds) * window_seconds
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(RateLimitCounter)
        .values([{"key": key, "window_start": window_start, "count": 1} for key in limits])
        .on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": RateLimitCounter.count + 1},
        )
        .returning(RateLimitCounter.key, RateLimitCounter.count)
    )
    with engine.begin() as conn:
        counts = dict(conn.execute(stmt).all())
        if random.random() < 0.01:
            # Old windows are useless; sweep them now and then rather than in a cron job.
            conn.execute(
                delete(RateLimitCounter).where(RateLimitCounter.window_start < window_start - 3600)
            )
    return [key for key, limit in limits.items() if counts[key] > limit]


def current_count(engine: Engine, key: str, *, window_seconds: int, now_ts: float) -> int:
    window_start = int(now_ts // window_seconds) * window_seconds
    with Session(engine) as session:
        value = session.scalar(
            select(RateLimitCounter.count).where(
                RateLimitCounter.key == key, RateLimitCounter.window_start == window_start
            )
        )
    return value or 0
