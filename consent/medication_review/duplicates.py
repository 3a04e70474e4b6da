"""「重複」: the same ingredient, or two drugs of one therapeutic group (drug_groups.DUPLICATE_GROUPS),
dispensed by different prescribers or pharmacies with days of supply that overlap.

Only current dispensings are compared (current.is_current): a duplicate that ended months ago is
history, not something to check before today's guidance. The same ingredient counts within one
form class (an oral antihistamine and its eye drops are not a duplicate); a group says which
forms it covers (NSAIDs: oral and topical together). A pair seen in several dispensings (a
monthly prescription from each clinic) is one line, naming the newest dispensings.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from consent.medication_review.current import current_lines, form_class
from consent.medication_review.dispensing import DispensedDrug, Dispensing
from consent.medication_review.drug_groups import DUPLICATE_GROUPS, DuplicateGroup, components
from consent.medication_review.findings import CHECK, DUPLICATE, Evidence, Finding
from consent.medication_review.ingredients import base_ingredient
from consent.medication_review.inputs import AS_NEEDED
from consent.wareki import japanese_date


def _days_text(drug: DispensedDrug) -> str:
    line = drug.line
    if line.days is None:
        return "日数の記載なし"
    return f"{line.days}回分" if line.dosage_form == AS_NEEDED else f"{line.days}日分"


def _where(drug: DispensedDrug, dispensing: Dispensing) -> str:
    """「ロキソプロフェンNa錠60mg「サワイ」（西新井整形外科・あおば薬局 大田店、2026年10月1日、14日分）」"""
    place = dispensing.prescriber if dispensing.in_house else f"{dispensing.prescriber}・{dispensing.pharmacy}"
    return f"{drug.line.drug_name}（{place}、{japanese_date(dispensing.day)}、{_days_text(drug)}）"


def _why(a: DispensedDrug, b: DispensedDrug, groups: Iterable[DuplicateGroup]) -> str | None:
    if form_class(a.line) == form_class(b.line):
        same = components(a.line.ingredient) & components(b.line.ingredient)
        if same:
            return f"同じ成分（{'・'.join(sorted(same))}）"
    ka = (base_ingredient(a.line.ingredient), a.line.dosage_form)
    kb = (base_ingredient(b.line.ingredient), b.line.dosage_form)
    names = [g.name for g in groups if g.pairs(ka, kb)]
    return f"同じ群（{'・'.join(names)}）" if names else None


def duplicate_findings(dispensings: Iterable[Dispensing], today: date, *, claims_through: date | None = None,
                       groups: Iterable[DuplicateGroup] = DUPLICATE_GROUPS) -> list[Finding]:
    groups = tuple(groups)
    newest_first = sorted(dispensings, key=lambda d: d.day, reverse=True)
    rows = current_lines(newest_first, today, claims_through=claims_through)
    newest: dict[tuple, tuple] = {}
    for i, (a, da) in enumerate(rows):
        for b, db in rows[i + 1:]:
            if da.dispensing_id == db.dispensing_id:
                continue
            other_prescriber = da.prescriber != db.prescriber
            if not other_prescriber and da.institution == db.institution:
                continue
            if not a.supply.overlaps(b.supply):
                continue
            why = _why(a, b, groups)
            if why is None:
                continue
            # The newer dispensing first; one line per pair of drugs and places.
            (a2, da2), (b2, db2) = sorted(((a, da), (b, db)), key=lambda r: r[1].day, reverse=True)
            key = (why, base_ingredient(a2.line.ingredient), da2.prescriber, da2.institution,
                   base_ingredient(b2.line.ingredient), db2.prescriber, db2.institution)
            mirrored = (why, *key[4:], *key[1:4])
            if key in newest or mirrored in newest:
                continue  # rows come newest dispensing first: the first pair seen is the newest
            newest[key] = (why, a2, da2, b2, db2, other_prescriber)
    findings = []
    for why, a, da, b, db, other_prescriber in newest.values():
        who = "別の処方元" if other_prescriber else "別の薬局"
        reason = f"{why}の薬が{who}から：{_where(a, da)}と{_where(b, db)}の服用期間が重なります"
        evidence = (Evidence(f"薬剤情報（{a.source_labels}）", da.day), Evidence(f"薬剤情報（{b.source_labels}）", db.day))
        findings.append(Finding(DUPLICATE, (a.line.drug_name, b.line.drug_name), reason, evidence, CHECK))
    return findings
