"""「腎機能」: current drugs whose use or dose depends on kidney function, at the patient's latest
value.

RENAL_TABLE holds, per ingredient, the rules its source states: a range of a measure, what to
do there, and the source by name and section (docs/domain.md lists them with where they were
read). An ingredient whose numbers were not found has no rules and a `no_source` note: it is
never checked, rather than checked against a number nobody can point to.

Measures. Many package inserts give creatinine clearance (Ccr, mL/min, Cockcroft-Gault), not
eGFR (mL/min/1.73m², what 検査 and 特定健診 report). When no Ccr is on record the patient's eGFR
stands in for it, as the 日本腎臓病薬物療法学会 table allows (it reads Ccr in inserts as GFR), and
the line says so: the two differ for small or large bodies. Where a source words severity without
a number (「重篤な腎障害」, 「高度腎機能障害」), the rule reads it with the 日本腎臓学会's GFR categories
(高度低下 G4 = eGFR 15–29, so 「重篤」「高度」 = eGFR under 30; CKD = eGFR under 60), and the line says that too.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from consent.medication_review.current import CurrentDrug
from consent.medication_review.drug_groups import INTERNAL_FORMS, ALL_FORMS
from consent.medication_review.findings import CHECK, CONTRAINDICATED, NOTE, RENAL, Evidence, Finding
from consent.medication_review.ingredients import base_ingredient
from consent.medication_review.inputs import CCR, CREATININE, EGFR, LAB, LAB_SOURCE_LABELS, LabValue
from consent.units import EGFR_UNIT, unit_label

# A value older than this is still used, but the line says it is old.
STALE_AFTER = timedelta(days=365)
# Under this eGFR (CKD, 日本腎臓学会) the line is shown even when no current drug is in the table.
REDUCED_EGFR = 60.0

_MEASURE_NAMES = {EGFR: "eGFR", CCR: "Ccr", CREATININE: "血清クレアチニン"}
_MEASURE_UNITS = {EGFR: EGFR_UNIT, CCR: "mL/分", CREATININE: "mg/dL"}


@dataclass(frozen=True)
class Source:
    name: str  # 「メトグルコ 添付文書」, 「日本痛風・核酸代謝学会 高尿酸血症・痛風の治療ガイドライン 第2版」
    section: str  # 「禁忌 2.1」, 「用法及び用量に関連する注意 7.1」

    @property
    def text(self) -> str:
        return f"{self.name}「{self.section}」"


@dataclass(frozen=True)
class Range:
    """A range of one measure: low < or <= value < or <= high (None: unbounded)."""

    measure: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = False

    def contains(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)):
            return False
        return True

    @property
    def text(self) -> str:
        """「eGFR 30以上45未満」, 「Ccr 30以下」, 「血清クレアチニン 1.5 mg/dL以上」"""
        unit = " mg/dL" if self.measure == CREATININE else ""
        parts = []
        if self.low is not None:
            parts.append(f"{self.low:g}{unit}{'以上' if self.low_inclusive else 'を超え'}")
        if self.high is not None:
            parts.append(f"{self.high:g}{unit}{'以下' if self.high_inclusive else '未満'}")
        return f"{_MEASURE_NAMES[self.measure]} {''.join(parts)}"


def below(measure: str, high: float) -> Range:
    return Range(measure, high=high)


def at_most(measure: str, high: float) -> Range:
    return Range(measure, high=high, high_inclusive=True)


def at_least(measure: str, low: float) -> Range:
    return Range(measure, low=low)


def between(measure: str, low: float, high: float, *, low_inclusive: bool = True,
            high_inclusive: bool = False) -> Range:
    return Range(measure, low, high, low_inclusive, high_inclusive)


@dataclass(frozen=True)
class RenalRule:
    range: Range
    action: str  # what the source says to do in that range, in plain Japanese
    source: Source
    level: str = CHECK
    # When the source gives no number: how this rule reads it (the line shows it).
    reading: str = ""


@dataclass(frozen=True)
class RenalEntry:
    ingredient: str  # bare ingredient
    name: str  # how lines and the table name it
    rules: tuple[RenalRule, ...] = ()
    forms: frozenset[str] = INTERNAL_FORMS  # the forms the source speaks of (tape is not the tablet)
    no_source: str = ""  # why there are no rules

    @property
    def checked(self) -> bool:
        return bool(self.rules)


_SEVERE = "添付文書に数値の基準なし。日本腎臓学会のGFR区分で高度低下（G4）以下、eGFR 30未満として確認"
_MODERATE = "添付文書に数値の基準なし。日本腎臓学会のGFR区分で中等度低下（G3）、eGFR 30以上60未満として確認"
_ANY_CKD = "添付文書に数値の基準なし。慢性腎臓病の基準（日本腎臓学会、eGFR 60未満）として確認"

_METGLUCO = "メトホルミン塩酸塩（メトグルコ等）添付文書"
_JANUVIA = "ジャヌビア 添付文書"
_AMARYL = "アマリール 添付文書"
_JARDIANCE = "ジャディアンス 添付文書"
_GASTER = "ガスター 添付文書"
_GOUT = "日本痛風・核酸代謝学会「高尿酸血症・痛風の治療ガイドライン 第2版」"
_ELIQUIS = "エリキュース 添付文書"
_CRAVIT = "クラビット 添付文書"
_LOXONIN = "ロキソニン 添付文書"
_CELECOX = "セレコックス 添付文書"
_MAGMITT = "マグミット（酸化マグネシウム製剤）添付文書"

RENAL_TABLE: tuple[RenalEntry, ...] = (
    RenalEntry("メトホルミン", "メトホルミン", (
        RenalRule(below(EGFR, 30), "禁忌（重度の腎機能障害）", Source(_METGLUCO, "禁忌 2.1"), CONTRAINDICATED),
        RenalRule(between(EGFR, 30, 45), "治療上の有益性が危険性を上回る場合にのみ投与。少量から開始し腎機能を頻回に確認",
                  Source(_METGLUCO, "用法及び用量に関連する注意")),
        RenalRule(between(EGFR, 45, 60), "中等度の腎機能障害。少量から開始し、腎機能を頻回に確認して投与の適否と用量を検討",
                  Source(_METGLUCO, "用法及び用量に関連する注意")),
    )),
    RenalEntry("シタグリプチン", "シタグリプチン", (
        RenalRule(below(CCR, 30), "1日1回12.5mg（最大25mg）に調節", Source(_JANUVIA, "用法及び用量に関連する注意 7.1")),
        RenalRule(between(CCR, 30, 50), "1日1回25mg（最大50mg）に調節", Source(_JANUVIA, "用法及び用量に関連する注意 7.1")),
    )),
    RenalEntry("グリメピリド", "グリメピリド", (
        RenalRule(below(EGFR, 30), "禁忌（重篤な腎機能障害：低血糖のおそれ）", Source(_AMARYL, "禁忌 2.2"),
                  CONTRAINDICATED, _SEVERE),
    )),
    RenalEntry("エンパグリフロジン", "エンパグリフロジン", (
        RenalRule(below(EGFR, 30), "〈2型糖尿病〉高度腎機能障害では血糖降下作用が期待できないため投与しない",
                  Source(_JARDIANCE, "効能又は効果に関連する注意 5.3"), CHECK, _SEVERE),
        RenalRule(between(EGFR, 30, 60), "〈2型糖尿病〉中等度腎機能障害では効果が十分でない可能性：投与の必要性を慎重に判断",
                  Source(_JARDIANCE, "効能又は効果に関連する注意 5.4"), CHECK, _MODERATE),
    )),
    RenalEntry("ファモチジン", "ファモチジン", (
        RenalRule(at_most(CCR, 30), "1回20mgを2〜3日に1回、又は1回10mgを1日1回",
                  Source(_GASTER, "用法及び用量に関連する注意 7.1 腎機能低下患者への投与法")),
        RenalRule(between(CCR, 30, 60, low_inclusive=False), "1回20mgを1日1回、又は1回10mgを1日2回",
                  Source(_GASTER, "用法及び用量に関連する注意 7.1 腎機能低下患者への投与法")),
    )),
    RenalEntry("アロプリノール", "アロプリノール", (
        RenalRule(below(EGFR, 30), "腎機能の低下に応じて減量し、慎重に投与", Source(_GOUT, "第3章 尿酸降下薬の種類と選択")),
        RenalRule(at_least(CREATININE, 2.0), "腎機能の低下に応じて減量し、慎重に投与",
                  Source(_GOUT, "第3章 尿酸降下薬の種類と選択")),
    )),
    RenalEntry("アピキサバン", "アピキサバン", (
        RenalRule(below(CCR, 15), "〈非弁膜症性心房細動〉禁忌（腎不全）", Source(_ELIQUIS, "禁忌 2.4"), CONTRAINDICATED),
        RenalRule(at_least(CREATININE, 1.5),
                  "〈非弁膜症性心房細動〉減量基準の1つ（80歳以上・体重60kg以下と合わせて2つ以上なら1回2.5mg 1日2回）",
                  Source(_ELIQUIS, "用法及び用量に関連する注意 7.1")),
    )),
    RenalEntry("レボフロキサシン", "レボフロキサシン", (
        RenalRule(below(CCR, 20), "初日500mg、3日目以降は250mgを2日に1回",
                  Source(_CRAVIT, "用法及び用量に関連する注意")),
        RenalRule(between(CCR, 20, 50), "初日500mg、2日目以降は250mgを1日1回", Source(_CRAVIT, "用法及び用量に関連する注意")),
    )),
    RenalEntry("クラリスロマイシン", "クラリスロマイシン",
               no_source="国内の添付文書・学会資料で腎機能別の数値基準を確認できず（添付文書の禁忌はコルヒチン併用時のみ）"),
    RenalEntry("オセルタミビル", "オセルタミビル",
               no_source="添付文書はCcrに応じた投与法を定めるが、その数値を保存資料で確認できず"),
    RenalEntry("ロキソプロフェン", "ロキソプロフェン", (
        RenalRule(below(EGFR, 30), "禁忌（重篤な腎障害）", Source(_LOXONIN, "禁忌"), CONTRAINDICATED, _SEVERE),
    )),
    RenalEntry("セレコキシブ", "セレコキシブ", (
        RenalRule(below(EGFR, 30), "禁忌（重篤な腎障害）", Source(_CELECOX, "禁忌 2.5"), CONTRAINDICATED, _SEVERE),
    )),
    RenalEntry("酸化マグネシウム", "酸化マグネシウム", (
        RenalRule(below(EGFR, 60), "腎障害では高マグネシウム血症のおそれ：血清マグネシウム濃度の測定など",
                  Source(_MAGMITT, "特定の背景を有する患者に関する注意（腎機能障害患者）・重要な基本的注意"), CHECK, _ANY_CKD),
    ), ALL_FORMS),
)
RENAL_BY_INGREDIENT: dict[str, RenalEntry] = {entry.ingredient: entry for entry in RENAL_TABLE}


@dataclass(frozen=True)
class KidneyFunction:
    """The values the check uses: the latest eGFR, the creatinine measured with it (or the latest),
    and a measured Ccr if one is on record."""

    egfr: LabValue | None
    creatinine: LabValue | None
    ccr: LabValue | None = None

    def value(self, measure: str) -> tuple[LabValue | None, bool]:
        """(the value for `measure`, whether eGFR stands in for Ccr)."""
        if measure == EGFR:
            return self.egfr, False
        if measure == CREATININE:
            return self.creatinine, False
        if self.ccr is not None:
            return self.ccr, False
        return self.egfr, self.egfr is not None

    @property
    def summary(self) -> str:
        """「eGFR 45 mL/分/1.73m²・血清クレアチニン 1.24 mg/dL」 (and a measured Ccr, if any)"""
        parts = [_measure_text(v) for v in (self.egfr, self.creatinine, self.ccr) if v is not None]
        return "・".join(parts)

    def evidence(self) -> tuple[Evidence, ...]:
        shown = [v for v in (self.egfr, self.creatinine, self.ccr) if v is not None]
        out: list[Evidence] = []
        for v in shown:
            item = Evidence(LAB_SOURCE_LABELS[v.source], v.measured_on)
            if item not in out:
                out.append(item)
        return tuple(out)


def _measure_text(value: LabValue) -> str:
    return f"{_MEASURE_NAMES[value.measure]} {value.value:g} {unit_label(value.unit) or _MEASURE_UNITS[value.measure]}"


def _latest(values: Iterable[LabValue], measure: str) -> LabValue | None:
    # Newest first; on the same day a 検査 value before a 特定健診 one (a clinic's own measurement).
    found = [v for v in values if v.measure == measure and not math.isnan(v.value)]
    found.sort(key=lambda v: (v.measured_on, v.source == LAB), reverse=True)
    return found[0] if found else None


def kidney_function(values: Iterable[LabValue]) -> KidneyFunction:
    values = list(values)
    egfr = _latest(values, EGFR)
    same_day = [v for v in values if egfr is not None and v.measured_on == egfr.measured_on and v.source == egfr.source]
    creatinine = _latest(same_day, CREATININE) or _latest(values, CREATININE)
    return KidneyFunction(egfr, creatinine, _latest(values, CCR))


def _drug_evidence(drug: CurrentDrug) -> Evidence:
    return Evidence(f"薬剤情報（{drug.drug.source_labels}）", drug.dispensing.day)


def renal_findings(current: Iterable[CurrentDrug], kidney: KidneyFunction, *, today: date,
                   table: Iterable[RenalEntry] = RENAL_TABLE) -> list[Finding]:
    """One line per current drug with a rule that holds at the patient's values; when none holds
    and eGFR is under 60, one line saying so. Nothing without an eGFR or creatinine."""
    by_ingredient = {entry.ingredient: entry for entry in table}
    stale = kidney.egfr is not None and today - kidney.egfr.measured_on > STALE_AFTER
    old = "（1年以上前の値）" if stale else ""
    findings = []
    for drug in current:
        entry = by_ingredient.get(drug.ingredient) or by_ingredient.get(base_ingredient(drug.line.ingredient))
        if entry is None or not entry.checked or drug.line.dosage_form not in entry.forms:
            continue
        reasons, bases, level = [], [], CHECK
        for rule in entry.rules:
            value, proxy = kidney.value(rule.range.measure)
            if value is None or not rule.range.contains(value.value):
                continue
            stand_in = "（Ccrの代わりにeGFRで判定）" if proxy else ""
            reading = f"（{rule.reading}）" if rule.reading else ""
            reasons.append(f"「{rule.range.text}」{stand_in}は{rule.action}{reading}")
            if rule.source.text not in bases:
                bases.append(rule.source.text)
            if rule.level == CONTRAINDICATED:
                level = CONTRAINDICATED
        if reasons:
            findings.append(Finding(RENAL, (drug.drug_name,), f"{kidney.summary}{old}：" + "；".join(reasons),
                                    (*kidney.evidence(), _drug_evidence(drug)), level, "、".join(bases)))
    if not findings and kidney.egfr is not None and kidney.egfr.value < REDUCED_EGFR:
        findings.append(Finding(
            RENAL, (), f"{kidney.summary}{old}（eGFR 60未満）：現在の薬に、確認表で腎機能による調節が必要な薬剤はありません",
            kidney.evidence(), NOTE, "日本腎臓学会 CKDの定義（eGFR 60未満）"))
    return findings
