"""Per-category consent state, as the real online qualification interface reports it.

For each category a consent carries a flag (0 同意なし, 1 同意あり, 2 同意有効期限切れ, 3 同意取得困難),
when that category was consented, when it expires (None: no date applies, e.g. 限度額), and once
ended an expiry reason (0 expiry, 1 institution, 2 patient, 3 use changed).

What is an event is stored (consenting, removing, revoking, a change of use); what depends on now
is derived when read: a stored flag 1 whose expiry has passed reads as flag 2 with reason 0.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from consent.vocabulary import CATEGORIES, FLAG_CONSENTED, FLAG_ENDED, FLAG_NONE, NOT_EXPIRING, REASON_EXPIRY


@dataclass(frozen=True)
class CategoryState:
    """One category of one consent."""

    category: str
    flag: int = FLAG_NONE
    consented_at: datetime | None = None
    expires_at: datetime | None = None
    expiry_reason: int | None = None
    # When it stopped being flag 1 (the expiry, the revocation); None while it runs.
    ended_at: datetime | None = None

    @property
    def consented(self) -> bool:
        return self.flag == FLAG_CONSENTED


def consented(category: str, *, now: datetime, window_end: datetime | None) -> CategoryState:
    """A category consented now; 限度額 (billing data) never expires."""
    expires = None if category in NOT_EXPIRING else window_end
    return CategoryState(category, FLAG_CONSENTED, consented_at=now, expires_at=expires)


def state_at(stored: CategoryState, now: datetime, *, lapses_at: datetime | None = None) -> CategoryState:
    """The state at `now`: flag 1 past its expiry - or past the lapse of the home-visit
    relationship it belongs to (`lapses_at`) - reads as flag 2, reason 0 (期限到来)."""
    if stored.flag != FLAG_CONSENTED:
        return stored
    ends = [end for end in (stored.expires_at, lapses_at) if end is not None]
    if ends and now >= min(ends):
        return replace(stored, flag=FLAG_ENDED, expiry_reason=REASON_EXPIRY, ended_at=min(ends))
    return stored


def states_at(
    stored: Iterable[CategoryState], now: datetime, *, lapses_at: datetime | None = None
) -> tuple[CategoryState, ...]:
    """Every category in CATEGORIES order, as at `now`; one never consented here is flag 0."""
    by_category = {s.category: s for s in stored}
    return tuple(state_at(by_category.get(c) or CategoryState(c), now, lapses_at=lapses_at) for c in CATEGORIES)


def state_of(
    stored: Iterable[CategoryState], category: str, now: datetime, *, lapses_at: datetime | None = None
) -> CategoryState:
    for state in stored:
        if state.category == category:
            return state_at(state, now, lapses_at=lapses_at)
    return CategoryState(category)


def current_states(consent: Any, now: datetime) -> tuple[CategoryState, ...]:
    """Every category of a consent (or a relationship) as at `now`."""
    return states_at(consent.category_states, now, lapses_at=consent.lapses_at)


def current_state(consent: Any, category: str, now: datetime) -> CategoryState:
    return state_of(consent.category_states, category, now, lapses_at=consent.lapses_at)


def ended(
    stored: Iterable[CategoryState], *, reason: int, now: datetime, lapses_at: datetime | None = None
) -> tuple[CategoryState, ...]:
    """Every category consented at `now` ends now with `reason`; one already past its expiry (or
    its relationship's lapse) keeps reason 0 from then. Removed categories (flag 0) stay as they are."""
    result = []
    for state in stored:
        current = state_at(state, now, lapses_at=lapses_at)
        if current.flag == FLAG_CONSENTED:
            current = replace(current, flag=FLAG_ENDED, expiry_reason=reason, ended_at=now)
        result.append(current)
    return tuple(result)


# --- storage: one text column on consents, so a decision stays one row read ---------------------


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def dump(states: Iterable[CategoryState]) -> str:
    return json.dumps([
        {"category": s.category, "flag": s.flag, "consented_at": _text(s.consented_at),
         "expires_at": _text(s.expires_at), "expiry_reason": s.expiry_reason, "ended_at": _text(s.ended_at)}
        for s in states
    ], separators=(",", ":"))


def load(text: str) -> tuple[CategoryState, ...]:
    return tuple(
        CategoryState(item["category"], item["flag"], _instant(item["consented_at"]), _instant(item["expires_at"]),
                      item["expiry_reason"], _instant(item["ended_at"]))
        for item in json.loads(text)
    )


class CategoryStateList(TypeDecorator):
    """The stored states of a consent's categories (only those ever consented), as JSON text.

    Instants are stored as aware UTC ISO strings, so they read back exactly as written.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect) -> str | None:
        return None if value is None else dump(value)

    def process_result_value(self, value: str | None, dialect) -> tuple[CategoryState, ...] | None:
        return None if value is None else load(value)
