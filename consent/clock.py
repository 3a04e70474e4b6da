"""Clocks. Everything that reads the time takes one, so tests and the sandbox can move it.

The sandbox's clock (DatabaseClock) keeps its frozen instant in the database (store.models.Setting),
so every worker agrees on "now"; store/ itself knows no clock."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from store.engine import begin_write
from store.models import Setting

# Japan has no daylight saving time, but naming the zone keeps the intent readable.
JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until moved (tests)."""

    def __init__(self, instant: datetime) -> None:
        self.set(instant)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._instant = instant.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._instant


def today_jst(clock: Clock) -> date:
    return clock.now().astimezone(JST).date()


# The sandbox clock: a frozen instant kept in the database so every worker sees the same time.
CLOCK_KEY = "sandbox_clock"


class DatabaseClock:
    """Real time, unless the sandbox froze it; the frozen instant lives in `settings`."""

    def __init__(self, engine: Engine, fallback: Clock | None = None) -> None:
        self._engine = engine
        self._fallback = fallback or SystemClock()

    def now(self) -> datetime:
        with Session(self._engine) as session:
            value = session.scalar(select(Setting.value).where(Setting.key == CLOCK_KEY))
        if value is None:
            return self._fallback.now()
        return datetime.fromisoformat(value).astimezone(timezone.utc)

    def freeze(self, instant: datetime) -> datetime:
        """Stop time at `instant` for every worker until thawed or frozen again."""
        if instant.tzinfo is None:
            raise ValueError("the instant needs a UTC offset")
        instant = instant.astimezone(timezone.utc)
        with Session(self._engine) as session, session.begin():
            begin_write(session)
            row = session.get(Setting, CLOCK_KEY)
            real_now = self._fallback.now()
            if row is None:
                session.add(Setting(key=CLOCK_KEY, value=instant.isoformat(), updated_at=real_now))
            else:
                row.value = instant.isoformat()
                row.updated_at = real_now
        return instant

    def thaw(self) -> None:
        """Back to real time."""
        with Session(self._engine) as session, session.begin():
            session.execute(delete(Setting).where(Setting.key == CLOCK_KEY))
