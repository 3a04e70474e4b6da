"""Qualification by card and by insurance keys: every validity code, medical aid, limits, reference numbers."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from conftest import TODAY
from integrations.oqs import InvalidInput, PersonNotFound
from integrations.oqs.codes import VALIDITY
from integrations.oqs.numbering import (
    is_valid_insurer_number,
    is_valid_public_payer_number,
    is_valid_recipient_number,
)
from web.error_messages import describe

PHARMACY = "1341234563"  # 東京都 調剤: 調剤券
CLINIC = "1311234569"  # 東京都 医科: 医療券
OTHER_PHARMACY = "1341111118"


def card(oqs, person, *, today=TODAY, institution=PHARMACY, **kwargs):
    return oqs.qualification(person.person_id, institution_code=institution, care_setting=3, today=today, **kwargs)


def test_a_valid_person_carries_the_real_field_set(oqs):
    person = oqs.create_person(today=TODAY, birth_date=date(1968, 5, 20), validity=1, seed=101)
    result = card(oqs, person)
    assert (result.validity_code, result.validity_text, result.message) == (1, "有効", "○：この資格は有効です。")
    assert result.inquiry_kind == "1" and result.care_setting_text == "オンライン診療等"
    assert result.name == person.name and "\u3000" in result.name and result.kana.replace("\u3000", "").isalpha()
    assert result.sex in ("1", "2") and result.sex_text in ("男", "女")
    assert result.birth_date == date(1968, 5, 20)
    assert is_valid_insurer_number(result.insurer_number) and result.insurer_name
    assert (result.insurer_number, result.symbol, result.number, result.branch) == (
        person.insurer_number, person.symbol, person.number, person.branch)
    assert result.card_classification in ("01", "03", "05") and result.card_classification_text
    assert result.relationship in ("1", "2") and result.insured_name
    assert result.address.startswith(("東京都", "神奈川県", "埼玉県", "千葉県", "大阪府", "愛知県", "北海道", "福岡県",
                                      "宮城県", "広島県"))
    assert len(result.postcode) == 8 and result.postcode[3] == "-"
    assert result.qualification_date <= TODAY and result.disqualification_date is None
    assert result.card_valid_from <= TODAY and (result.card_valid_until is None or result.card_valid_until >= TODAY)
    assert result.copay_ratio == 30 and result.copay_ratio_text == "3割" and result.preschool is False
    # Limit information only comes with the patient's consent to it (限度額適用認定証提供同意).
    assert result.limit is None and result.limit_class is None
    with_limit = card(oqs, person, limit_consent=True)
    assert with_limit.limit_class in {f"A0{i}" for i in range(1, 7)}
    json.dumps(result.to_dict(), ensure_ascii=False)
    assert result.to_dict()["birth_date"] == "1968-05-20"


def test_unknown_person_is_validity_4_not_an_error(oqs):
    result = oqs.qualification("no-such-person", institution_code=PHARMACY, care_setting=1, today=TODAY)
    assert (result.validity_code, result.validity_text) == (4, "該当資格なし")
    assert result.name is None and result.insurer_number is None
    assert oqs.person("no-such-person") is None
    assert oqs.drugs("no-such-person", today=TODAY) == [] and oqs.checkups("no-such-person", today=TODAY) == []
    assert oqs.limit("no-such-person", today=TODAY) is None
    assert oqs.specific_disease("no-such-person", today=TODAY) == []


@pytest.mark.parametrize("validity", [1, 2, 3, 4, 5, 6])
def test_sandbox_can_force_each_validity_code(oqs, validity):
    person = oqs.create_person(today=TODAY, validity=validity, seed=200 + validity)
    result = card(oqs, person, institution=OTHER_PHARMACY)
    assert result.validity_code == validity
    assert result.validity_text == VALIDITY[validity]


def test_lost_qualification_is_invalid_with_its_reason(oqs):
    person = oqs.create_person(today=TODAY, validity=2, seed=301)
    result = card(oqs, person)
    assert result.validity_code == 2 and result.message == "×：この資格は無効です。"
    assert result.disqualification_date <= TODAY
    assert (result.reason_of_loss, result.reason_of_loss_text) == ("99", "その他")
    assert result.card_valid_until == result.disqualification_date - timedelta(days=1)


def test_job_change_in_progress_is_3_until_the_new_insurance_starts(oqs):
    person = oqs.create_person(today=TODAY, validity=3, seed=302)
    old = card(oqs, person)
    assert old.validity_code == 3 and old.validity_text == "無効（新しい資格あり）"
    assert old.reason_of_loss == "03" and old.reason_of_loss_text == "医療保険等の資格取得"
    # Ask again on each day of the next month: once the new qualification starts, the card finds it.
    later = [card(oqs, person, today=TODAY + timedelta(days=d)) for d in range(1, 40)]
    new = next(r for r in later if r.validity_code == 1)
    assert new.insurer_number != old.insurer_number or new.number != old.number
    assert new.qualification_date > old.disqualification_date - timedelta(days=1)


def test_future_only_qualification_is_4_by_card(oqs):
    person = oqs.create_person(today=TODAY, validity=4, seed=303)
    assert card(oqs, person).validity_code == 4
    assert person.insurer_number is not None  # the number exists, the qualification has not started
    assert card(oqs, person, today=TODAY + timedelta(days=31)).validity_code == 1


def test_two_insurances_at_once_are_5_with_both_listed(oqs):
    person = oqs.create_person(today=TODAY, validity=5, seed=304)
    result = card(oqs, person)
    assert result.validity_code == 5 and result.validity_text == "複数該当"
    assert len(result.others) == 1
    assert result.others[0].insurer_number != result.insurer_number or result.others[0].number != result.number
    assert result.qualification_date > result.others[0].qualification_date
    assert result.to_dict()["others"][0]["validity_code"] == 5


def test_medical_aid_at_an_entrusted_pharmacy_shows_payer_recipient_and_dispensing_ticket(oqs, session):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY, CLINIC], seed=401)
    assert person.entrusted_institution_codes == (PHARMACY, CLINIC)
    assert person.insurer_number is None
    assert is_valid_public_payer_number(person.public_payer_number) and person.public_payer_number.startswith("12")
    assert is_valid_recipient_number(person.recipient_number)
    result = card(oqs, person)
    assert (result.validity_code, result.message) == (1, "○：この資格は有効です。")
    assert result.card_classification == "A1" and result.card_classification_text == "医療扶助"
    assert result.public_payer_number == person.public_payer_number
    assert result.recipient_number == person.recipient_number
    assert result.welfare_office.endswith(("福祉事務所", "センター", "生活福祉課", "保健福祉部", "厚生部"))
    assert result.entrusted is True and result.copay_ratio is None
    ticket = result.ticket
    assert ticket.ticket_type_text == "調剤券" and ticket.institution_code == PHARMACY
    assert ticket.treatment_month == "202611" and ticket.valid_until == date(2026, 11, 30)
    assert ticket.combination_text == "単独" and 1 <= len(ticket.diseases) <= 3
    assert card(oqs, person, institution=CLINIC).ticket.ticket_type_text == "医療券"


def test_medical_aid_at_a_non_entrusted_pharmacy_is_6_without_payer_or_recipient(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[CLINIC], seed=402)
    result = card(oqs, person, institution=PHARMACY)
    assert result.validity_code == 6 and result.validity_text == "有効（未登録）"
    # Seed 004, the 未委託 display, character for character.
    assert result.message == "○：この資格は有効です。(医療券/調剤券情報が未登録です。)"
    assert result.public_payer_number is None and result.recipient_number is None and result.ticket is None
    assert result.entrusted is False
    # Name, sex, birth date and the welfare office are still shown.
    assert result.name == person.name and result.birth_date == person.birth_date and result.welfare_office


def test_medical_aid_without_named_institutions_is_entrusted_elsewhere(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, seed=403)
    assert len(person.entrusted_institution_codes) == 2
    assert PHARMACY not in person.entrusted_institution_codes
    assert card(oqs, person).validity_code == 6
    # Re-inquiry for medical aid: 公費負担者番号 as the insurer number, 受給者番号 as the number.
    by_recipient = oqs.reinquiry(insurer_number=person.public_payer_number, symbol=None, number=person.recipient_number,
                                 branch=None, birth_date=person.birth_date, institution_code=PHARMACY, today=TODAY)
    assert by_recipient.validity_code == 6 and by_recipient.person_id == person.person_id
    entrusted = person.entrusted_institution_codes[0]
    assert oqs.reinquiry(insurer_number=person.public_payer_number, symbol=None, number=person.recipient_number,
                         branch=None, birth_date=None, institution_code=entrusted, today=TODAY).validity_code == 1


def test_bad_sandbox_requests_are_refused(oqs):
    with pytest.raises(InvalidInput):
        oqs.create_person(today=TODAY, validity=7)
    with pytest.raises(InvalidInput):
        oqs.create_person(today=TODAY, validity=5, medical_aid=True)
    with pytest.raises(InvalidInput):
        oqs.create_person(today=TODAY, birth_date=TODAY + timedelta(days=1))
    with pytest.raises(InvalidInput):
        oqs.create_person(today=TODAY, entrusted_institution_codes=[PHARMACY])
    with pytest.raises(InvalidInput):
        oqs.qualification("x", institution_code=PHARMACY, care_setting=9, today=TODAY)


def test_same_seed_gives_the_same_person_data(oqs):
    first = oqs.create_person(today=TODAY, seed=777)
    second = oqs.create_person(today=TODAY, seed=777)
    assert first.person_id != second.person_id
    assert (first.name, first.birth_date, first.insurer_number, first.number) == (
        second.name, second.birth_date, second.insurer_number, second.number)
    assert oqs.drugs(first.person_id, today=TODAY) == oqs.drugs(second.person_id, today=TODAY)


def test_reinquiry_by_insurance_keys(oqs):
    person = oqs.create_person(today=TODAY, birth_date=date(1980, 1, 15), validity=1, seed=501)
    keys = dict(insurer_number=person.insurer_number, symbol=person.symbol, number=person.number,
                branch=person.branch, institution_code=PHARMACY, today=TODAY)
    result = oqs.reinquiry(birth_date=date(1980, 1, 15), **keys)
    assert result.validity_code == 1 and result.person_id == person.person_id and result.inquiry_kind == "2"
    assert oqs.reinquiry(birth_date=date(1980, 1, 16), **keys).validity_code == 4
    assert oqs.reinquiry(birth_date=None, **{**keys, "number": person.number + "9"}).validity_code == 4
    # Staff type full-width digits; they mean the same number.
    wide = person.insurer_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert oqs.reinquiry(birth_date=None, **{**keys, "insurer_number": wide}).validity_code == 1


def test_reinquiry_with_old_keys_after_a_job_change_is_3(oqs):
    person = oqs.create_person(today=TODAY, validity=3, seed=502)
    later = TODAY + timedelta(days=40)
    result = oqs.reinquiry(insurer_number=person.insurer_number, symbol=person.symbol, number=person.number,
                           branch=person.branch, birth_date=person.birth_date, institution_code=PHARMACY, today=later)
    assert result.validity_code == 3


def test_reinquiry_for_late_elderly_needs_no_symbol_or_branch(oqs):
    person = oqs.create_person(today=TODAY, birth_date=date(1940, 3, 3), validity=1, seed=503)
    assert person.insurer_number.startswith("39") and person.symbol is None
    result = oqs.reinquiry(insurer_number=person.insurer_number, symbol="", number=person.number, branch="",
                           birth_date=None, institution_code=PHARMACY, today=TODAY)
    assert result.validity_code == 1 and result.copay_ratio in (10, 20, 30)


@pytest.mark.parametrize("field, change, message", [
    ("保険者番号", {"insurer_number": "0113001"}, "保険者番号は6桁または8桁の数字で入力してください。"),
    ("保険者番号", {"insurer_number": "01130013"}, "保険者番号の検証番号が正しくありません。"),
    ("記号", {"symbol": ""}, "記号が入力されていません。"),
    ("番号", {"number": ""}, "番号が入力されていません。"),
    ("枝番", {"branch": "ab"}, "枝番は2桁の数字で入力してください。"),
])
def test_malformed_reinquiry_names_the_field(oqs, field, change, message):
    keys = dict(insurer_number="01130012", symbol="12345678", number="12", branch="00", birth_date=None,
                institution_code=PHARMACY, today=TODAY)
    keys.update(change)
    with pytest.raises(InvalidInput) as raised:
        oqs.reinquiry(**keys)
    assert raised.value.field == field and describe(raised.value).message == message


def test_limit_classes_by_age_and_scheme(oqs):
    young = oqs.create_person(today=TODAY, birth_date=date(1990, 1, 1), validity=1, seed=601)
    assert oqs.limit(young.person_id, today=TODAY).limit_class in {"A01", "A02", "A03", "A04", "A05", "A06"}
    old = oqs.create_person(today=TODAY, birth_date=date(1940, 1, 1), validity=1, seed=602)
    limit = oqs.limit(old.person_id, today=TODAY)
    assert limit.limit_class in {"B01", "B02", "B03", "B05", "B06", "B07", "B08", "B09", "B10"}
    assert limit.valid_from <= TODAY <= limit.valid_until == date(2027, 7, 31)
    assert limit.certificate in ("01", "02") and limit.limit_class_text
    lost = oqs.create_person(today=TODAY, validity=2, seed=603)
    assert oqs.limit(lost.person_id, today=TODAY) is None
    aid = oqs.create_person(today=TODAY, medical_aid=True, seed=604)
    assert oqs.limit(aid.person_id, today=TODAY) is None


def test_reference_number_is_echoed_for_the_institution_that_registered_it(oqs):
    person = oqs.create_person(today=TODAY, validity=1, seed=701)
    oqs.register_reference_number(institution_code=PHARMACY, person_id=person.person_id, reference_number="00000001")
    assert card(oqs, person).reference_number == "00000001"
    assert card(oqs, person, institution=CLINIC).reference_number is None
    oqs.register_reference_number(institution_code=PHARMACY, person_id=person.person_id, reference_number="A-77")
    assert oqs.reference_number(institution_code=PHARMACY, person_id=person.person_id) == "A-77"
    with pytest.raises(InvalidInput):
        oqs.register_reference_number(institution_code=PHARMACY, person_id=person.person_id, reference_number="番号")
    with pytest.raises(PersonNotFound):
        oqs.register_reference_number(institution_code=PHARMACY, person_id="nobody", reference_number="1")


def test_sandbox_people_answer_the_validity_asked_for_across_many_seeds():
    """Regression: a qualification planned to begin today could not be 'lost' by today (seed 80)."""
    from integrations.oqs.simulator.generator import plan_sandbox_person

    for validity in (2, 3, 4, 5):
        for seed in range(400):
            # Raises if the planned person would answer another validity on that day.
            plan_sandbox_person(today=date(2026, 11, 23), seed=seed, birth_date=None, validity=validity,
                                medical_aid=False, entrusted=None, person_id="p-regression")
