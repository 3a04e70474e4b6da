"""Per-category consent state, as the real online qualification interface reports it.

For each category a consent carries a flag (0 同意なし, 1 同意あり, 2 同意有効期限切れ), when that
category was consented, when it expires (None: no date applies, e.g. 限度額), and once ended an
expiry reason (0 expiry, 1 institution, 2 patient, 3 use changed) and when it ended. (The code
table's flag 3, 同意取得困難, is set by the real emergency interface only: never here.)

限度額's flag is 0 or 1 only (OQSCD001, vocabulary.BINARY_FLAG): once ended it reads 0 again and
keeps its consent time, end and reason - which tell a revoked 限度額 from one never consented.

What is an event is stored (consenting, removing, revoking, a change of use); what depends on now
is derived when read: a stored flag 1 whose expiry has passed reads as flag 2 with reason 0.

Beside the categories, the per-item states (項目ごとの同意: 傷病名, 感染症, その他アレルギー等,
薬剤アレルギー等, 検査, 処方情報) are derived from the category that covers each item
(vocabulary.CONSENT_ITEMS): `item_states`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from consent.vocabulary import (
    BINARY_FLAG, CATEGORIES, CATEGORY_OF_ITEM, FLAG_CONSENTED, FLAG_ENDED, FLAG_NONE, ITEMS, NOT_EXPIRING,
    REASON_EXPIRY,
)


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

    @property
    def ended(self) -> bool:
        """Consented once and ended since (flag 2; for 限度額, flag 0 with its expiry reason) - not
        a category never consented or left out."""
        return self.flag != FLAG_CONSENTED and self.expiry_reason is not None


def _ended_flag(category: str) -> int:
    """The flag a category reads once ended: 2, or 0 for 限度額 (whose flag is 0 or 1 only)."""
    return FLAG_NONE if category in BINARY_FLAG else FLAG_ENDED


def consented(category: str, *, now: datetime, window_end: datetime | None) -> CategoryState:
    """A category consented now; 限度額 (billing data) never expires."""
    expires = None if category in NOT_EXPIRING else window_end
    return CategoryState(category, FLAG_CONSENTED, consented_at=now, expires_at=expires)


def state_at(stored: CategoryState, now: datetime, *, lapses_at: datetime | None = None) -> CategoryState:
    """The state at `now`: flag 1 past its expiry - or past the lapse of the home-visit
    relationship it belongs to (`lapses_at`) - reads as flag 2 (限度額: 0), reason 0 (期限到来)."""
    if stored.flag != FLAG_CONSENTED:
        return stored
    ends = [end for end in (stored.expires_at, lapses_at) if end is not None]
    if ends and now >= min(ends):
        return replace(stored, flag=_ended_flag(stored.category), expiry_reason=REASON_EXPIRY, ended_at=min(ends))
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
    """Every category consented at `now` ends now with `reason` (flag 2; 限度額 flag 0, keeping its
    consent time); one already past its expiry (or its relationship's lapse) keeps reason 0 from
    then. Removed categories (flag 0) stay as they are."""
    result = []
    for state in stored:
        current = state_at(state, now, lapses_at=lapses_at)
        if current.flag == FLAG_CONSENTED:
            current = replace(current, flag=_ended_flag(current.category), expiry_reason=reason, ended_at=now)
        result.append(current)
    return tuple(result)


@dataclass(frozen=True)
class ItemState:
    """One item of 項目ごとの同意 (vocabulary.CONSENT_ITEMS), as the category covering it stands:
    its flag, consent time and available-until time (the category's expiry; None when none applies)."""

    item: str
    flag: int = FLAG_NONE
    consented_at: datetime | None = None
    available_until: datetime | None = None


def item_states(states: Iterable[CategoryState]) -> tuple[ItemState, ...]:
    """Every item in vocabulary.ITEMS order, from the states of the categories (as at some instant:
    pass `current_states`' answer). An item whose category is not among `states` is flag 0."""
    by_category = {s.category: s for s in states}
    items = []
    for item in ITEMS:
        state = by_category.get(CATEGORY_OF_ITEM[item])
        if state is None:
            items.append(ItemState(item))
        else:
            items.append(ItemState(item, state.flag, state.consented_at, state.expires_at))
    return tuple(items)


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
