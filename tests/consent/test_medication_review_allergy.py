"""「アレルギー」: a current drug with a recorded allergy's ingredient or in its cross-reactivity group."""
from __future__ import annotations

from datetime import timedelta

import pytest
from medication_support import TODAY, allergy, line

from consent.medication_review.allergy import allergy_findings
from consent.medication_review.current import current_drugs
from consent.medication_review.dispensing import group_dispensings
from consent.medication_review.drug_groups import ALLERGY_GROUPS, allergy_groups_of
from consent.medication_review.findings import CHECK, CONTRAINDICATED, NOTE


def check(allergies, *lines):
    return allergy_findings(current_drugs(group_dispensings(lines), TODAY), allergies)


def test_the_same_ingredient_is_named_with_the_allergy_and_marked_contraindicated():
    (finding,) = check([allergy("ロキソプロフェンナトリウム", "非ステロイド性抗炎症薬", "蕁麻疹")],
                       line("ロキソプロフェンナトリウム水和物", name="ロキソプロフェンNa錠60mg「サワイ」"))
    assert finding.text.startswith("アレルギー：ロキソプロフェンNa錠60mg「サワイ」")
    assert "「ロキソプロフェンナトリウム」（非ステロイド性抗炎症薬、蕁麻疹）と同じ成分" in finding.reason
    assert finding.level == CONTRAINDICATED
    assert "薬剤アレルギー等 2010年4月1日" in finding.text  # where the allergy is recorded, and since when


@pytest.mark.parametrize(("recorded", "recorded_class", "current", "group"), [
    ("ベンジルペニシリン", "", "アモキシシリン水和物", "ペニシリン系抗菌薬"),
    ("セファクロル", "セフェム系抗菌薬", "セフカペン　ピボキシル塩酸塩水和物", "セフェム系抗菌薬"),
    ("ミノサイクリン塩酸塩", "テトラサイクリン系抗菌薬", "ドキシサイクリン塩酸塩水和物", "テトラサイクリン系抗菌薬"),
    ("アジスロマイシン水和物", "", "クラリスロマイシン", "マクロライド系抗菌薬"),
    ("オフロキサシン", "", "レボフロキサシン水和物", "ニューキノロン系抗菌薬"),
    ("ジクロフェナクナトリウム", "非ステロイド性抗炎症薬", "セレコキシブ", "非ステロイド性抗炎症薬（NSAIDs）"),
    ("ジクロフェナクナトリウム", "非ステロイド性抗炎症薬", "アスピリン", "非ステロイド性抗炎症薬（NSAIDs）"),
    ("スルファメトキサゾール・トリメトプリム", "サルファ剤", "セレコキシブ", "スルホンアミド"),
    ("スルファメトキサゾール・トリメトプリム", "サルファ剤", "グリメピリド", "スルホンアミド"),
])
def test_a_drug_in_the_group_of_a_recorded_allergy_is_named_with_the_group(recorded, recorded_class, current, group):
    (finding,) = check([allergy(recorded, recorded_class)], line(current))
    assert finding.drugs == (f"{current}錠",)
    assert f"と同じ群（{group}" in finding.reason
    assert finding.level == CHECK and finding.basis


def test_topical_nsaids_count_for_an_nsaid_allergy():
    (finding,) = check([allergy("ジクロフェナクナトリウム", "非ステロイド性抗炎症薬")],
                       line("ロキソプロフェンナトリウム水和物", days=None, form="外用", name="ロキソプロフェンNaテープ"))
    assert finding.drugs == ("ロキソプロフェンNaテープ",)


def test_a_recorded_class_alone_is_enough():
    (finding,) = check([allergy("詳細不明", "セフェム系抗菌薬")], line("セフカペン　ピボキシル塩酸塩水和物"))
    assert "セフェム系抗菌薬" in finding.reason


@pytest.mark.parametrize(("recorded", "recorded_class", "current"), [
    ("ミノサイクリン塩酸塩", "テトラサイクリン系抗菌薬", "メトホルミン塩酸塩"),
    ("ジクロフェナクナトリウム", "非ステロイド性抗炎症薬", "アセトアミノフェン"),  # not an NSAID
    ("ベンジルペニシリン", "ペニシリン系抗菌薬", "セフカペン　ピボキシル塩酸塩水和物"),  # another group
    ("ヨード造影剤", "造影剤", "レボフロキサシン水和物"),
    ("カルバマゼピン", "抗てんかん薬", "ロキソプロフェンナトリウム水和物"),
])
def test_no_match_is_one_line_saying_so_and_naming_what_was_checked(recorded, recorded_class, current):
    (finding,) = check([allergy(recorded, recorded_class)], line(current))
    assert finding.text.startswith("アレルギー：該当する薬剤なし")
    assert recorded in finding.text and finding.level == NOTE and finding.drugs == ()


def test_no_recorded_allergy_gives_no_line():
    assert check([], line("セレコキシブ")) == []


@pytest.mark.parametrize(("days_ago", "matched"), [(14, True), (15, False)])
def test_only_current_drugs_are_checked_at_the_14_day_boundary(days_ago, matched):
    last = TODAY - timedelta(days=days_ago)
    finding, = check([allergy("スルファメトキサゾール・トリメトプリム", "サルファ剤")],
                     line("セレコキシブ", last - timedelta(days=27), days=28))
    assert (finding.drugs == ("セレコキシブ錠",)) is matched


def test_every_allergen_the_simulator_records_and_its_antimicrobials_and_nsaids_map_to_a_group():
    from integrations.oqs.simulator.clinical import _DRUG_ALLERGENS
    from integrations.oqs.simulator.drug_master import DRUGS

    groups = {drug: {g.name for g in allergy_groups_of(drug, cls)} for drug, cls in _DRUG_ALLERGENS}
    assert groups["セファクロル"] == {"セフェム系抗菌薬"}
    assert groups["ミノサイクリン塩酸塩"] == {"テトラサイクリン系抗菌薬"}
    assert groups["ジクロフェナクナトリウム"] == {"非ステロイド性抗炎症薬（NSAIDs）"}
    assert groups["スルファメトキサゾール・トリメトプリム"] == {"スルホンアミド"}
    assert groups["ヨード造影剤"] == groups["カルバマゼピン"] == set()
    expected = {"amoxicillin250": "ペニシリン系抗菌薬", "amoxicillin_fine": "ペニシリン系抗菌薬",
                "cefcapene100": "セフェム系抗菌薬", "clarithromycin200": "マクロライド系抗菌薬",
                "levofloxacin500": "ニューキノロン系抗菌薬", "loxoprofen60": "非ステロイド性抗炎症薬（NSAIDs）",
                "loxoprofen_tape": "非ステロイド性抗炎症薬（NSAIDs）", "celecoxib100": "非ステロイド性抗炎症薬（NSAIDs）",
                "aspirin100": "非ステロイド性抗炎症薬（NSAIDs）", "glimepiride1": "スルホンアミド"}
    for key, group in expected.items():
        assert group in {g.name for g in allergy_groups_of(DRUGS[key].ingredient)}, key
    assert allergy_groups_of(DRUGS["acetaminophen200"].ingredient) == ()
    assert len({g.name for g in ALLERGY_GROUPS}) == len(ALLERGY_GROUPS)
