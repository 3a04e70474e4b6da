"""Copay (負担割合) and preschool at each age boundary, on exact dates, as the qualification shows them."""
from __future__ import annotations

from datetime import date

from integrations.oqs.simulator.ages import (
    age_on,
    copay_percent,
    elderly_from,
    is_preschool,
    late_elderly_from,
    preschool_until,
)

PHARMACY = "1341234563"


def ask(oqs, person, day):
    return oqs.qualification(person.person_id, institution_code=PHARMACY, care_setting=3, today=day)


def test_an_age_is_reached_the_day_before_the_birthday():
    assert age_on(date(2000, 4, 1), date(2006, 3, 30)) == 5
    assert age_on(date(2000, 4, 1), date(2006, 3, 31)) == 6
    # Born on 29 February: turns 21 on 28 February of a common year.
    assert age_on(date(2000, 2, 29), date(2021, 2, 27)) == 20
    assert age_on(date(2000, 2, 29), date(2021, 2, 28)) == 21


def test_born_on_1_april_leaves_preschool_on_the_31_march_before_the_6th_birthday(oqs):
    birth = date(2020, 4, 1)
    assert preschool_until(birth) == date(2026, 3, 31)
    child = oqs.create_person(today=date(2026, 3, 1), birth_date=birth, validity=1, seed=11)
    last_day = ask(oqs, child, date(2026, 3, 31))
    assert (last_day.copay_ratio, last_day.copay_ratio_text, last_day.preschool) == (20, "2割", True)
    first_school_day = ask(oqs, child, date(2026, 4, 1))
    assert (first_school_day.copay_ratio, first_school_day.preschool) == (30, False)


def test_born_on_2_april_stays_preschool_another_year(oqs):
    birth = date(2020, 4, 2)
    assert preschool_until(birth) == date(2027, 3, 31)
    child = oqs.create_person(today=date(2026, 3, 1), birth_date=birth, validity=1, seed=12)
    assert ask(oqs, child, date(2026, 4, 2)).copay_ratio == 20
    assert ask(oqs, child, date(2027, 3, 31)).preschool is True
    assert ask(oqs, child, date(2027, 4, 1)).copay_ratio == 30


def test_seventy_starts_the_month_after_the_month_one_turns_seventy(oqs):
    birth = date(1956, 6, 15)  # turns 70 on 14 June 2026
    assert elderly_from(birth) == date(2026, 7, 1)
    person = oqs.create_person(today=date(2026, 5, 1), birth_date=birth, validity=1, seed=13)
    june_30 = ask(oqs, person, date(2026, 6, 30))
    assert june_30.copay_ratio == 30 and june_30.elderly_recipient is None
    july_1 = ask(oqs, person, date(2026, 7, 1))
    assert july_1.copay_ratio in (20, 30)  # 2割, or 3割 with 現役並み所得
    assert july_1.elderly_recipient is not None
    assert july_1.elderly_recipient.valid_from == date(2026, 7, 1)
    assert july_1.elderly_recipient.copay_ratio == july_1.copay_ratio


def test_born_on_the_first_seventy_starts_with_the_birthday_month(oqs):
    assert elderly_from(date(1956, 6, 1)) == date(2026, 6, 1)  # turns 70 on 31 May
    assert elderly_from(date(1956, 6, 2)) == date(2026, 7, 1)  # turns 70 on 1 June
    person = oqs.create_person(today=date(2026, 5, 1), birth_date=date(1956, 6, 1), validity=1, seed=14)
    assert ask(oqs, person, date(2026, 5, 31)).copay_ratio == 30
    assert ask(oqs, person, date(2026, 6, 1)).elderly_recipient is not None


def test_late_elderly_insurance_starts_on_the_75th_birthday_itself(oqs):
    birth = date(1951, 11, 24)
    assert late_elderly_from(birth) == date(2026, 11, 24)
    # The insurer registers the move in advance: the old qualification ends on the birthday (03).
    person = oqs.create_person(today=date(2026, 11, 1), birth_date=birth, validity=1, seed=15)
    eve = ask(oqs, person, date(2026, 11, 23))
    assert not eve.insurer_number.startswith("39")
    assert eve.disqualification_date == date(2026, 11, 24) and eve.reason_of_loss == "03"
    assert eve.copay_ratio in (20, 30)
    birthday = ask(oqs, person, date(2026, 11, 24))
    assert birthday.validity_code == 1
    assert birthday.insurer_number.startswith("39") and birthday.insurer_name.endswith("後期高齢者医療広域連合")
    assert birthday.qualification_date == date(2026, 11, 24)
    assert birthday.copay_ratio in (10, 20, 30) and birthday.elderly_recipient is None
    assert birthday.symbol is None and birthday.branch is None  # 後期高齢者: personal number only


def test_late_elderly_born_on_29_february_starts_on_1_march_in_a_common_year():
    assert late_elderly_from(date(1952, 2, 29)) == date(2027, 3, 1)


def test_copay_by_income_at_seventy_and_seventy_five():
    birth = date(1950, 1, 10)
    day = date(2026, 11, 23)
    assert copay_percent(birth=birth, day=day, late_elderly_scheme=True, active_income=False) == 10
    assert copay_percent(birth=birth, day=day, late_elderly_scheme=True, active_income=False,
                         late_elderly_general_2=True) == 20
    assert copay_percent(birth=birth, day=day, late_elderly_scheme=True, active_income=True) == 30
    seventy_two = date(1954, 5, 5)
    assert copay_percent(birth=seventy_two, day=day, late_elderly_scheme=False, active_income=False) == 20
    assert copay_percent(birth=seventy_two, day=day, late_elderly_scheme=False, active_income=True) == 30
    assert is_preschool(date(2022, 5, 10), day)
