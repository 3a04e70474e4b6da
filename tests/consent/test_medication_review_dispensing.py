"""The history grouped as it was dispensed: one dispensing per day, pharmacy and prescriber, a claims
record and an e-prescription record of it shown once, refills marked, ids stable."""
from __future__ import annotations

from datetime import date

from medication_support import line

from consent.medication_review import dispensing_key, drug_line, group_dispensings, line_ids, record_ids
from consent.medication_review.inputs import CLAIMS, PRESCRIPTION

D1, D2 = date(2026, 10, 6), date(2026, 11, 14)


def test_lines_are_grouped_by_day_pharmacy_and_prescriber_newest_first():
    lines = [
        line("ランソプラゾール", D1), line("レバミピド", D1),
        line("ロキソプロフェンナトリウム水和物", D2, prescriber="本町整形外科"),
        line("カンデサルタン　シレキセチル", D2),
        line("ファモチジン", D2, dispenser="すずらん薬局 駅前店"),  # same day and clinic, another pharmacy
    ]
    groups = group_dispensings(lines)
    assert [(g.day, g.prescriber, g.institution) for g in groups] == [
        (D2, "本町内科クリニック", "すずらん薬局 駅前店"),
        (D2, "本町内科クリニック", "ひまわり薬局 本町店"),
        (D2, "本町整形外科", "ひまわり薬局 本町店"),
        (D1, "本町内科クリニック", "ひまわり薬局 本町店"),
    ]
    assert [d.line.ingredient for d in groups[-1].drugs] == ["ランソプラゾール", "レバミピド"]


def test_a_claims_and_an_e_prescription_record_of_one_dispensing_are_one_row_with_both_sources():
    lines = [line("ランソプラゾール", D1, source=PRESCRIPTION), line("ランソプラゾール", D1, source=CLAIMS),
             line("レバミピド", D1, source=CLAIMS)]
    (dispensing,) = group_dispensings(lines)
    assert [(d.line.ingredient, d.sources) for d in dispensing.drugs] == [
        ("ランソプラゾール", (CLAIMS, PRESCRIPTION)), ("レバミピド", (CLAIMS,))]
    assert dispensing.drugs[0].source_labels == "レセプト・電子処方箋"
    assert dispensing.sources == (CLAIMS, PRESCRIPTION)
    assert dispensing.source_labels == "レセプト・電子処方箋"


def test_a_different_dose_or_days_is_another_row_not_hidden_behind_the_other_source():
    lines = [line("ランソプラゾール", D1, source=PRESCRIPTION, days=28), line("ランソプラゾール", D1, days=14)]
    (dispensing,) = group_dispensings(lines)
    assert len(dispensing.drugs) == 2


def test_a_later_use_of_a_refill_prescription_is_marked_and_keeps_its_prescribing_day():
    refill = line("カンデサルタン　シレキセチル", D2, source=PRESCRIPTION, prescribed_on=D1, refill_total=3, refill_use=2)
    claims = line("カンデサルタン　シレキセチル", D2)
    (dispensing,) = group_dispensings([claims, refill])
    (drug,) = dispensing.drugs
    assert drug.line.refill_use == 2  # the e-prescription line is shown: it knows the refill
    assert drug.refill_label == "リフィル 2/3回目"
    assert dispensing.refill and dispensing.prescribed_on == D1 and dispensing.day == D2
    assert group_dispensings([claims])[0].drugs[0].refill_label == ""


def test_in_house_dispensing_is_grouped_under_the_clinic():
    (dispensing,) = group_dispensings([line("ロキソプロフェンナトリウム水和物", D1, prescriber="本町中央病院",
                                            dispenser=None)])
    assert dispensing.in_house and dispensing.institution == "本町中央病院"


def test_ids_are_stable_shared_across_sources_and_distinct_between_dispensings():
    a = line("ランソプラゾール", D1, source=CLAIMS)
    b = line("ランソプラゾール", D1, source=PRESCRIPTION)
    c = line("ランソプラゾール", D2, source=CLAIMS)
    first, second = line_ids([a, b, c]), line_ids([c, b, a])
    assert first[0] == second[2] and first[1] == second[1] and first[2] == second[0]  # order does not matter
    assert first[0].dispensing_id == first[1].dispensing_id == dispensing_key(D1, a.dispenser, a.prescriber)
    assert first[0].row_id == first[1].row_id  # one merged row
    assert first[0].record_id != first[1].record_id  # two source records
    assert first[2].dispensing_id != first[0].dispensing_id
    assert len(first[0].dispensing_id) == 16 and int(first[0].dispensing_id, 16) >= 0


def test_a_drug_written_twice_in_one_dispensing_keeps_two_rows_and_two_ids():
    twice = [line("ロキソプロフェンナトリウム水和物", D1), line("ロキソプロフェンナトリウム水和物", D1)]
    ids = line_ids(twice)
    assert ids[0].record_id != ids[1].record_id and ids[0].row_id != ids[1].row_id
    assert len(group_dispensings(twice)[0].drugs) == 2


def test_the_api_s_record_ids_are_the_page_s_record_and_dispensing_ids():
    # The API's drug rows use record_ids (no merged-row id); a row must keep the id the page gives it.
    lines = [line("ランソプラゾール", D1, source=CLAIMS), line("ランソプラゾール", D1, source=PRESCRIPTION),
             line("ロキソプロフェンナトリウム水和物", D2), line("ロキソプロフェンナトリウム水和物", D2)]
    assert record_ids(lines, scope="pat_x") == [(i.record_id, i.dispensing_id) for i in line_ids(lines, scope="pat_x")]


def test_a_scope_keeps_two_patients_dispensings_apart():
    assert dispensing_key(D1, "ひまわり薬局", "本町内科", scope="consent-1") != dispensing_key(
        D1, "ひまわり薬局", "本町内科", scope="consent-2")


def test_drug_records_and_their_json_become_the_same_line():
    from integrations.oqs.results import DrugRecord

    record = DrugRecord(
        treatment_month="202611", prescribed_on=date(2026, 10, 6), dispensed_on=date(2026, 11, 14),
        prescriber="大久保内科クリニック", dispenser="はなみずき薬局 大久保店", setting="外来", dispensing="院外",
        drug_code="2149040F3114", drug_name="カンデサルタン錠8mg「あすか」", ingredient="カンデサルタン　シレキセチル",
        strength="8mg", dosage_form="内服", usage="1日1回朝食後", dose="1回1錠", days=35, quantity=35.0, unit="錠",
        category="血圧降下剤", source="prescription", refill_total=3, refill_use=2)
    from_object, from_json = drug_line(record), drug_line(record.to_dict())
    assert from_object == from_json
    assert from_object.dispensed_on == date(2026, 11, 14) and from_object.prescribed_on == date(2026, 10, 6)
    assert from_object.yj_code == "2149040F3114" and from_object.refill_use == 2
    in_house = drug_line({**record.to_dict(), "dispensed_on": None, "dispenser": None})
    assert in_house.dispensed_on == date(2026, 10, 6) and in_house.dispensing_institution == "大久保内科クリニック"
