"""The pharmacist's review before 服薬指導, in one call: 「確認事項」, 「現在の薬」 and the history
grouped by dispensing.

    review = medication_review(lines=..., labs=..., allergies=..., today=today,
                               readable={"drug", "clinical", "checkup"})
    review.lines        # 「腎機能：…」「アレルギー：…」「重複：…」「多剤：…」, then checks not made
    review.current      # 現在の薬, newest first
    review.dispensings  # the history, newest dispensing first

`readable` names the categories the reader may see for this patient (consented, in the window,
licensed staff): a check that needs a category outside it is listed as not made, naming the
category, and the data of categories outside it is ignored even if passed.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from consent.medication_review.allergy import allergy_findings
from consent.medication_review.current import CurrentDrug, current_drugs
from consent.medication_review.dispensing import Dispensing, group_dispensings
from consent.medication_review.duplicates import duplicate_findings
from consent.medication_review.findings import ALLERGY, CHECKS, DISCLAIMER, RENAL, Finding, NotChecked
from consent.medication_review.inputs import CHECKUP, LAB, DrugLine, LabValue, RecordedAllergy
from consent.medication_review.polypharmacy import polypharmacy_findings
from consent.medication_review.renal import KidneyFunction, kidney_function, renal_findings
from consent.vocabulary import CATEGORY_LABELS

DRUG, CLINICAL, CHECKUP_CATEGORY = "drug", "clinical", "checkup"
# Which categories' data each lab source is.
_LAB_CATEGORY = {LAB: CLINICAL, CHECKUP: CHECKUP_CATEGORY}


def _labels(*categories: str) -> str:
    return "".join(f"「{CATEGORY_LABELS[c]}」" for c in categories)


@dataclass(frozen=True)
class MedicationReview:
    today: date
    findings: tuple[Finding, ...]  # in CHECKS order
    not_checked: tuple[NotChecked, ...]
    current: tuple[CurrentDrug, ...]
    dispensings: tuple[Dispensing, ...]
    kidney: KidneyFunction
    disclaimer: str = DISCLAIMER

    def findings_of(self, check: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.check == check)

    @property
    def lines(self) -> tuple[str, ...]:
        """Every line of 「確認事項」: per check its findings, or why it was not made."""
        out = []
        for check in CHECKS:
            out += [f.text for f in self.findings if f.check == check]
            out += [n.text for n in self.not_checked if n.check == check]
        return tuple(out)


def medication_review(*, lines: Iterable[DrugLine], labs: Iterable[LabValue] = (),
                      allergies: Sequence[RecordedAllergy] = (), today: date, readable: Collection[str],
                      claims_through: date | None = None, scope: str = "") -> MedicationReview:
    """The review of one patient on `today` (JST). `claims_through`: the last day whose claims the
    data holds (current.py); `scope` goes into dispensing ids (dispensing.py)."""
    readable = frozenset(readable)
    if DRUG not in readable:
        lines = ()
    dispensings = group_dispensings(lines, scope=scope)
    current = current_drugs(dispensings, today, claims_through=claims_through)
    labs = [v for v in labs if _LAB_CATEGORY.get(v.source) in readable]
    allergies = tuple(allergies) if CLINICAL in readable else ()
    kidney = kidney_function(labs)

    findings: list[Finding] = []
    not_checked: list[NotChecked] = []
    if DRUG not in readable:
        for check in CHECKS:
            not_checked.append(NotChecked(check, f"{_labels(DRUG)}の同意がありません"))
    else:
        if not ({CLINICAL, CHECKUP_CATEGORY} & readable):
            not_checked.append(NotChecked(RENAL, f"{_labels(CLINICAL, CHECKUP_CATEGORY)}の同意がありません"))
        elif kidney.egfr is None and kidney.creatinine is None and kidney.ccr is None:
            not_checked.append(NotChecked(RENAL, "eGFR・クレアチニンの記録がありません"))
        else:
            findings += renal_findings(current, kidney, today=today)
        if CLINICAL not in readable:
            not_checked.append(NotChecked(ALLERGY, f"{_labels(CLINICAL)}の同意がありません"))
        else:
            findings += allergy_findings(current, allergies)
        findings += duplicate_findings(dispensings, today, claims_through=claims_through)
        findings += polypharmacy_findings(current, today)
    order = {check: i for i, check in enumerate(CHECKS)}
    findings.sort(key=lambda f: order[f.check])  # stable: each check's lines keep their order
    return MedicationReview(today, tuple(findings), tuple(not_checked), current, dispensings, kidney)

