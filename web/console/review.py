"""The patient page's review before 服薬指導 (issue 33), built from the data the page already loaded.

The domain (consent.medication_review) makes 「確認事項」, 「現在の薬」 and the history grouped by
dispensing; this module only picks which dispensings the page shows (the last 6 months by default,
「さらに表示」 adding 6 months at a time up to the 3 years OQS holds, or the month filter), and adds
the checkup and lab charts. The view passes what it loaded (None for a category not readable).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from consent.medication_review import DISCLAIMER, Dispensing, MedicationReview, review_patient
from consent.medication_review.findings import CHECKS, CONTRAINDICATED
from consent.wareki import format_birth_date
from integrations.oqs.claims import claims_visible_until
from web.console.charts import Chart, checkup_charts, lab_charts

DEFAULT_MONTHS = 6  # the history shown at first
MORE_MONTHS = 6  # what 「さらに表示」 adds
MAX_MONTHS = 36  # what OQS holds (3 years)
PRINT_MONTHS = 3  # the print view's history


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it has fewer days)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def history_months(raw: str | None) -> int:
    """?months=12 → 12: a multiple of 6 from 6 to 36; anything else → the default 6."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 2:
        months = int(raw)
        if DEFAULT_MONTHS <= months <= MAX_MONTHS and months % MORE_MONTHS == 0:
            return months
    return DEFAULT_MONTHS


def _month_of(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"


def shown_dispensings(dispensings: Sequence[Dispensing], *, today: date, months: int,
                      drug_from: str | None = None, drug_to: str | None = None) -> list[Dispensing]:
    """The dispensings the page lists: within the month filter when one is given, otherwise those
    of the last `months` months (newest first, as the domain orders them)."""
    if drug_from or drug_to:
        return [d for d in dispensings
                if (not drug_from or _month_of(d.day) >= drug_from) and (not drug_to or _month_of(d.day) <= drug_to)]
    since = months_before(today, months)
    return [d for d in dispensings if d.day >= since]


@dataclass(frozen=True)
class ReviewLine:
    label: str  # 腎機能, アレルギー, 重複, 多剤
    text: str  # the whole line, starting with its label
    level: str  # contraindicated, check, note, not_checked


def review_lines(review: MedicationReview) -> list[ReviewLine]:
    """The lines of 「確認事項」 in the domain's order, each with how strongly it asks for attention."""
    out = []
    for check in CHECKS:
        out += [ReviewLine(f.label, f.text, f.level) for f in review.findings if f.check == check]
        out += [ReviewLine(n.label, n.text, "not_checked") for n in review.not_checked if n.check == check]
    return out


def _data(sections: Iterable[dict], category: str) -> Any:
    return next((s["data"] for s in sections if s["category"] == category and s["data"] is not None), None)


def _drug_records(drug_data: Any) -> list[Any] | None:
    if drug_data is None:
        return None
    return list(drug_data["prescriptions"]) + list(drug_data["claims"])


def review_context(sections: Sequence[dict], *, today: date, person: Any, months: int = DEFAULT_MONTHS,
                   drug_from: str | None = None, drug_to: str | None = None, scope: str = "") -> dict:
    """What the patient page (and its print view) adds for the review: `review`, `review_lines`,
    `history` (the dispensings shown), `history_more` (months for 「さらに表示」, None when all is
    shown), `checkup_charts`, `lab_charts`, `birth_date_text`. `sections` as the view builds them."""
    drugs = _drug_records(_data(sections, "drug"))
    clinical = _data(sections, "clinical")
    checkups = _data(sections, "checkup")
    review = review_patient(drugs=drugs, clinical=clinical, checkups=checkups, today=today,
                            claims_through=claims_visible_until(today), scope=scope)
    history = shown_dispensings(review.dispensings, today=today, months=months, drug_from=drug_from,
                                drug_to=drug_to)
    filtered = bool(drug_from or drug_to)
    older = (not filtered and months < MAX_MONTHS
             and any(d.day < months_before(today, months) for d in review.dispensings))
    drug_section = next((s for s in sections if s["category"] == "drug"), None)
    refusal = None
    if drug_section is None or not drug_section["decision"].allowed:
        # Without drugs nothing can be checked: say why as the drug section does (not consented,
        # expired, or a clerk's 「有資格者のみ閲覧できます」), not as if consent were missing.
        refusal = drug_section["decision"].message if drug_section is not None else "薬剤情報を閲覧できません"
    return {
        "review": review,
        "review_refusal": refusal,
        "review_lines": review_lines(review),
        "review_disclaimer": DISCLAIMER,
        "review_urgent": any(f.level == CONTRAINDICATED for f in review.findings),
        "history": history,
        "history_months": months,
        "history_more": months + MORE_MONTHS if older else None,
        "history_since": None if filtered else months_before(today, months),
        "history_earliest": months_before(today, MAX_MONTHS),
        "print_history": shown_dispensings(review.dispensings, today=today, months=PRINT_MONTHS),
        "print_since": months_before(today, PRINT_MONTHS),
        "checkup_charts": checkup_charts(checkups),
        "lab_charts": lab_charts(clinical.labs if clinical is not None else None),
        "birth_date_text": format_birth_date(person.birth_date) if person is not None and person.birth_date else "",
    }


__all__ = ["Chart", "ReviewLine", "history_months", "months_before", "review_context",
           "review_lines", "shown_dispensings"]
