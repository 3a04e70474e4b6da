"""Medical aid as the real interface codes it: the code tables, 医療券・調剤券 fields, 併用 records and
委託先資格情報の一括取得 (docs/sources.md [004])."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import TODAY
from integrations.oqs import InvalidInput, PersonNotFound
from integrations.oqs.simulator import generate_population, make_oqs
from integrations.oqs import codes
from integrations.oqs.simulator.medical_aid import month_bounds
from integrations.oqs.numbering import (
    is_valid_institution_code,
    is_valid_insurer_number,
    is_valid_public_payer_number,
    is_valid_recipient_number,
)

PHARMACY = "1341234563"  # 東京都 調剤: 調剤券
CLINIC = "1311234569"  # 東京都 医科: 医療券
DENTAL = "1331234565"
OTHER_PHARMACY = "1341111118"


def card(oqs, person, *, today=TODAY, institution=PHARMACY):
    return oqs.qualification(person.person_id, institution_code=institution, care_setting=3, today=today)


# -- the code tables, value by value -----------------------------------------------------------

def test_ticket_code_tables_are_the_real_interfaces_two_digit_codes():
    assert codes.TICKET_TYPES == {"01": "医療券", "02": "調剤券"}  # OQSCD018
    assert codes.AID_COMBINATIONS == {"01": "単独", "02": "併用"}  # OQSCD020
    assert codes.TICKET_CARE_KINDS["04"] == "調剤"  # OQSCD019
    assert codes.DESIGNATED_INSTITUTION_CHECKS == {"0": "一致", "1": "不一致"}  # OQSCD026
    assert codes.CARD_CLASSIFICATIONS["05"] == "特別療養費支給対象者"  # OQSCD010
    # The old one-digit values, still sent for one release.
    assert codes.LEGACY_TICKET_TYPES == {"01": "1", "02": "2"}
    assert codes.LEGACY_AID_COMBINATIONS == {"01": "1", "02": "2"}


# -- tickets ---------------------------------------------------------------------------------

def test_a_dispensing_ticket_names_the_prescribing_institution_and_the_welfare_staff(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY, CLINIC],
                               seed=701)
    ticket = card(oqs, person).ticket
    assert (ticket.ticket_type_code, ticket.ticket_type_text, ticket.ticket_type) == ("02", "調剤券", "2")
    assert (ticket.care_kind, ticket.care_kind_text) == ("04", "調剤")
    assert (ticket.combination_code, ticket.combination_text, ticket.combination) == ("01", "単独", "1")
    assert (ticket.designated_institution_check, ticket.designated_institution_check_text) == ("0", "一致")
    # The clinic the welfare office entrusted beside the pharmacy wrote the prescription.
    assert ticket.prescribing_institution_code == CLINIC and ticket.prescribing_institution_name
    assert ticket.district_officer and ticket.handler and "\u3000" in ticket.district_officer
    assert len(ticket.remarks) == 3
    as_json = ticket.to_dict()
    assert as_json["ticket_type_code"] == "02" and as_json["ticket_type"] == "2"
    assert as_json["remarks"] == list(ticket.remarks)


def test_a_dispensing_ticket_without_an_entrusted_clinic_still_names_a_valid_prescriber(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY], seed=702)
    ticket = card(oqs, person).ticket
    assert is_valid_institution_code(ticket.prescribing_institution_code)
    assert ticket.prescribing_institution_code[2] == "1" and ticket.prescribing_institution_name


def test_medical_tickets_for_a_clinic_and_a_dentist_have_their_care_kind_and_no_prescriber(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[CLINIC, DENTAL],
                               seed=703)
    clinic, dental = card(oqs, person, institution=CLINIC).ticket, card(oqs, person, institution=DENTAL).ticket
    assert (clinic.ticket_type_code, clinic.ticket_type, clinic.care_kind_text) == ("01", "1", "入院外")
    assert (dental.ticket_type_code, dental.care_kind, dental.care_kind_text) == ("01", "03", "歯科")
    assert clinic.prescribing_institution_code is None and clinic.prescribing_institution_name is None


def test_the_non_entrusted_display_is_unchanged(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[CLINIC], seed=704)
    result = card(oqs, person)
    assert result.validity_code == 6 and result.message == "○：この資格は有効です。(医療券/調剤券情報が未登録です。)"
    assert (result.public_payer_number, result.recipient_number, result.ticket) == (None, None, None)
    assert [r.validity_code for r in result.records] == [6]


# -- 併用: health insurance and medical aid -----------------------------------------------------

def test_a_person_with_insurance_and_medical_aid_gets_both_records_from_a_card_read(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, insured=True, entrusted_institution_codes=[PHARMACY],
                               seed=711)
    assert is_valid_insurer_number(person.insurer_number) and is_valid_public_payer_number(person.public_payer_number)
    result = card(oqs, person)
    # The primary record is the health insurance, as before.
    assert result.validity_code == 1 and result.card_classification != "A1"
    assert result.insurer_number == person.insurer_number and result.copay_ratio == 30
    insurance, aid = result.records
    assert insurance.insurer_number == result.insurer_number and insurance.records == ()
    assert aid.card_classification == "A1" and aid.validity_code == 1
    assert aid.public_payer_number == person.public_payer_number and aid.recipient_number == person.recipient_number
    assert (aid.ticket.combination_code, aid.ticket.combination_text, aid.ticket.combination) == ("02", "併用", "2")
    assert aid.ticket.remarks[0] == "医療保険併用"


def test_a_combined_person_at_a_non_entrusted_pharmacy_sees_the_aid_record_as_6(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, insured=True, entrusted_institution_codes=[CLINIC],
                               seed=712)
    result = card(oqs, person)
    assert result.validity_code == 1 and result.insurer_number == person.insurer_number
    insurance, aid = result.records
    assert aid.validity_code == 6 and aid.message.endswith("(医療券/調剤券情報が未登録です。)")
    assert (aid.public_payer_number, aid.recipient_number, aid.ticket) == (None, None, None)


def test_people_with_one_qualification_get_one_record(oqs):
    insured = oqs.create_person(today=TODAY, validity=1, seed=713)
    aid = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY], seed=714)
    assert [r.insurer_number for r in card(oqs, insured).records] == [insured.insurer_number]
    assert [r.card_classification for r in card(oqs, aid).records] == ["A1"]
    nobody = oqs.qualification("no-such-person", institution_code=PHARMACY, care_setting=3, today=TODAY)
    assert nobody.records == ()


@pytest.mark.parametrize("kwargs, field", [
    ({"insured": True}, "insured"),
    ({"insured": True, "medical_aid": True, "validity": 2}, "validity"),
    ({"insured": True, "medical_aid": True, "birth_date": date(1945, 1, 1)}, "birth_date"),
    ({"insured": True, "medical_aid": True, "birth_date": date(2015, 1, 1)}, "birth_date"),
])
def test_combined_people_that_cannot_exist_are_refused(oqs, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        oqs.create_person(today=TODAY, **kwargs)
    assert refused.value.field == field


@pytest.mark.parametrize("seed", range(40))
def test_combined_sandbox_people_are_consistent_over_many_seeds(oqs, seed):
    person = oqs.create_person(today=TODAY, medical_aid=True, insured=True, entrusted_institution_codes=[PHARMACY],
                               seed=9000 + seed)
    result = card(oqs, person)
    assert result.validity_code == 1 and len(result.records) == 2
    insurance, aid = result.records
    assert is_valid_insurer_number(insurance.insurer_number) and insurance.qualification_date <= TODAY
    assert aid.qualification_date >= insurance.qualification_date
    assert aid.ticket.combination_code == "02" and aid.ticket.valid_from <= TODAY <= aid.ticket.valid_until


# -- 委託先資格情報の一括取得 ------------------------------------------------------------------

def test_the_bulk_fetch_lists_this_institutions_tickets_with_their_qualifications(oqs):
    mine = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY], seed=721)
    both = oqs.create_person(today=TODAY, medical_aid=True, insured=True, entrusted_institution_codes=[PHARMACY],
                             seed=722)
    oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[OTHER_PHARMACY], seed=723)
    oqs.create_person(today=TODAY, validity=1, seed=724)
    tickets = oqs.entrusted_tickets(institution_code=PHARMACY, month="202611", today=TODAY)
    assert {t.person_id for t in tickets} == {mine.person_id, both.person_id}
    for entry in tickets:
        assert entry.ticket.institution_code == PHARMACY and entry.ticket.treatment_month == "202611"
        assert entry.qualification.recipient_number and entry.qualification.ticket == entry.ticket
    combined = next(t for t in tickets if t.person_id == both.person_id)
    assert [r.card_classification == "A1" for r in combined.records] == [True, False]
    assert combined.ticket.combination_code == "02"


def test_a_ticket_the_welfare_office_registers_after_the_visit_appears_in_the_bulk_fetch(oqs):
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[CLINIC], seed=731)
    assert card(oqs, person).validity_code == 6  # the visit: not entrusted yet
    assert oqs.entrusted_tickets(institution_code=PHARMACY, month="202611", today=TODAY) == []
    assert oqs.register_entrustment(person_id=person.person_id, institution_code=PHARMACY) is True
    assert oqs.register_entrustment(person_id=person.person_id, institution_code=PHARMACY) is False
    # The next day, without the patient coming back.
    [entry] = oqs.entrusted_tickets(institution_code=PHARMACY, month="202611", today=TODAY + timedelta(days=1))
    assert entry.person_id == person.person_id and entry.qualification.public_payer_number == person.public_payer_number
    assert entry.ticket.valid_from <= TODAY <= entry.ticket.valid_until


def test_registering_an_entrustment_needs_a_known_recipient(oqs):
    insured = oqs.create_person(today=TODAY, validity=1, seed=732)
    with pytest.raises(PersonNotFound):
        oqs.register_entrustment(person_id="no-such-person", institution_code=PHARMACY)
    with pytest.raises(InvalidInput):
        oqs.register_entrustment(person_id=insured.person_id, institution_code=PHARMACY)
    with pytest.raises(InvalidInput):
        oqs.register_entrustment(person_id=insured.person_id, institution_code="12345")


def test_a_past_months_tickets_end_where_the_aid_ended(oqs, session):
    person = oqs.create_person(today=TODAY, medical_aid=True, validity=2, entrusted_institution_codes=[PHARMACY],
                               seed=741)
    aid = next(q for q in make_oqs(session)._person(person.person_id).qualifications if q.kind == "medical_aid")
    last_day = aid.disqualification_date - timedelta(days=1)
    month = f"{last_day.year:04d}{last_day.month:02d}"
    [entry] = oqs.entrusted_tickets(institution_code=PHARMACY, month=month, today=TODAY)
    assert entry.ticket.valid_until == last_day and entry.ticket.valid_from == max(
        month_bounds(month)[0], aid.qualification_date)
    after = aid.disqualification_date.replace(day=1) + timedelta(days=32)
    if after <= TODAY:
        assert oqs.entrusted_tickets(institution_code=PHARMACY, month=f"{after.year:04d}{after.month:02d}",
                                     today=TODAY) == []


@pytest.mark.parametrize("month", ["202612", "2026-11", "202613", "", "abcdef", None])
def test_the_bulk_fetch_refuses_a_future_or_malformed_month(oqs, month):
    with pytest.raises(InvalidInput) as refused:
        oqs.entrusted_tickets(institution_code=PHARMACY, month=month, today=TODAY)
    assert refused.value.field == "診療年月" and refused.value.detail == "month"


@pytest.mark.parametrize("seed", range(12))
def test_bulk_fetched_tickets_are_consistent_over_many_population_seeds(session, seed):
    generate_population(session, size=400, seed=seed, today=TODAY, entrust_to=[PHARMACY])
    oqs = make_oqs(session)
    for month in ("202611", "202610", "202512"):
        first, last = month_bounds(month)
        for entry in oqs.entrusted_tickets(institution_code=PHARMACY, month=month, today=TODAY):
            ticket, aid = entry.ticket, entry.qualification
            assert first <= ticket.valid_from <= ticket.valid_until <= last
            assert aid.qualification_date <= ticket.valid_until
            assert aid.disqualification_date is None or ticket.valid_until < aid.disqualification_date
            assert is_valid_public_payer_number(aid.public_payer_number) and aid.public_payer_number.startswith("12")
            assert is_valid_recipient_number(aid.recipient_number)
            assert is_valid_institution_code(ticket.institution_code)
            assert is_valid_institution_code(ticket.prescribing_institution_code)
            assert ticket.ticket_type_code == "02" and ticket.care_kind == "04"
            insured = [r for r in entry.records if r.card_classification != "A1"]
            assert ticket.combination_code == ("02" if insured else "01")
            assert all(is_valid_insurer_number(r.insurer_number) for r in insured)


def test_a_visiting_nurse_stations_ticket_is_a_medical_ticket_of_care_kind_05(oqs):
    station = "1361234568"  # 東京都 訪問看護 (点数表番号 6)
    person = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[station], seed=705)
    ticket = card(oqs, person, institution=station).ticket
    assert (ticket.ticket_type_code, ticket.care_kind, ticket.care_kind_text) == ("01", "05", "訪問看護")
    assert ticket.prescribing_institution_code is None
