"""E-prescription data (電子処方箋 処方・調剤情報), derived on read from the person's seed.

The same prescriptions as the claims-based drug history (drug_history.py), but seen the day after
dispensing rather than a month and a half later, and only for up to 100 days: the records whose
prescriber issues e-prescriptions, never 院内処方. Some chronic prescriptions are リフィル処方箋:
the doctor sees the patient once and the pharmacy dispenses the same prescription two or three
times, so the later uses carry the first use's 処方年月日.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import lru_cache

from integrations.oqs.results import DrugRecord
from integrations.oqs.simulator.drug_history import chronic_rhythm, chronic_visit, dispensings, providers_of
from integrations.oqs.simulator.facts import PersonFacts
from integrations.oqs.simulator.seeding import derive, rng_for

DAYS_BACK = 100  # 「直後から最大100日前まで」
LAG_DAYS = 1  # a dispensing is registered by the pharmacy the same day; we show it the next day


def prescription_window(today: date) -> tuple[date, date]:
    """(first, last) dispensing day whose e-prescription data is visible on `today`."""
    return today - timedelta(days=DAYS_BACK), today - timedelta(days=LAG_DAYS)


def _issues_e_prescriptions(seed: int, prescriber: str) -> bool:
    # Per (person, clinic) rather than per clinic alone: the names are per person anyway.
    return derive(seed, "e_prescription", prescriber) % 10 < 6


def _refill_total(seed: int) -> int | None:
    """Some people on a stable chronic regimen get リフィル処方箋 of 2 or 3 uses."""
    rng = rng_for(seed, "refill")
    return rng.choice([2, 3]) if rng.random() < 0.3 else None


def _refill(facts: PersonFacts, record: DrugRecord, chronic_prescribers: tuple[str, ...]) -> dict:
    """Visit k of the chronic rhythm is use (k mod n) + 1 of a refill prescription written at the
    first use's visit; {} for a record that is not part of one."""
    total = _refill_total(facts.seed)
    if total is None or record.prescriber not in chronic_prescribers or record.dosage_form != "内服":
        return {}
    interval, anchor = chronic_rhythm(facts.seed)
    k = round((record.prescribed_on.toordinal() - anchor) / interval)
    if record.days != interval or chronic_visit(facts.seed, k) != record.prescribed_on:
        return {}
    use = k % total + 1
    return {"refill_total": total, "refill_use": use, "prescribed_on": chronic_visit(facts.seed, k - use + 1)}


@lru_cache(maxsize=512)
def _records(facts: PersonFacts, today: date) -> tuple[DrugRecord, ...]:
    first, last = prescription_window(today)
    providers = providers_of(facts)
    chronic_prescribers = (providers.home, providers.hospital)
    out = []
    for record in dispensings(facts, first=first, last=last):
        if record.dispensing != "院外" or not _issues_e_prescriptions(facts.seed, record.prescriber):
            continue
        out.append(replace(record, source="prescription", **_refill(facts, record, chronic_prescribers)))
    out.sort(key=lambda r: (r.dispensed_on, r.prescriber, r.drug_code), reverse=True)
    return tuple(out)


def prescription_history(facts: PersonFacts, *, today: date) -> list[DrugRecord]:
    """E-prescription dispensings visible on `today` (up to 100 days back), newest first."""
    return list(_records(facts, today))
