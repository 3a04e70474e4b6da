"""「アレルギー」: a current drug with the ingredient of a recorded drug allergy, or in its
cross-reactivity group (drug_groups.ALLERGY_GROUPS).

A patient with a recorded drug allergy and no such drug gets one line, 「アレルギー：該当する薬剤なし」,
naming what was checked: the pharmacist sees the check was made.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from consent.medication_review.current import CurrentDrug
from consent.medication_review.drug_groups import allergy_groups_of, components
from consent.medication_review.findings import ALLERGY, CHECK, CONTRAINDICATED, NOTE, Evidence, Finding
from consent.medication_review.inputs import RecordedAllergy

ALLERGY_SOURCE = "薬剤アレルギー等"
NO_MATCH = "該当する薬剤なし"


def _allergy_text(allergy: RecordedAllergy) -> str:
    """「「ミノサイクリン塩酸塩」（テトラサイクリン系抗菌薬、薬疹（全身の発疹））」"""
    details = "、".join(part for part in (allergy.drug_class, allergy.reaction) if part)
    return f"「{allergy.drug}」（{details}）" if details else f"「{allergy.drug}」"


def _allergy_evidence(allergy: RecordedAllergy) -> Evidence:
    return Evidence(ALLERGY_SOURCE, allergy.noted_on)


def allergy_findings(current: Iterable[CurrentDrug], allergies: Sequence[RecordedAllergy]) -> list[Finding]:
    """One line per (current drug, allergy) that match; or one 「該当する薬剤なし」 line; nothing when
    no drug allergy is recorded."""
    if not allergies:
        return []
    findings = []
    for drug in current:
        parts = components(drug.line.ingredient)
        groups = {g.name for g in allergy_groups_of(drug.line.ingredient)}
        for allergy in allergies:
            drug_evidence = Evidence(f"薬剤情報（{drug.drug.source_labels}）", drug.dispensing.day)
            if parts & components(allergy.drug):
                findings.append(Finding(
                    ALLERGY, (drug.drug_name,), f"記録された薬剤アレルギー{_allergy_text(allergy)}と同じ成分",
                    (_allergy_evidence(allergy), drug_evidence), CONTRAINDICATED, "各添付文書「禁忌」（本剤の成分に対し過敏症の既往歴）"))
                continue
            shared = [g for g in allergy_groups_of(allergy.drug, allergy.drug_class) if g.name in groups]
            if shared:
                findings.append(Finding(
                    ALLERGY, (drug.drug_name,),
                    f"記録された薬剤アレルギー{_allergy_text(allergy)}と同じ群（{'・'.join(g.name for g in shared)}）",
                    (_allergy_evidence(allergy), drug_evidence), CHECK, "；".join(g.why for g in shared)))
    if findings:
        return findings
    checked = "、".join(_allergy_text(a) for a in allergies)
    return [Finding(ALLERGY, (), f"{NO_MATCH}（記録された薬剤アレルギー：{checked}）",
                    tuple(_allergy_evidence(a) for a in allergies), NOTE)]
