"""「現在の薬」: supply covering today or ended within 14 days, at the boundary, one row per ingredient."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from medication_support import TODAY, line

from consent.medication_review.current import RECENT_DAYS, current_drugs, is_current
from consent.medication_review.supply import EXTERNAL_USE_DAYS, supply_of
from consent.medication_review.dispensing import group_dispensings
from consent.medication_review.inputs import PRESCRIPTION


def ended(days_ago: int, days: int = 28):
    """A line whose last day of supply was `days_ago` days before TODAY."""
    last = TODAY - timedelta(days=days_ago)
    return line("アムロジピンベシル酸塩", last - timedelta(days=days - 1), days=days)


def test_supply_runs_from_the_dispensing_day_for_its_days():
    supply = supply_of(line("アムロジピンベシル酸塩", date(2026, 11, 1), days=28))
    assert (supply.first_day, supply.last_day, supply.days_estimated) == (date(2026, 11, 1), date(2026, 11, 28), False)


@pytest.mark.parametrize(("days_ago", "current"), [
    (-1, True),  # still covers tomorrow
    (0, True),  # today is the last day
    (13, True),
    (14, True),  # ended exactly 14 days ago: still current
    (15, False),  # 15 days ago: history
])
def test_the_14_day_boundary(days_ago, current):
    assert RECENT_DAYS == 14
    assert is_current(ended(days_ago), TODAY) is current
    assert bool(current_drugs(group_dispensings([ended(days_ago)]), TODAY)) is current


def test_a_drug_dispensed_after_the_day_asked_about_is_not_current_yet():
    assert not is_current(line("アムロジピンベシル酸塩", TODAY + timedelta(days=1)), TODAY)
    assert is_current(line("アムロジピンベシル酸塩", TODAY, days=1), TODAY)


def test_a_weekly_drug_counts_its_days_as_weeks():
    weekly = line("アレンドロン酸ナトリウム水和物", TODAY - timedelta(days=40), days=5, usage="週1回起床時")
    assert supply_of(weekly).last_day == TODAY - timedelta(days=40) + timedelta(days=34)
    assert is_current(weekly, TODAY)
    assert not is_current(line("アムロジピンベシル酸塩", TODAY - timedelta(days=40), days=5), TODAY)


def test_external_use_without_days_counts_as_a_month_and_says_it_is_estimated():
    tape = line("ロキソプロフェンナトリウム水和物", TODAY - timedelta(days=EXTERNAL_USE_DAYS + RECENT_DAYS - 1),
                days=None, form="外用")
    assert supply_of(tape).days_estimated
    assert is_current(tape, TODAY)
    older = line("ロキソプロフェンナトリウム水和物", TODAY - timedelta(days=EXTERNAL_USE_DAYS + RECENT_DAYS),
                 days=None, form="外用")
    assert not is_current(older, TODAY)


def test_as_needed_counts_its_uses_as_days_and_is_marked_estimated():
    prn = line("ロキソプロフェンナトリウム水和物", TODAY - timedelta(days=10), days=5, form="頓服")
    assert supply_of(prn).days_estimated and is_current(prn, TODAY)


def test_claims_known_only_up_to_a_day_count_their_grace_back_from_that_day():
    # On 5 December claims are held through 31 October: a chronic drug that ran to 20 October
    # (11 days before the horizon) is still current, though it ended 46 days ago.
    today, horizon = date(2026, 12, 5), date(2026, 10, 31)
    claims = line("アムロジピンベシル酸塩", date(2026, 9, 23), days=28)  # last day 20 October
    assert not is_current(claims, today)
    assert is_current(claims, today, claims_through=horizon)
    # Exactly at the boundary: ended 14 days before the horizon is current, 15 days is not.
    at = line("アムロジピンベシル酸塩", horizon - timedelta(days=RECENT_DAYS + 27), days=28)
    past = line("アムロジピンベシル酸塩", horizon - timedelta(days=RECENT_DAYS + 28), days=28)
    assert is_current(at, today, claims_through=horizon) and not is_current(past, today, claims_through=horizon)
    # E-prescription data arrives the next day: its grace counts from today.
    fresh = line("アムロジピンベシル酸塩", date(2026, 9, 23), days=28, source=PRESCRIPTION)
    assert not is_current(fresh, today, claims_through=horizon)
    # A horizon after today changes nothing.
    assert is_current(ended(RECENT_DAYS), TODAY, claims_through=TODAY + timedelta(days=30))
    assert not is_current(ended(RECENT_DAYS + 1), TODAY, claims_through=TODAY + timedelta(days=30))


def test_one_row_per_ingredient_the_newest_with_dose_prescriber_and_pharmacy_newest_first():
    lines = [
        line("メトホルミン塩酸塩", TODAY - timedelta(days=60), days=42, name="メトホルミン旧"),
        line("メトホルミン塩酸塩", TODAY - timedelta(days=16), days=42, name="メトホルミン新", dose="1回2錠"),
        line("アムロジピンベシル酸塩", TODAY - timedelta(days=30), days=28, prescriber="本町循環器クリニック",
             dispenser="すずらん薬局"),
        line("テルミサルタン", TODAY - timedelta(days=200), days=28),  # long over
    ]
    current = current_drugs(group_dispensings(lines), TODAY)
    assert [c.drug_name for c in current] == ["メトホルミン新", "アムロジピンベシル酸塩錠"]
    assert current[0].dose == "1回2錠 1日1回朝食後"
    assert (current[1].prescriber, current[1].institution) == ("本町循環器クリニック", "すずらん薬局")
    assert current[1].days_since_end(TODAY) == 3 and current[0].days_since_end(TODAY) == 0


def test_a_tablet_and_a_tape_of_one_ingredient_are_two_rows():
    lines = [line("ロキソプロフェンナトリウム水和物", TODAY, days=14),
             line("ロキソプロフェンナトリウム水和物", TODAY, days=None, form="外用", name="ロキソプロフェンテープ")]
    assert len(current_drugs(group_dispensings(lines), TODAY)) == 2
