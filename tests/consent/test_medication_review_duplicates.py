"""「重複」: the same ingredient or one group, from different prescribers or pharmacies, overlapping."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from medication_support import TODAY, line

from consent.medication_review.dispensing import group_dispensings
from consent.medication_review.drug_groups import DUPLICATE_GROUPS, DuplicateGroup
from consent.medication_review.duplicates import duplicate_findings

START = TODAY - timedelta(days=10)


def check(*lines, today: date = TODAY, **kwargs):
    return duplicate_findings(group_dispensings(lines), today, **kwargs)


@pytest.mark.parametrize(("a", "b", "group"), [
    ("ロキソプロフェンナトリウム水和物", "セレコキシブ", "NSAIDs（内服・外用）"),
    ("ランソプラゾール", "ファモチジン", "胃酸分泌抑制薬"),
    ("ボノプラザンフマル酸塩", "ランソプラゾール", "胃酸分泌抑制薬"),
    ("ロサルタンカリウム", "テルミサルタン", "ARB"),
    ("カンデサルタン　シレキセチル", "テルミサルタン", "ARB"),
    ("ロスバスタチンカルシウム", "アトルバスタチンカルシウム水和物", "スタチン"),
    ("ゾルピデム酒石酸塩", "ブロチゾラム", "睡眠薬"),
    ("アピキサバン", "ワルファリンカリウム", "抗凝固薬"),
    ("アピキサバン", "アスピリン", "抗凝固薬と抗血小板薬"),
    ("アスピリン", "ワルファリンカリウム", "抗凝固薬と抗血小板薬"),
    ("アロプリノール", "フェブキソスタット", "尿酸降下薬"),
    ("フェキソフェナジン塩酸塩", "オロパタジン塩酸塩", "抗ヒスタミン薬（内服）"),
])
def test_two_drugs_of_one_group_from_two_prescribers_are_named(a, b, group):
    (finding,) = check(line(a, START), line(b, START + timedelta(days=3), prescriber="本町整形外科"))
    assert finding.text.startswith("重複：")
    assert set(finding.drugs) == {f"{a}錠", f"{b}錠"}
    assert f"同じ群（{group}" in finding.reason and "別の処方元から" in finding.reason
    assert "本町整形外科" in finding.reason and "本町内科クリニック" in finding.reason


def test_two_antiplatelets_are_not_the_anticoagulant_rule():
    assert check(line("アスピリン", START), line("クロピドグレル硫酸塩", START, prescriber="本町整形外科")) == []


def test_the_same_ingredient_from_two_pharmacies_is_named():
    (finding,) = check(line("レバミピド", START), line("レバミピド", START, dispenser="すずらん薬局 駅前店"))
    assert "同じ成分（レバミピド）" in finding.reason and "別の薬局から" in finding.reason


def test_oral_and_topical_nsaids_together_count_but_an_eye_drop_and_its_tablet_do_not():
    (finding,) = check(line("セレコキシブ", START),
                       line("ロキソプロフェンナトリウム水和物", START, days=None, form="外用", prescriber="本町整形外科"))
    assert "NSAIDs" in finding.reason
    assert check(line("オロパタジン塩酸塩", START),
                 line("オロパタジン塩酸塩", START, days=None, form="外用", prescriber="本町眼科")) == []


def test_one_prescriber_and_one_pharmacy_is_not_a_duplicate():
    assert check(line("ロキソプロフェンナトリウム水和物", START), line("セレコキシブ", START + timedelta(days=1))) == []


def test_unrelated_drugs_are_not_a_duplicate():
    assert check(line("アムロジピンベシル酸塩", START), line("テルミサルタン", START, prescriber="本町整形外科")) == []


@pytest.mark.parametrize(("gap", "duplicate"), [(-1, True), (0, True), (1, False)])
def test_supplies_must_overlap_the_first_day_after_the_end_does_not(gap, duplicate):
    # The first runs START .. START+13; the second starts `gap` days after that last day.
    first = line("ロキソプロフェンナトリウム水和物", START - timedelta(days=10), days=14)
    second = line("セレコキシブ", START + timedelta(days=3 + gap), days=14, prescriber="本町整形外科")
    assert bool(check(first, second)) is duplicate


@pytest.mark.parametrize(("days_ago", "duplicate"), [(14, True), (15, False)])
def test_a_duplicate_that_ended_more_than_14_days_ago_is_history(days_ago, duplicate):
    last = TODAY - timedelta(days=days_ago)
    a = line("ゾルピデム酒石酸塩", last - timedelta(days=27), days=28)
    b = line("ブロチゾラム", last - timedelta(days=27), days=28, prescriber="本町中央病院")
    assert bool(check(a, b)) is duplicate


def test_repeated_monthly_dispensings_of_one_pair_make_one_line_naming_the_newest():
    lines = []
    for months in (0, 1):
        day = START - timedelta(days=28 * months)
        lines += [line("ゾルピデム酒石酸塩", day, days=28), line("ブロチゾラム", day, days=28, prescriber="本町中央病院")]
    (finding,) = check(*lines, today=TODAY)
    assert f"{START.year}年{START.month}月{START.day}日" in finding.reason


def test_a_claims_and_an_e_prescription_record_of_one_dispensing_are_not_a_duplicate():
    assert check(line("レバミピド", START), line("レバミピド", START, source="prescription")) == []


def test_a_group_is_one_row_and_a_new_row_extends_the_check():
    extra = DuplicateGroup("抗ロイコトリエン薬", frozenset({"モンテルカスト", "プランルカスト"}))
    a, b = line("モンテルカストナトリウム", START), line("プランルカスト水和物", START, prescriber="本町耳鼻科")
    assert check(a, b) == []
    assert len(check(a, b, groups=(*DUPLICATE_GROUPS, extra))) == 1
