"""Per-category consent state as pages show it (console patient page, patient 同意照会・更新)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from consent.vocabulary import (
    CATEGORY_LABELS, CONSENT_FLAGS, CONSENT_FLAGS_PLAIN, EXPIRY_REASONS, FLAG_ENDED, FLAG_NONE, NO_EXPIRY_LABEL,
)
from consent.category_states import states_at
from consent.window import deadline_text, format_jst


def category_rows(consent: Any, now: datetime, *, plain: bool = False) -> list[dict[str, Any]]:
    """One row per category: label, flag (in words), consented at, 閲覧期限 (or 期限なし), reason.

    `plain`: the patient's words for the flag instead of the interface's.
    """
    words = CONSENT_FLAGS_PLAIN if plain else CONSENT_FLAGS
    rows = []
    for state in states_at(consent.category_states, now):
        if state.flag == FLAG_NONE:
            deadline = ""
        elif state.expires_at is None:
            deadline = NO_EXPIRY_LABEL
        else:
            deadline = f"{deadline_text(state.expires_at)}まで"
        ended = state.flag == FLAG_ENDED and state.expiry_reason is not None
        rows.append({
            "category": state.category,
            "label": CATEGORY_LABELS[state.category],
            "flag": state.flag,
            "flag_text": words[state.flag],
            "consented_at": format_jst(state.consented_at) if state.consented_at else "",
            "deadline": deadline,
            "reason": EXPIRY_REASONS[state.expiry_reason] if ended else "",
            "ended_at": format_jst(state.ended_at) if ended and state.ended_at else "",
        })
    return rows
