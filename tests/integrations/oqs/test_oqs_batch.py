"""Batch inquiry (一括照会): 有効 / 無効 / エラー per row, the field named, the rest of the batch still run."""
from __future__ import annotations

import json
from datetime import date

import pytest

from conftest import TODAY
from integrations.oqs.simulator.models import OqsPerson, OqsQualification

PHARMACY = "1341234563"


def row_of(person, **change):
    row = {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
           "branch": person.branch or "", "birth_date": person.birth_date.isoformat()}
    row.update(change)
    return row


def test_rows_are_valid_invalid_or_errors_with_reasons(oqs):
    valid = oqs.create_person(today=TODAY, validity=1, seed=11)
    lost = oqs.create_person(today=TODAY, validity=2, seed=12)
    moving = oqs.create_person(today=TODAY, validity=3, seed=13)
    rows = [
        row_of(valid, reference_number="00000001"),
        row_of(lost, birth_date=lost.birth_date.strftime("%Y%m%d")),
        row_of(moving),
        row_of(valid, number=valid.number + "0"),
        row_of(valid, birth_date="1900-01-01"),
    ]
    results = oqs.batch_inquiry(rows, institution_code=PHARMACY, today=TODAY)
    assert [r.row for r in results] == [1, 2, 3, 4, 5]
    assert [r.status for r in results] == ["有効", "無効", "無効", "無効", "無効"]
    assert results[0].reason == "" and results[0].reference_number == "00000001"
    assert results[0].qualification.person_id == valid.person_id
    lost_on = results[1].qualification.disqualification_date
    assert results[1].reason == f"無効：{lost_on.year}年{lost_on.month}月{lost_on.day}日に資格喪失（その他）。"
    assert results[2].reason.startswith("無効（新しい資格あり）") and "医療保険等の資格取得" in results[2].reason
    assert results[3].reason == "該当資格なし" and results[4].reason == "該当資格なし"
    json.dumps([r.to_dict() for r in results], ensure_ascii=False)


@pytest.mark.parametrize("change, field, reason", [
    ({"insurer_number": ""}, "保険者番号", "保険者番号が入力されていません。"),
    ({"insurer_number": "1234"}, "保険者番号", "保険者番号は6桁または8桁の数字で入力してください。"),
    ({"insurer_number": "01130013"}, "保険者番号", "保険者番号の検証番号が正しくありません。"),
    ({"symbol": " "}, "記号", "記号が入力されていません。"),
    ({"number": None}, "番号", "番号が入力されていません。"),
    ({"number": "12-34"}, "番号", "番号は半角英数字20文字以内で入力してください。"),
    ({"branch": "123"}, "枝番", "枝番は2桁の数字で入力してください。"),
    ({"birth_date": ""}, "生年月日", "生年月日が入力されていません。"),
    ({"birth_date": "1970/13/45x"}, "生年月日", "生年月日はYYYY-MM-DD、YYYYMMDD、または和暦（S29.2.1、昭和29年2月1日）で入力してください。"),
    ({"birth_date": "19700230"}, "生年月日", "生年月日が存在しない日付です。"),
    ({"birth_date": "2030-01-01"}, "生年月日", "生年月日が未来の日付です。"),
    ({"reference_number": "照会番号が長すぎる値です"}, "照会番号",
     "照会番号は半角英数字16文字以内で入力してください。"),
])
def test_a_malformed_field_is_an_error_naming_it_and_the_rest_still_run(oqs, change, field, reason):
    person = oqs.create_person(today=TODAY, birth_date=date(1970, 6, 1), validity=1, seed=21)
    if person.insurer_number.startswith("39") or person.insurer_number is None:
        pytest.fail("seed 21 should give an employee or 国保 person")
    rows = [row_of(person), row_of(person, **change), row_of(person)]
    results = oqs.batch_inquiry(rows, institution_code=PHARMACY, today=TODAY)
    assert [r.status for r in results] == ["有効", "エラー", "有効"]
    assert results[1].reason == reason and results[1].error_fields == (field,)
    assert results[1].qualification is None


def test_several_errors_in_one_row_are_all_named(oqs):
    results = oqs.batch_inquiry([{"insurer_number": "x", "birth_date": "?"}], institution_code=PHARMACY, today=TODAY)
    assert results[0].status == "エラー"
    assert results[0].error_fields == ("保険者番号", "記号", "番号", "生年月日")
    assert "保険者番号" in results[0].reason and "生年月日" in results[0].reason


def test_a_row_that_is_not_an_object_is_an_error(oqs):
    person = oqs.create_person(today=TODAY, validity=1, seed=31)
    results = oqs.batch_inquiry(["01130012,1,2", row_of(person)], institution_code=PHARMACY, today=TODAY)
    assert results[0].status == "エラー" and results[1].status == "有効"


def test_registered_reference_number_is_echoed_when_the_row_has_none(oqs):
    person = oqs.create_person(today=TODAY, validity=1, seed=41)
    oqs.register_reference_number(institution_code=PHARMACY, person_id=person.person_id, reference_number="P-0042")
    results = oqs.batch_inquiry([row_of(person), row_of(person, reference_number="99")], institution_code=PHARMACY,
                                today=TODAY)
    assert results[0].reference_number == "P-0042" and results[0].qualification.reference_number == "P-0042"
    assert results[1].reference_number == "99"


def test_medical_aid_rows_use_payer_and_recipient_numbers(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY], seed=51)
    other = oqs.create_person(today=TODAY, medical_aid=True, seed=52)
    rows = [{"insurer_number": p.public_payer_number, "symbol": "", "number": p.recipient_number, "branch": "",
             "birth_date": p.birth_date.isoformat()} for p in (person, other)]
    results = oqs.batch_inquiry(rows, institution_code=PHARMACY, today=TODAY)
    assert results[0].status == "有効" and results[0].qualification.validity_code == 1
    assert results[1].status == "有効" and results[1].qualification.validity_code == 6
    assert "医療券/調剤券情報が未登録です" in results[1].reason
    assert results[1].qualification.recipient_number is None


def test_a_row_matching_several_people_without_branch_is_an_error_naming_the_branch(oqs, session):
    person = oqs.create_person(today=TODAY, birth_date=date(1985, 4, 4), validity=1, seed=61)
    assert not person.insurer_number.startswith("39")
    # A twin on the same card symbol and number: only the branch (枝番) tells them apart.
    stored = session.get(OqsPerson, person.person_id)
    session.add(OqsPerson(id="twin-of-61", seed=62, name="双子　次郎", kana="フタゴ　ジロウ", sex="1",
                          birth_date=stored.birth_date, postcode=stored.postcode, address=stored.address,
                          city=stored.city, town=stored.town, income_rank=stored.income_rank, income_flag=0,
                          traits="", origin="sandbox", created_on=TODAY))
    original = session.query(OqsQualification).filter_by(person_id=person.person_id).one()
    session.add(OqsQualification(
        person_id="twin-of-61", kind=original.kind, card_classification="01",
        insurer_number=original.insurer_number, insurer_name=original.insurer_name, symbol=original.symbol,
        number=original.number, branch="09", relationship_code="2", insured_name=original.insured_name,
        qualification_date=original.qualification_date))
    session.flush()
    results = oqs.batch_inquiry([row_of(person, branch=""), row_of(person), row_of(person, branch="09")],
                                institution_code=PHARMACY, today=TODAY)
    assert results[0].status == "エラー" and results[0].error_fields == ("枝番",)
    assert results[0].reason == "複数の資格が該当しました。枝番を入力してください。"
    assert results[1].status == "有効" and results[1].qualification.person_id == person.person_id
    assert results[2].status == "有効" and results[2].qualification.person_id == "twin-of-61"
    both = oqs.reinquiry(insurer_number=person.insurer_number, symbol=person.symbol, number=person.number,
                         branch=None, birth_date=None, institution_code=PHARMACY, today=TODAY)
    assert both.validity_code == 5 and len(both.others) == 1
    assert {both.person_id, both.others[0].person_id} == {person.person_id, "twin-of-61"}
