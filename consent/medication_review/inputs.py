"""What the medication review reads: drug lines, lab values and recorded drug allergies.

Small typed records, independent of where they came from: adapters.py builds them from the OQS
results the console and the API already hold (DrugRecord, ClinicalInfo, CheckupRecord, or their
`to_dict()` forms).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consent.vocabulary import CATEGORY_LABELS

# Where a drug line comes from (the same words as the API's `source`).
CLAIMS, PRESCRIPTION = "claims", "prescription"
SOURCES = (CLAIMS, PRESCRIPTION)
SOURCE_LABELS = {CLAIMS: "レセプト", PRESCRIPTION: "電子処方箋"}

# 剤形区分 as OQS writes it.
ORAL, AS_NEEDED, EXTERNAL = "内服", "頓服", "外用"


@dataclass(frozen=True)
class DrugLine:
    """One drug of one dispensing, as one source reported it."""

    dispensed_on: date  # 調剤年月日; the prescribing day for 院内 (dispensed in house, no pharmacy)
    prescribed_on: date  # 処方年月日 (for a later use of a リフィル処方箋, the first use's day)
    ingredient: str  # 成分名 as written (「メトホルミン塩酸塩」)
    drug_name: str  # 「メトホルミン塩酸塩錠250mgMT「日医工」」
    yj_code: str  # 個別医薬品コード
    dosage_form: str  # 内服 / 頓服 / 外用
    usage: str  # 用法
    dose: str  # 用量 (「1回1錠」)
    days: int | None  # 日数 (内服), 回数 (頓服); None for external use
    prescriber: str  # 処方した医療機関
    dispenser: str | None  # 調剤した薬局; None when dispensed in house (院内)
    source: str = CLAIMS  # claims | prescription
    refill_total: int | None = None  # リフィル処方箋の総使用回数
    refill_use: int | None = None  # which use this dispensing is (1-based)
    quantity: float | None = None
    unit: str = ""

    @property
    def dispensing_institution(self) -> str:
        """Who handed the medicine over: the pharmacy, or the clinic itself for 院内."""
        return self.dispenser or self.prescriber

    @property
    def external(self) -> bool:
        return self.dosage_form == EXTERNAL

    @property
    def refill(self) -> bool:
        return self.refill_total is not None


@dataclass(frozen=True)
class LabValue:
    """One measured value: from 検査 (the clinical category) or from 特定健診 (checkups)."""

    measure: str  # EGFR, CREATININE, CCR (see below)
    value: float
    unit: str
    measured_on: date
    source: str  # LAB or CHECKUP


# Measures the review uses, and where a value was read.
EGFR, CREATININE, CCR = "egfr", "creatinine", "ccr"
LAB, CHECKUP = "lab", "checkup"
# How a line names where a value came from: 検査 (part of 診療・アレルギー・検査), or the checkups' label.
LAB_SOURCE_LABELS = {LAB: "検査", CHECKUP: CATEGORY_LABELS["checkup"]}


@dataclass(frozen=True)
class RecordedAllergy:
    """薬剤アレルギー等: the drug (and its class as recorded), the reaction and when it was noted."""

    drug: str
    drug_class: str
    reaction: str
    noted_on: date | None
