"""Clocks. Everything that reads the time takes one, so tests and the sandbox can move it.

The sandbox's clock (DatabaseClock) keeps its frozen instant in the database (store.models.Setting),
so every worker agrees on "now"; store/ itself knows no clock. An institution may have a clock of
its own (`institution_clocks`), which wins over the global one for everything evaluated for that
institution: QA suites running side by side each move their own institution's time."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, exists, select
from sqlalchemy.orm import Session

from consent.institution_clocks import InstitutionClock
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


_GLOBAL = select(Setting.value).where(Setting.key == CLOCK_KEY)
_GLOBAL_AND_ANY_OWN = select(_GLOBAL.scalar_subquery(), exists().select_from(InstitutionClock))

# Which institution a request acts for, asked only when some institution has a clock of its own.
InstitutionOf = Callable[[], "int | None"]


class DatabaseClock:
    """Real time, unless the sandbox froze it; the frozen instant lives in `settings`, an
    institution's own in `institution_clocks`."""

    def __init__(self, engine: Engine, fallback: Clock | None = None) -> None:
        self._engine = engine
        self._fallback = fallback or SystemClock()

    def now(self) -> datetime:
        with self._engine.connect() as conn:
            return self._global(conn.scalar(_GLOBAL))

    def _global(self, value: str | None) -> datetime:
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

    # --- an institution's own clock (the sandbox) --------------------------------------------------

    def now_for(self, institution: "int | None | InstitutionOf") -> datetime:
        """The institution's own frozen instant if it has one, else the global clock.

        `institution` may be a function naming it: it is called only when some institution has
        a clock of its own, so a request looks up whose it is only when that can matter."""
        # One round trip when no institution has a clock of its own (the common case): the global
        # setting and whether any own clock exists, read together.
        with self._engine.connect() as conn:
            value, any_own = conn.execute(_GLOBAL_AND_ANY_OWN).one()
        if any_own:
            institution_id = institution() if callable(institution) else institution
            if institution_id is not None:
                with self._engine.connect() as conn:
                    instant = conn.scalar(select(InstitutionClock.instant)
                                          .where(InstitutionClock.institution_id == institution_id))
                if instant is not None:
                    return instant.astimezone(timezone.utc)
        return self._global(value)

    def own_clocks(self) -> dict[int, datetime]:
        """Every institution with a clock of its own, and its instant (the delivery worker's sweep)."""
        with Session(self._engine) as session:
            rows = session.execute(select(InstitutionClock.institution_id, InstitutionClock.instant)).all()
        return {institution_id: instant.astimezone(timezone.utc) for institution_id, instant in rows}

    def freeze_institution(self, institution_id: int, instant: datetime) -> datetime:
        """Stop time at `instant` for this institution only, until thawed or frozen again."""
        if instant.tzinfo is None:
            raise ValueError("the instant needs a UTC offset")
        instant = instant.astimezone(timezone.utc)
        with Session(self._engine) as session, session.begin():
            begin_write(session)
            row = session.get(InstitutionClock, institution_id)
            real_now = self._fallback.now()
            if row is None:
                session.add(InstitutionClock(institution_id=institution_id, instant=instant, updated_at=real_now))
            else:
                row.instant, row.updated_at = instant, real_now
        return instant

    def thaw_institution(self, institution_id: int) -> datetime:
        """Back to the global clock for this institution; what it reads now."""
        with Session(self._engine) as session, session.begin():
            begin_write(session)
            session.execute(delete(InstitutionClock).where(InstitutionClock.institution_id == institution_id))
        return self.now()
