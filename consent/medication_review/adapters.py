"""From what the console and the API already hold to the review's inputs, in one call.

The OQS results (integrations/oqs/results.py, clinical.py) reach here as objects or as their
`to_dict()` forms (dates as ISO strings); the adapters read either by field name, so the domain
does not import the integration (docs/layout.md: imports point one way, from web/ to both).

    review = review_patient(drugs=drug_records(oqs, person_id, today),    # or None when refused
                            clinical=oqs.clinical(person_id, today=today),  # or None
                            checkups=oqs.checkups(person_id, today=today),  # or None
                            today=today, claims_through=claims_visible_until(today))
"""
from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from consent.medication_review.inputs import (
    CCR, CHECKUP, CLAIMS, CREATININE, EGFR, LAB, DrugLine, LabValue, RecordedAllergy,
)
from consent.medication_review.review import CHECKUP_CATEGORY, CLINICAL, DRUG, MedicationReview, medication_review

# Lab and checkup item codes (as the simulator and real data spell them) -> the review's measures.
_MEASURES = {"egfr": EGFR, "cre": CREATININE, "creatinine": CREATININE, "ccr": CCR}


def _getter(row: Any):
    """A function reading a field of `row`, a mapping or an object (decided once per row: hot)."""
    if isinstance(row, dict) or isinstance(row, Mapping):
        return row.get
    fields = getattr(row, "__dict__", None)  # a plain (frozen) dataclass keeps its fields there
    if fields is not None:
        return fields.get
    return lambda name, default=None: getattr(row, name, default)


def _get(row: Any, name: str, default: Any = None) -> Any:
    return _getter(row)(name, default)


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def drug_line(record: Any) -> DrugLine:
    """One DrugRecord (or its dict) as a DrugLine. 院内 records have no 調剤年月日: the prescribing
    day is the day it was handed over."""
    get = _getter(record)
    prescribed = _date(get("prescribed_on"))
    dispensed = _date(get("dispensed_on")) or prescribed
    days = get("days")
    return DrugLine(
        dispensed_on=dispensed,
        prescribed_on=prescribed or dispensed,
        ingredient=get("ingredient") or "",
        drug_name=get("drug_name") or "",
        yj_code=get("drug_code") or "",
        dosage_form=get("dosage_form") or "",
        usage=get("usage") or "",
        dose=get("dose") or "",
        days=None if days is None else int(days),
        prescriber=get("prescriber") or "",
        dispenser=get("dispenser") or None,
        source=get("source") or CLAIMS,
        refill_total=get("refill_total"),
        refill_use=get("refill_use"),
        quantity=get("quantity"),
        unit=get("unit") or "",
    )


def drug_lines(records: Iterable[Any]) -> list[DrugLine]:
    return [drug_line(r) for r in records]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None  # a text value (尿蛋白 「（−）」) is not a measure the review uses
    return None if math.isnan(number) else number


def labs_from_clinical(clinical: Any) -> list[LabValue]:
    """eGFR, creatinine (and Ccr, if ever reported) from 検査 of ClinicalInfo (or its dict)."""
    out = []
    for lab in _get(clinical, "labs", ()) or ():
        measure = _MEASURES.get(str(_get(lab, "code", "")).lower())
        value = _number(_get(lab, "value"))
        day = _date(_get(lab, "tested_on"))
        if measure and value is not None and day is not None:
            out.append(LabValue(measure, value, _get(lab, "unit", "") or "", day, LAB))
    return out


def labs_from_checkups(checkups: Iterable[Any]) -> list[LabValue]:
    """eGFR and creatinine from each 特定健診 record (or its dict)."""
    out = []
    for record in checkups or ():
        day = _date(_get(record, "examined_on"))
        for item in _get(record, "items", ()) or ():
            measure = _MEASURES.get(str(_get(item, "code", "")).lower())
            value = _number(_get(item, "value"))
            if measure and value is not None and day is not None:
                out.append(LabValue(measure, value, _get(item, "unit", "") or "", day, CHECKUP))
    return out


def allergies_from_clinical(clinical: Any) -> list[RecordedAllergy]:
    return [RecordedAllergy(drug=_get(a, "drug", "") or "", drug_class=_get(a, "drug_class", "") or "",
                            reaction=_get(a, "reaction", "") or "", noted_on=_date(_get(a, "noted_on")))
            for a in (_get(clinical, "drug_allergies", ()) or ())]


def review_patient(*, drugs: Iterable[Any] | None, clinical: Any | None = None,
                   checkups: Iterable[Any] | None = None, today: date,
                   readable: Collection[str] | None = None, claims_through: date | None = None,
                   scope: str = "") -> MedicationReview:
    """The review from OQS results. Pass None for a category the reader may not see; `readable`
    defaults to the categories passed (drug, clinical, checkup). `claims_through`: the last day
    whose claims OQS holds on `today` (integrations.oqs.simulator.drug_history.claims_visible_until)."""
    if readable is None:
        readable = {c for c, data in ((DRUG, drugs), (CLINICAL, clinical), (CHECKUP_CATEGORY, checkups))
                    if data is not None}
    labs = (labs_from_clinical(clinical) if clinical is not None else []) + \
        (labs_from_checkups(checkups) if checkups is not None else [])
    return medication_review(
        lines=drug_lines(drugs or ()), labs=labs,
        allergies=allergies_from_clinical(clinical) if clinical is not None else (),
        today=today, readable=readable, claims_through=claims_through, scope=scope)
