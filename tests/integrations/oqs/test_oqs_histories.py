"""Drug (3 years, from claims) and checkup (5 years, uploaded) histories: horizons on exact dates, values."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from conftest import TODAY
from integrations.oqs import InvalidInput
from integrations.oqs.simulator.ages import add_years
from integrations.oqs.simulator.checkup_history import judge
from integrations.oqs.simulator.drug_history import claims_visible_until, drug_window

YJ = re.compile(r"[0-9]{7}[A-Z][0-9]{4}")


def elderly_with_history(oqs, *, checkups: int = 0):
    """A person with chronic prescriptions (and, if asked, several checkups), found by seed."""
    for seed in range(1, 200):
        person = oqs.create_person(today=TODAY, birth_date=date(1955, 6, 6), validity=1, seed=seed)
        if len(oqs.drugs(person.person_id, today=TODAY)) >= 20 and \
                len(oqs.checkups(person.person_id, today=TODAY)) >= checkups:
            return person
    pytest.fail("no seed gave a person with a history")


def test_claims_reach_oqs_on_the_11th_of_the_next_month():
    assert claims_visible_until(date(2026, 11, 10)) == date(2026, 9, 30)
    assert claims_visible_until(date(2026, 11, 11)) == date(2026, 10, 31)
    assert drug_window(TODAY) == (date(2023, 11, 23), date(2026, 10, 31))


def test_drug_history_reaches_back_exactly_three_years(oqs):
    person = elderly_with_history(oqs)
    records = oqs.drugs(person.person_id, today=TODAY)
    assert records == sorted(records, key=lambda r: r.prescribed_on, reverse=True)
    assert min(r.prescribed_on for r in records) >= date(2023, 11, 23)
    assert max(r.prescribed_on for r in records) <= date(2026, 10, 31)
    day = records[-1].prescribed_on
    on_the_last_day = oqs.drugs(person.person_id, today=add_years(day, 3))
    assert any(r.prescribed_on == day for r in on_the_last_day)
    a_day_later = oqs.drugs(person.person_id, today=add_years(day, 3) + timedelta(days=1))
    assert all(r.prescribed_on > day for r in a_day_later)


def test_a_month_appears_on_the_11th_of_the_next(oqs):
    person = elderly_with_history(oqs)
    october = [r for r in oqs.drugs(person.person_id, today=date(2026, 12, 15)) if r.treatment_month == "202610"]
    assert october, "a chronic patient has an October prescription"
    assert not [r for r in oqs.drugs(person.person_id, today=date(2026, 11, 10)) if r.treatment_month == "202610"]
    on_the_11th = oqs.drugs(person.person_id, today=date(2026, 11, 11))
    assert [r for r in on_the_11th if r.treatment_month == "202610"] == october


def test_drug_records_look_like_dispensing_data(oqs):
    person = elderly_with_history(oqs)
    for record in oqs.drugs(person.person_id, today=TODAY):
        assert YJ.fullmatch(record.drug_code) and record.drug_name and record.ingredient
        assert record.treatment_month == record.prescribed_on.strftime("%Y%m")
        assert record.dosage_form in ("内服", "頓服", "外用") and record.quantity > 0 and record.unit
        assert record.setting in ("外来", "入院")
        if record.dispensing == "院外":
            assert record.dispenser and record.dispensed_on >= record.prescribed_on
        if record.dosage_form == "内服":
            assert record.days and record.usage.startswith(("1日", "週1回"))


def test_drug_history_filters_by_treatment_month(oqs):
    person = elderly_with_history(oqs)
    records = oqs.drugs(person.person_id, today=TODAY, from_ym="202501", to_ym="202506")
    assert records and all("202501" <= r.treatment_month <= "202506" for r in records)
    with pytest.raises(InvalidInput):
        oqs.drugs(person.person_id, today=TODAY, from_ym="2025-01")
    with pytest.raises(InvalidInput):
        oqs.drugs(person.person_id, today=TODAY, from_ym="202513")
    with pytest.raises(InvalidInput):
        oqs.drugs(person.person_id, today=TODAY, from_ym="202506", to_ym="202501")


def test_no_claims_after_the_qualification_is_lost(oqs):
    for seed in range(1, 60):
        person = oqs.create_person(today=TODAY, birth_date=date(1950, 1, 1), validity=2, seed=seed)
        lost = oqs.qualification(person.person_id, institution_code="1341234563", care_setting=1,
                                 today=TODAY).disqualification_date
        records = oqs.drugs(person.person_id, today=TODAY)
        if records and lost < date(2026, 9, 1):
            assert all(r.prescribed_on < lost for r in records)
            return
    pytest.fail("no seed lost the qualification early enough")


def test_checkups_reach_back_exactly_five_years_and_appear_60_days_after_the_exam(oqs):
    person = elderly_with_history(oqs, checkups=3)
    checkups = oqs.checkups(person.person_id, today=TODAY)
    assert checkups == sorted(checkups, key=lambda c: c.examined_on, reverse=True)
    assert all(add_years(TODAY, -5) <= c.examined_on <= TODAY - timedelta(days=60) for c in checkups)
    oldest = checkups[-1].examined_on
    assert oldest in [c.examined_on for c in oqs.checkups(person.person_id, today=add_years(oldest, 5))]
    later = oqs.checkups(person.person_id, today=add_years(oldest, 5) + timedelta(days=1))
    assert oldest not in [c.examined_on for c in later]
    newest = checkups[0].examined_on
    assert newest not in [c.examined_on for c in oqs.checkups(person.person_id, today=newest + timedelta(days=59))]
    assert newest in [c.examined_on for c in oqs.checkups(person.person_id, today=newest + timedelta(days=60))]


def test_checkup_values_know_whether_they_are_abnormal(oqs):
    person = elderly_with_history(oqs, checkups=1)
    checkup = oqs.checkups(person.person_id, today=TODAY)[0]
    assert checkup.kind == "特定健診" and 40 <= checkup.age <= 74
    codes = [item.code for item in checkup.items]
    for code in ("height", "weight", "bmi", "waist", "sbp", "dbp", "hba1c", "fpg", "ldl", "hdl", "tg", "ast", "alt",
                 "ggt", "creatinine", "egfr", "urine_protein", "urine_glucose"):
        assert code in codes
    for item in checkup.items:
        assert item.abnormal == bool(item.judgement) and item.flag in ("", "H", "L")
        assert not item.abnormal or item.flag  # an abnormal value says which way
    assert checkup.metabolic_syndrome in ("基準該当", "予備群該当", "非該当")
    assert checkup.to_dict()["items"][0]["code"] == "height"


@pytest.mark.parametrize("code, value, sex, judgement, flag", [
    ("sbp", 129, "1", "", ""),
    ("sbp", 130, "1", "保健指導判定値", "H"),
    ("sbp", 140, "2", "受診勧奨判定値", "H"),
    ("hba1c", 5.5, "1", "", ""),
    ("hba1c", 5.6, "1", "保健指導判定値", "H"),
    ("hba1c", 6.5, "1", "受診勧奨判定値", "H"),
    ("ldl", 139, "2", "保健指導判定値", "H"),
    ("hdl", 40, "1", "", ""),
    ("hdl", 39, "1", "保健指導判定値", "L"),
    ("waist", 86.0, "1", "保健指導判定値", "H"),
    ("waist", 86.0, "2", "", ""),
    ("creatinine", 0.95, "1", "", ""),
    ("creatinine", 0.95, "2", "保健指導判定値", "H"),
    ("egfr", 59.9, "2", "保健指導判定値", "L"),
    ("egfr", 44.0, "2", "受診勧奨判定値", "L"),
    ("urine_protein", "（±）", "1", "保健指導判定値", "H"),
    ("urine_protein", "（＋）", "1", "受診勧奨判定値", "H"),
    ("urine_glucose", "（−）", "1", "", ""),
])
def test_reference_ranges(code, value, sex, judgement, flag):
    item = judge(code, value, sex)
    assert (item.judgement, item.flag, item.abnormal) == (judgement, flag, bool(judgement))
    assert item.name and (item.reference or code in ("height", "weight"))


def test_no_specific_checkup_before_the_fiscal_year_one_turns_40(oqs):
    young = oqs.create_person(today=TODAY, birth_date=date(1995, 5, 5), validity=1, seed=5)
    assert oqs.checkups(young.person_id, today=TODAY) == []


def test_over_75_get_the_late_elderly_checkup_without_waist(oqs):
    for seed in range(1, 80):
        person = oqs.create_person(today=TODAY, birth_date=date(1940, 8, 8), validity=1, seed=seed)
        checkups = oqs.checkups(person.person_id, today=TODAY)
        if checkups:
            assert all(c.kind == "後期高齢者健診" and c.metabolic_syndrome == "判定不能" for c in checkups)
            assert all("waist" not in [i.code for i in c.items] for c in checkups)
            return
    pytest.fail("no seed gave a checkup")
