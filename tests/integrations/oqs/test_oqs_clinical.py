"""Clinical, surgery and e-prescription data: property tests over many seeds, then the simulator's methods."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from integrations.oqs.simulator import make_oqs
from integrations.oqs.simulator.clinical import clinical_info, surgery_info
from integrations.oqs.simulator.drug_history import drug_history, providers_of
from integrations.oqs.simulator.drug_master import DRUGS
from integrations.oqs.simulator.facts import Coverage, PersonFacts
from integrations.oqs.simulator.health import DISEASE_NAMES, REGIMENS
from integrations.oqs.simulator.prescriptions import prescription_history, prescription_window

TODAY = date(2026, 11, 23)
SEEDS = range(1, 401)
# Drugs that only one condition's regimen uses: seeing one in the history implies that condition.
_USERS: dict[str, set[str]] = {}
for _condition, _regimens in REGIMENS.items():
    for _regimen in _regimens:
        for _key in _regimen:
            _USERS.setdefault(DRUGS[_key].code, set()).add(_condition)
ANTIDIABETICS = {DRUGS[k].code for regimen in REGIMENS["diabetes"] for k in regimen}


def facts(seed: int) -> PersonFacts:
    """A person of any age (newborns to 100), insured throughout, from the seed alone."""
    rng = random.Random(seed)
    birth = TODAY - timedelta(days=rng.randrange(1, 100 * 365))
    sex = rng.choice("12")
    return PersonFacts(seed, sex, birth, "dialysis" if seed % 97 == 0 else "", "新宿区", "西新宿",
                       (Coverage(birth, None, "06"),))


@pytest.mark.parametrize("seed", SEEDS)
def test_clinical_and_surgery_data_agree_with_the_drug_history_and_age(seed):
    person = facts(seed)
    clinical, surgery = clinical_info(person, today=TODAY), surgery_info(person, today=TODAY)
    claims, prescriptions = drug_history(person, today=TODAY), prescription_history(person, today=TODAY)
    diagnosed = {d.name for d in surgery.diagnoses}

    for record in claims + prescriptions:
        users = _USERS.get(record.drug_code, set())
        # The home clinic prescribes the chronic regimens (orthopaedists also prescribe some of them).
        if len(users) == 1 and record.prescriber == providers_of(person).home:
            (condition,) = users
            assert DISEASE_NAMES[condition] in diagnosed, (record.drug_name, diagnosed)
        if record.drug_code in ANTIDIABETICS:
            assert "２型糖尿病" in diagnosed
            assert clinical.latest("HbA1c") is not None

    # Nothing before birth, nothing in the future; labs only for adults, newest first.
    for lab in clinical.labs:
        assert person.birth_date < lab.tested_on < TODAY
        assert lab.tested_on >= person.birth_date.replace(year=person.birth_date.year + 18) - timedelta(days=1)
        assert lab.unit and (lab.low is not None or lab.high is not None)
        assert lab.flag == ("H" if lab.high is not None and lab.value > lab.high
                            else "L" if lab.low is not None and lab.value < lab.low else "")
    assert [lab.tested_on for lab in clinical.labs] == sorted((lab.tested_on for lab in clinical.labs), reverse=True)
    for dated in [d.started_on for d in surgery.diagnoses] + [p.performed_on for p in surgery.procedures] + \
            [i.found_on for i in surgery.infections] + [a.noted_on for a in clinical.drug_allergies] + \
            [a.noted_on for a in clinical.other_allergies]:
        assert person.birth_date <= dated <= TODAY
    for diagnosis in surgery.diagnoses:
        assert diagnosis.icd10[0].isalpha() and diagnosis.icd10[1:3].isdigit()

    # Nobody is dispensed a drug they are recorded as allergic to.
    allergens = {a.drug for a in clinical.drug_allergies}
    assert not allergens & {r.ingredient for r in claims + prescriptions}

    # E-prescription data: the last 100 days up to yesterday, never 院内処方, refills counted.
    first, last = prescription_window(TODAY)
    assert (first, last) == (TODAY - timedelta(days=100), TODAY - timedelta(days=1))
    for record in prescriptions:
        assert record.source == "prescription"
        assert first <= record.dispensed_on <= last
        assert record.dispensing == "院外" and record.dispenser
        assert record.prescribed_on <= record.dispensed_on
        if record.refill_total is not None:
            assert record.refill_total in (2, 3) and 1 <= record.refill_use <= record.refill_total
            assert (record.refill_use == 1) == (record.prescribed_on == record.dispensed_on)
    assert all(r.source == "claims" for r in claims)


@pytest.mark.parametrize("seed", range(1, 60))
def test_a_later_read_shows_the_same_past(seed):
    person = facts(seed)
    later = TODAY + timedelta(days=45)
    now_labs = {(lab.tested_on, lab.code): lab for lab in clinical_info(person, today=TODAY).labs}
    later_labs = {(lab.tested_on, lab.code): lab for lab in clinical_info(person, today=later).labs}
    for key, lab in now_labs.items():
        if key[0] > later - timedelta(days=365):
            assert later_labs[key] == lab
    now = [r for r in prescription_history(person, today=TODAY) if r.dispensed_on >= later - timedelta(days=100)]
    again = [r for r in prescription_history(person, today=later) if r.dispensed_on <= TODAY - timedelta(days=1)]
    assert now == again


def test_many_seeds_give_every_kind_of_data():
    """The rules above are not vacuous: across the seeds each kind of data turns up."""
    people = [facts(seed) for seed in SEEDS]
    clinical = [clinical_info(p, today=TODAY) for p in people]
    surgery = [surgery_info(p, today=TODAY) for p in people]
    prescriptions = [r for p in people for r in prescription_history(p, today=TODAY)]
    assert sum(1 for c in clinical if c.drug_allergies) >= 10
    assert sum(1 for c in clinical if c.other_allergies) >= 50
    assert sum(1 for c in clinical if (c.latest("eGFR") and c.latest("eGFR").value < 60)) >= 10
    assert sum(1 for s in surgery if s.procedures) >= 10
    assert sum(1 for s in surgery if s.diagnoses) >= 100
    assert {r.refill_use for r in prescriptions if r.refill_total} >= {1, 2}
    assert any(r.drug_code in ANTIDIABETICS for r in prescriptions)


def test_a_dialysis_patient_has_end_stage_kidney_function_and_a_shunt():
    person = PersonFacts(5, "1", date(1950, 1, 1), "dialysis", "新宿区", "西新宿", (Coverage(date(1950, 1, 1), None, "06"),))
    egfr = clinical_info(person, today=TODAY).latest("eGFR")
    assert egfr.value < 15 and egfr.flag == "L"
    surgery = surgery_info(person, today=TODAY)
    assert "慢性腎不全" in {d.name for d in surgery.diagnoses}
    assert "内シャント設置術" in {p.name for p in surgery.procedures}


@pytest.fixture
def oqs(app):
    with app.extensions["sessionmaker"]() as session:
        yield make_oqs(session)


def test_the_simulator_answers_clinical_surgery_and_prescriptions(oqs):
    person = oqs.create_person(today=TODAY, birth_date=date(1950, 6, 6), validity=1, seed=5)
    clinical = oqs.clinical(person.person_id, today=TODAY).to_dict()
    assert set(clinical) == {"drug_allergies", "other_allergies", "labs"}
    assert clinical["labs"] and set(clinical["labs"][0]) >= {"tested_on", "code", "name", "value", "unit", "low", "high"}
    surgery = oqs.surgery(person.person_id, today=TODAY).to_dict()
    assert set(surgery) == {"diagnoses", "procedures", "infections"}
    assert surgery["diagnoses"] and set(surgery["diagnoses"][0]) >= {"name", "icd10", "started_on"}
    prescriptions = oqs.prescriptions(person.person_id, today=TODAY)
    assert all(r.to_dict()["source"] == "prescription" for r in prescriptions)
    assert all(r.to_dict()["source"] == "claims" for r in oqs.drugs(person.person_id, today=TODAY))


def test_an_unknown_person_has_no_clinical_data(oqs):
    assert oqs.clinical("nobody", today=TODAY).empty
    assert oqs.surgery("nobody", today=TODAY).empty
    assert oqs.prescriptions("nobody", today=TODAY) == []


def test_the_demo_has_a_patient_to_warn_about_and_one_with_a_refill(app):
    from integrations.oqs.simulator import load_demo_population

    day = date(2026, 11, 30)
    with app.extensions["sessionmaker"]() as session:
        load_demo_population(session, today=day, institution_codes=["1341234563"])
        session.commit()
        oqs = make_oqs(session)
        clinical = oqs.clinical("demo-suzuki-ichiro", today=day)
        assert clinical.drug_allergies and clinical.latest("eGFR").value < 60
        assert any(r.refill_total for r in oqs.prescriptions("demo-yamada-hanako", today=day))
