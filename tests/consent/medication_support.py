"""Builders for the medication review's inputs: a drug line, a lab value, an allergy."""
from __future__ import annotations

from datetime import date

from consent.medication_review.inputs import CHECKUP, CLAIMS, CREATININE, EGFR, LAB, DrugLine, LabValue, RecordedAllergy

TODAY = date(2026, 11, 23)


def line(ingredient: str, day: date = TODAY, *, days: int | None = 28, form: str = "内服", name: str | None = None,
         prescriber: str = "本町内科クリニック", dispenser: str | None = "ひまわり薬局 本町店", source: str = CLAIMS,
         code: str | None = None, usage: str = "1日1回朝食後", dose: str = "1回1錠", prescribed_on: date | None = None,
         refill_total: int | None = None, refill_use: int | None = None) -> DrugLine:
    return DrugLine(
        dispensed_on=day, prescribed_on=prescribed_on or day, ingredient=ingredient,
        drug_name=name or f"{ingredient}錠", yj_code=code or f"code-{ingredient}-{form}", dosage_form=form,
        usage=usage, dose=dose, days=days, prescriber=prescriber, dispenser=dispenser, source=source,
        refill_total=refill_total, refill_use=refill_use)


def egfr(value: float, day: date = date(2026, 11, 1), source: str = LAB) -> LabValue:
    return LabValue(EGFR, value, "mL/min/1.73m2" if source == LAB else "mL/分/1.73m2", day, source)


def creatinine(value: float, day: date = date(2026, 11, 1), source: str = LAB) -> LabValue:
    return LabValue(CREATININE, value, "mg/dL", day, source)


def allergy(drug: str, drug_class: str = "", reaction: str = "薬疹", noted_on: date = date(2010, 4, 1)) -> RecordedAllergy:
    return RecordedAllergy(drug, drug_class, reaction, noted_on)


__all__ = ["TODAY", "line", "egfr", "creatinine", "allergy", "CHECKUP", "LAB"]
