"""Per-category consent state as pages show it (console patient page, patient 同意照会・更新), and
read decisions with their words."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent.decision import Decision
from web.error_messages import decision_message
from web.staff_session import current_staff

from consent.vocabulary import (
    CATEGORY_LABELS, CATEGORY_OF_ITEM, CONSENT_FLAGS, CONSENT_FLAGS_PLAIN, EXPIRY_REASONS, FLAG_CONSENTED,
    FLAG_ENDED, FLAG_NONE, ITEM_LABELS, NO_EXPIRY_LABEL, NOT_CONSENTED_LABEL, NOT_EXPIRING, REASON_EXPIRY, REVOCATION_REASONS, REVOKED_LABEL,
)
from consent.category_states import CategoryState, current_states, item_states
from consent.window import deadline_text, format_jst

# 閲覧期限 of a category of a home-visit relationship: no date, it runs while the visits go on.
WHILE_VISITS_LABEL = "訪問診療等が続く間"
# ... and once it ended (訪問終了, 取消): when and why, no lapse.
ENDED_LABEL = "終了しました"
# NotAsked's reason: never a Decision's (consent/decision.py REASONS).
NOT_ASKED = "not_asked"


@dataclass(frozen=True)
class NotAsked:
    """In place of a read decision: a category the patient never consented to, which a page does
    not request (nothing is audited) and shows as 「同意の対象外」."""

    category: str
    allowed: bool = False
    reason: str = NOT_ASKED
    message: str = NOT_CONSENTED_LABEL


def insurance_keys_text(symbol: str | None, number: str | None, branch: str | None) -> str:
    """記号・番号・枝番 as one line, a missing part named (「記号なし・60732944・枝番なし」), never 「・60732944・」."""
    return "・".join(value or f"{name}なし" for name, value in (("記号", symbol), ("番号", number), ("枝番", branch)))


def ended_label(consent: Any) -> str:
    """When and why a consent ended by someone's act (訪問終了, 取消): 「2026年12月4日 10:00（医療機関等による取消）」;
    "" while it has not."""
    if consent.revoked_at is None:
        return ""
    reason = REVOCATION_REASONS.get(consent.revocation_reason or 0)
    return format_jst(consent.revoked_at) + (f"（{reason}）" if reason else "")


@dataclass(frozen=True)
class Worded:
    """A read decision as a page shows it: the Decision's fields, and `message` in Japanese
    (web/error_messages.py's decision_message; "" when allowed)."""

    decision: Decision

    @property
    def message(self) -> str:
        staff = current_staff()  # the console names its own licensed role (医師, 薬剤師...)
        return decision_message(self.decision, staff.institution_kind if staff is not None else None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decision, name)


def worded(decisions: list[Decision]) -> list[Worded]:
    return [Worded(d) for d in decisions]


def deadline_label(consent: Any) -> str:
    """閲覧期限 as pages write it (まで included): a date, or - for a home-visit relationship - while
    the visits go on, with the instant it lapses unless a visit is recorded before (when the
    institution sets a lapse: without one, while the visits go on, no more). An ended relationship
    has no lapse ahead: when and why it ended."""
    if consent.relationship and consent.revoked_at is not None:
        return f"{ENDED_LABEL} {ended_label(consent)}"
    if consent.relationship and consent.lapses_at is None:
        return WHILE_VISITS_LABEL
    if consent.relationship:
        return f"{WHILE_VISITS_LABEL}（訪問の記録がないままなら {deadline_text(consent.lapses_at)}まで）"
    return f"{deadline_text(consent.window_end)}まで"


def flag_words(state: CategoryState, *, plain: bool = False) -> str:
    """A category's flag in words. The console: the interface's word, and for a flag that is not 1
    whether it was revoked (「取消」, from the expiry reason) or never consented (「同意の対象外」) - a
    revoked 限度額 reads flag 0 like one never consented, and only its expiry reason tells them
    apart. The patient (`plain`): 「終了しました」 for anything that ended, whatever its flag."""
    if plain:
        return CONSENT_FLAGS_PLAIN[FLAG_ENDED if state.ended else state.flag]
    word = CONSENT_FLAGS[state.flag]
    if state.flag == FLAG_CONSENTED:
        return word
    if state.ended and state.expiry_reason != REASON_EXPIRY:
        return f"{word}（{REVOKED_LABEL}）"
    if state.flag == FLAG_NONE and not state.ended:
        return f"{word}（{NOT_CONSENTED_LABEL}）"
    return word


def category_rows(consent: Any, now: datetime, *, plain: bool = False) -> list[dict[str, Any]]:
    """One row per category: label, flag (in words), consented at, 閲覧期限 (or 期限なし), reason.

    `plain`: the patient's words for the flag instead of the interface's.
    """
    rows = []
    for state in current_states(consent, now):
        if state.flag != FLAG_CONSENTED and not state.ended:
            deadline = ""
        elif state.expires_at is None and consent.relationship and state.category not in NOT_EXPIRING:
            deadline = WHILE_VISITS_LABEL
        elif state.expires_at is None:
            deadline = NO_EXPIRY_LABEL
        else:
            deadline = f"{deadline_text(state.expires_at)}まで"
        rows.append({
            "category": state.category,
            "label": CATEGORY_LABELS[state.category],
            "flag": state.flag,
            # Consented once (running or ended): a revoked 限度額 is flag 0 and still worth a line.
            "shown": state.flag != 0 or state.ended,
            "flag_text": flag_words(state, plain=plain),
            "consented_at": format_jst(state.consented_at) if state.consented_at else "",
            "deadline": deadline,
            "reason": EXPIRY_REASONS[state.expiry_reason] if state.ended else "",
            "ended_at": format_jst(state.ended_at) if state.ended and state.ended_at else "",
        })
    return rows


def item_rows(consent: Any, now: datetime) -> list[dict[str, Any]]:
    """項目ごとの同意 (2025): one row per item (vocabulary.CONSENT_ITEMS) - label, flag, consented
    at, available until - as the category covering it stands at `now`."""
    states = current_states(consent, now)
    by_category = {s.category: s for s in states}
    rows = []
    # An item of a home-visit relationship has no date either: it runs while the visits go on.
    no_date = WHILE_VISITS_LABEL if consent.relationship else NO_EXPIRY_LABEL
    for item in item_states(states):
        state = by_category[CATEGORY_OF_ITEM[item.item]]
        rows.append({
            "item": item.item,
            "label": ITEM_LABELS[item.item],
            "category_label": CATEGORY_LABELS[state.category],
            "flag": item.flag,
            "flag_text": flag_words(state),
            "consented_at": format_jst(item.consented_at) if item.consented_at else "",
            "available_until": (f"{deadline_text(item.available_until)}まで" if item.available_until
                                else (no_date if item.flag == FLAG_CONSENTED else "")),
        })
    return rows


def certificate_result(found) -> dict:
    """The template variables of 「資格確認書で確認」's answer (templates/certificate_result.html):
    the qualification, when it was confirmed, and what is not shared and why. `found`: a
    consent.app.certificate.CertificateConfirmation that found the person."""
    from consent.vocabulary import CERTIFICATE_NO_DATA, CERTIFICATE_NO_DATA_HEADING, CERTIFICATE_NO_DATA_WHY, VALID_CODES

    q = found.qualification
    return {"q": q, "valid": q.validity_code in VALID_CODES, "confirmed_at": found.consent.qualification_confirmed_at,
            "consent_id": found.consent.id, "no_data": CERTIFICATE_NO_DATA, "no_data_why": CERTIFICATE_NO_DATA_WHY,
            "no_data_heading": CERTIFICATE_NO_DATA_HEADING}
