"""What a use case reports to or asks of the outside: small Protocols implemented in web/.

consent/ stays free of Prometheus and of the request's rate-limit counters; the view hands its
implementations in (web/metrics.py is a `Metrics`, web/context.py's `RATE_LIMITS` a `RateLimits`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Metrics(Protocol):
    def read_decided(self, allowed: bool, reason: str | None) -> None:
        """One read decided (allowed, or refused with its reason code)."""

    def consent_event(self, event: str, count: int = 1) -> None:
        """Consents `registered`, `updated` or `revoked`."""


class RateLimits(Protocol):
    def hit(self, rules: Sequence[tuple[str, str, int]]) -> None:
        """Count one hit on each (scope, subject, per-minute limit); raise when any is over.

        Called before the use case touches its session (SQLite's write lock is taken there)."""


class NoMetrics:
    """Counts nothing (scripts and tests that do not look at metrics)."""

    def read_decided(self, allowed: bool, reason: str | None) -> None:
        pass

    def consent_event(self, event: str, count: int = 1) -> None:
        pass


class BrowserSessions(Protocol):
    def end_sessions_of_staff(self, db_session: "Session", staff_id: int) -> None:
        """End every browser session of a staff member, in the caller's transaction."""
