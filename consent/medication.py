"""What a reader is shown of a person's medication, whichever OQS answers: the `drug` category
as one list (claims and e-prescription data), and the kidney function a pharmacist must heed.

Domain rules over the OQS's results; consent/ does not import integrations/, so the shapes it
reads are described here (DrugRow, DrugSources) and the OQS contract's types fit them.
"""
from __future__ import annotations

import math
from datetime import date
from typing import Protocol, TypeVar

from consent.medication_review.renal import REDUCED_EGFR


class DrugRow(Protocol):
    """What the merge reads of one drug record (integrations.oqs.results.DrugRecord)."""

    @property
    def treatment_month(self) -> str: ...  # 診療年月 YYYYMM

    @property
    def prescribed_on(self) -> date: ...

    @property
    def dispensed_on(self) -> date | None: ...


Row = TypeVar("Row", bound=DrugRow)


class DrugSources(Protocol[Row]):
    """The two sources of the `drug` category (integrations.oqs.interface.OQS has both)."""

    def drugs(self, person_id: str, *, today: date, from_ym: str | None = None,
              to_ym: str | None = None) -> list[Row]: ...

    def prescriptions(self, person_id: str, *, today: date) -> list[Row]: ...


def drug_records(oqs: DrugSources[Row], person_id: str, today: date, from_ym: str | None = None,
                 to_ym: str | None = None) -> list[Row]:
    """The `drug` category as a reader gets it: claims and e-prescription data in one list, newest
    first (by dispensing day, else prescribing day), each record naming its `source`; both are
    filtered by 診療年月."""
    claims = oqs.drugs(person_id, today=today, from_ym=from_ym, to_ym=to_ym)  # checks the months
    fresh = [r for r in oqs.prescriptions(person_id, today=today)
             if (from_ym is None or r.treatment_month >= from_ym) and (to_ym is None or r.treatment_month <= to_ym)]
    return sorted(fresh + claims, key=lambda r: r.dispensed_on or r.prescribed_on, reverse=True)


def is_reduced_kidney_function(egfr: float) -> bool:
    """eGFR under 60 mL/min/1.73m2 (CKD G3a and worse; the review's threshold too): doses of many
    drugs need checking."""
    return not math.isnan(egfr) and egfr < REDUCED_EGFR
