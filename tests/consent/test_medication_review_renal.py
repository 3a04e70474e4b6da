"""「腎機能」: every rule of the table at its thresholds (just below, at, just above)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from medication_support import TODAY, creatinine, egfr, line

from consent.medication_review.current import current_drugs
from consent.medication_review.dispensing import group_dispensings
from consent.medication_review.findings import CONTRAINDICATED, NOTE, RENAL
from consent.medication_review.inputs import CCR, CHECKUP, LAB, LabValue
from consent.medication_review.renal import RENAL_BY_INGREDIENT, RENAL_TABLE, kidney_function, renal_findings

ISSUE_INGREDIENTS = ("メトホルミン", "シタグリプチン", "グリメピリド", "エンパグリフロジン", "ファモチジン", "アロプリノール",
                     "アピキサバン", "レボフロキサシン", "クラリスロマイシン", "オセルタミビル", "ロキソプロフェン", "セレコキシブ",
                     "酸化マグネシウム")


def findings_for(ingredient: str, *values, form: str = "内服"):
    drug = line(ingredient, TODAY - timedelta(days=7), days=None if form == "外用" else 28, form=form)
    current = current_drugs(group_dispensings([drug]), TODAY)
    return [f for f in renal_findings(current, kidney_function(values), today=TODAY) if f.drugs]


def reason(ingredient: str, *values, form: str = "内服") -> str | None:
    found = findings_for(ingredient, *values, form=form)
    assert len(found) <= 1
    return found[0].reason if found else None


# (ingredient as OQS writes it, value builder, [(value, expected words or None)])
CASES = [
    ("メトホルミン塩酸塩", egfr, [
        (29.9, "禁忌"), (30, "有益性が危険性を上回る"), (30.1, "有益性が危険性を上回る"), (44.9, "有益性が危険性を上回る"),
        (45, "中等度の腎機能障害"), (45.1, "中等度の腎機能障害"), (59.9, "中等度の腎機能障害"), (60, None), (60.1, None)]),
    ("シタグリプチンリン酸塩水和物", egfr, [
        (29.9, "12.5mg"), (30, "1日1回25mg"), (30.1, "1日1回25mg"), (49.9, "1日1回25mg"), (50, None), (50.1, None)]),
    ("グリメピリド", egfr, [(29.9, "禁忌"), (30, None), (30.1, None)]),
    ("エンパグリフロジン", egfr, [
        (29.9, "高度腎機能障害"), (30, "中等度腎機能障害"), (30.1, "中等度腎機能障害"), (59.9, "中等度腎機能障害"),
        (60, None), (60.1, None)]),
    ("ファモチジン", egfr, [
        (29.9, "2〜3日に1回"), (30, "2〜3日に1回"), (30.1, "1回20mgを1日1回"), (59.9, "1回20mgを1日1回"),
        (60, None), (60.1, None)]),
    ("アロプリノール", egfr, [(29.9, "減量"), (30, None), (30.1, None)]),
    ("アロプリノール", creatinine, [(1.99, None), (2.0, "減量"), (2.01, "減量")]),
    ("アピキサバン", egfr, [(14.9, "禁忌"), (15, None), (15.1, None)]),
    ("アピキサバン", creatinine, [(1.49, None), (1.5, "減量基準"), (1.51, "減量基準")]),
    ("レボフロキサシン水和物", egfr, [
        (19.9, "2日に1回"), (20, "250mgを1日1回"), (20.1, "250mgを1日1回"), (49.9, "250mgを1日1回"), (50, None),
        (50.1, None)]),
    ("ロキソプロフェンナトリウム水和物", egfr, [(29.9, "禁忌"), (30, None), (30.1, None)]),
    ("セレコキシブ", egfr, [(29.9, "禁忌"), (30, None), (30.1, None)]),
    ("酸化マグネシウム", egfr, [(59.9, "高マグネシウム血症"), (60, None), (60.1, None)]),
]


@pytest.mark.parametrize(("ingredient", "value", "expected", "others"), [
    pytest.param(ingredient, builder(value), expected, {e for _, e in points if e and e != expected},
                 id=f"{ingredient}-{builder.__name__}-{value}")
    for ingredient, builder, points in CASES for value, expected in points
])
def test_each_rule_at_its_threshold(ingredient, value, expected, others):
    found = reason(ingredient, value)
    if expected is None:
        assert found is None
    else:
        # The band's own words, and none of a neighbouring band's (bands must not overlap).
        assert found is not None and expected in found, found
        assert not any(word in found for word in others if word not in expected), found


@pytest.mark.parametrize("ingredient", ["クラリスロマイシン", "オセルタミビルリン酸塩"])
@pytest.mark.parametrize("value", [5.0, 25.0, 45.0])
def test_a_drug_whose_numbers_were_not_found_is_never_checked(ingredient, value):
    assert findings_for(ingredient, egfr(value)) == []
    entry = RENAL_BY_INGREDIENT[ingredient.removesuffix("リン酸塩")]
    assert not entry.checked and entry.no_source


def test_the_table_covers_the_issues_ingredients_each_with_a_named_source_or_a_reason_why_not():
    assert set(ISSUE_INGREDIENTS) <= set(RENAL_BY_INGREDIENT)
    for entry in RENAL_TABLE:
        assert entry.rules or entry.no_source, entry.ingredient
        for rule in entry.rules:
            assert rule.source.name and rule.source.section, entry.ingredient
            assert "添付文書" in rule.source.name or "学会" in rule.source.name


def test_the_table_names_ingredients_as_the_simulators_drug_master_reduces_to():
    from integrations.oqs.simulator.drug_master import DRUGS
    from consent.medication_review.ingredients import base_ingredient

    master = {base_ingredient(d.ingredient) for d in DRUGS.values()}
    assert set(RENAL_BY_INGREDIENT) <= master


def test_the_line_names_the_drug_the_value_its_date_and_the_source():
    (finding,) = findings_for("メトホルミン塩酸塩", egfr(45.0, date(2026, 9, 20)), creatinine(1.24, date(2026, 9, 20)))
    assert finding.check == RENAL and finding.drugs == ("メトホルミン塩酸塩錠",)
    assert finding.text.startswith("腎機能：メトホルミン塩酸塩錠")
    assert "eGFR 45 mL/分/1.73m²" in finding.text and "「eGFR 45以上60未満」" in finding.text
    assert "検査 2026年9月20日" in finding.text  # where the value came from, and when
    assert f"薬剤情報（レセプト） {TODAY - timedelta(days=7):%Y年%-m月%-d日}" in finding.text
    assert "添付文書「用法及び用量に関連する注意」" in finding.basis


def test_a_contraindication_is_marked_as_such():
    (finding,) = findings_for("メトホルミン塩酸塩", egfr(20))
    assert finding.level == CONTRAINDICATED


def test_a_ccr_rule_says_eGFR_stood_in_and_a_measured_ccr_is_preferred():
    assert "Ccrの代わりにeGFRで判定" in reason("ファモチジン", egfr(45))
    measured = LabValue(CCR, 70.0, "mL/min", date(2026, 11, 1), LAB)
    assert reason("ファモチジン", egfr(45), measured) is None  # Ccr 70: no adjustment
    measured_low = LabValue(CCR, 25.0, "mL/min", date(2026, 11, 1), LAB)
    found = reason("ファモチジン", egfr(45), measured_low)
    assert "Ccr 25" in found and "代わり" not in found


def test_a_rule_without_a_number_in_its_source_says_how_it_was_read():
    assert "数値の基準なし" in reason("セレコキシブ", egfr(20))


def test_tape_is_not_the_tablet_a_systemic_rule_skips_it():
    assert findings_for("ロキソプロフェンナトリウム水和物", egfr(10), form="外用") == []


def test_the_latest_value_is_used_whichever_category_it_came_from():
    kidney = kidney_function([egfr(70, date(2026, 1, 10), CHECKUP), egfr(40, date(2026, 6, 1), LAB),
                              egfr(55, date(2026, 9, 1), CHECKUP), creatinine(1.1, date(2026, 9, 1), CHECKUP),
                              creatinine(1.5, date(2026, 10, 1), LAB)])
    assert kidney.egfr.value == 55 and kidney.egfr.source == CHECKUP
    assert kidney.creatinine.value == 1.1  # measured with that eGFR
    same_day = kidney_function([egfr(50, date(2026, 9, 1), CHECKUP), egfr(48, date(2026, 9, 1), LAB)])
    assert same_day.egfr.value == 48  # on one day the clinic's own test


def test_an_old_value_is_flagged_as_old():
    assert "1年以上前の値" in reason("メトホルミン塩酸塩", egfr(40, TODAY - timedelta(days=366)))
    assert "1年以上前" not in reason("メトホルミン塩酸塩", egfr(40, TODAY - timedelta(days=365)))


def test_reduced_function_without_a_table_drug_is_one_note_and_normal_function_none():
    drug = current_drugs(group_dispensings([line("アムロジピンベシル酸塩", TODAY)]), TODAY)
    (note,) = renal_findings(drug, kidney_function([egfr(59.9)]), today=TODAY)
    assert note.level == NOTE and not note.drugs and note.text.startswith("腎機能：eGFR 59.9")
    assert renal_findings(drug, kidney_function([egfr(60)]), today=TODAY) == []
    assert renal_findings(drug, kidney_function([]), today=TODAY) == []
