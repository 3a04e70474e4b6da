"""What a card inquiry answers (資格有効性): the one rule the simulator and the generator share.

It lives apart from both: the simulator answers inquiries with it, and the generator checks
with it that a planned person answers as asked.
"""
from __future__ import annotations

from datetime import date

from integrations.oqs import codes
from integrations.oqs.simulator import benefits


def decide_card(quals, today: date) -> tuple[int, object | None, list]:
    """(validity, the qualification described, other matches) of a card inquiry on `today`.

    Medical aid in force answers 1 here; the caller turns it into 6 where not entrusted.
    Works on stored qualifications and on plans alike (same attribute names).
    """
    ordered = sorted(quals, key=lambda q: (q.qualification_date, getattr(q, "id", None) or 0))
    started = [q for q in ordered if q.qualification_date <= today]
    if not started:
        return codes.NO_QUALIFICATION, None, []
    valid = [q for q in started if benefits.in_force(q, today)]
    insurance = [q for q in valid if q.kind != "medical_aid"]
    if len(insurance) > 1:
        newest, *older = list(reversed(insurance))
        return codes.SEVERAL_MATCH, newest, older
    if valid:
        return codes.VALID, (insurance[0] if insurance else valid[-1]), []
    latest = started[-1]
    newer = any(q.qualification_date > latest.qualification_date for q in ordered)
    return (codes.INVALID_NEWER if newer else codes.INVALID), latest, []


def card_records(quals, today: date) -> list:
    """Every record a card inquiry on `today` returns, the one `decide_card` describes first.

    A person with health insurance and medical aid in force (併用) gets both (docs/sources.md [004]:
    「医療保険と医療扶助の両方の資格が表示されます」); everyone else one record, or none (4).
    """
    code, chosen, _ = decide_card(quals, today)
    if chosen is None:
        return []
    records = [chosen]
    if code == codes.VALID and chosen.kind != "medical_aid":
        aid = [q for q in quals if q.kind == "medical_aid" and benefits.in_force(q, today)]
        records += aid[-1:]
    return records
