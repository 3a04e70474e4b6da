"""「現在の薬」: what the patient takes now.

A drug is current when its days of supply cover today, or ended within the last RECENT_DAYS days
(a patient often still has some left, or the next dispensing is not on record yet). The supply
runs from the dispensing day for its 日数, day 1 being the dispensing day: 28 days dispensed on
1 November last through 28 November (supply.py).

Claims reach OQS late (a month's claims by the 11th of the next month), so a chronic medicine
dispensed last month is often not on record yet while the patient takes it. Given `claims_through`
(the last day whose claims OQS holds), a row known only from claims counts back its grace from that
day instead of today: it stays current until its successor could have been seen. E-prescription
rows (seen the next day) always count from today. Without `claims_through` the rule is the plain one.

One row per ingredient, the newest dispensing of it: repeated prescriptions collapse into one.
Internal and external forms of one ingredient stay two rows (loxoprofen tablets and loxoprofen
tape are two medicines to talk about; the duplicate check decides whether together they matter).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from consent.medication_review.dispensing import DispensedDrug, Dispensing
from consent.medication_review.ingredients import base_ingredient
from consent.medication_review.inputs import EXTERNAL, PRESCRIPTION, DrugLine
from consent.medication_review.supply import Supply, supply_of

RECENT_DAYS = 14


def reference_day(sources: Iterable[str], today: date, claims_through: date | None) -> date:
    """The day the RECENT_DAYS grace counts back from: today, or for a claims-only row the last day
    claims are known for when that is earlier (see the module docstring)."""
    if claims_through is None or PRESCRIPTION in set(sources):
        return today
    return min(today, claims_through)


def is_current(line: DrugLine, today: date, *, claims_through: date | None = None,
               sources: Iterable[str] | None = None) -> bool:
    """Dispensed by today, and the supply reaches today (or the claims horizon) or ended at most
    RECENT_DAYS days before it. `sources`: those of the merged row (default: the line's own)."""
    return _covers(supply_of(line), reference_day(sources or (line.source,), today, claims_through), today)


def _covers(supply: Supply, reference: date, today: date) -> bool:
    return supply.first_day <= today and supply.last_day >= reference - timedelta(days=RECENT_DAYS)


def _current(drug: DispensedDrug, today: date, claims_through: date | None) -> bool:
    return _covers(drug.supply, reference_day(drug.sources, today, claims_through), today)


def form_class(line: DrugLine) -> str:
    """内用 (内服 and 頓服) or 外用."""
    return EXTERNAL if line.dosage_form == EXTERNAL else "内用"


@dataclass(frozen=True)
class CurrentDrug:
    ingredient: str  # the bare ingredient
    drug: DispensedDrug  # the newest dispensing's row (its line, sources, refill)
    dispensing: Dispensing
    supply: Supply

    @property
    def line(self) -> DrugLine:
        return self.drug.line

    @property
    def drug_name(self) -> str:
        return self.line.drug_name

    @property
    def dose(self) -> str:
        """「1回1錠」 with its 用法: 「1回1錠 1日2回朝夕食後」."""
        return " ".join(part for part in (self.line.dose, self.line.usage) if part)

    @property
    def prescriber(self) -> str:
        return self.dispensing.prescriber

    @property
    def institution(self) -> str:
        """Who dispensed it: the pharmacy, or the clinic for 院内."""
        return self.dispensing.institution

    @property
    def key(self) -> tuple[str, str]:
        return self.ingredient, form_class(self.line)

    def days_since_end(self, today: date) -> int:
        """0 while the supply covers today; else how many days ago it ended."""
        return max(0, (today - self.supply.last_day).days)


def current_drugs(dispensings: Iterable[Dispensing], today: date, *,
                  claims_through: date | None = None) -> tuple[CurrentDrug, ...]:
    """One row per ingredient (and form class) among current drugs, newest dispensing first."""
    seen: set[tuple[str, str]] = set()
    out = []
    for dispensing in sorted(dispensings, key=lambda d: d.day, reverse=True):
        for drug in dispensing.drugs:
            if not _current(drug, today, claims_through):
                continue
            key = (base_ingredient(drug.line.ingredient), form_class(drug.line))
            if key in seen:
                continue
            seen.add(key)
            out.append(CurrentDrug(key[0], drug, dispensing, drug.supply))
    return tuple(out)


def current_lines(dispensings: Iterable[Dispensing], today: date, *,
                  claims_through: date | None = None) -> tuple[tuple[DispensedDrug, Dispensing], ...]:
    """Every current row of every dispensing (not one per ingredient): what the duplicate check
    compares, since a duplicate is two dispensings of one ingredient or group."""
    return tuple((drug, dispensing) for dispensing in dispensings for drug in dispensing.drugs
                 if _current(drug, today, claims_through))
