"""/clinical, /surgery and the `source` of /drugs items (issue 23)."""
from __future__ import annotations

from datetime import date

import pytest

from api_support import TODAY, bearer, staff_token
from consent import grants
from integrations.oqs.simulator import make_oqs
from console_support import EVERYTHING, find_person, warned


@pytest.fixture
def full(world, clock):
    """A consent to every category by a person with a drug allergy, a low eGFR and e-prescriptions."""
    with world.session() as s:
        person = find_person(make_oqs(s), warned)
        consent = grants.register_consent(
            s, institution_id=world.here, person_id=person.person_id, card_id="card_full", care_setting=3,
            categories=EVERYTHING, consultation_date=TODAY, now=clock.now(), validity_code=1)
        s.commit()
        return consent.id


def get(world, path, role="pharmacist", scope=None):
    token = staff_token(world.app, world.code_client, role, **({"scope": scope} if scope else {}))
    return world.app.test_client().get(path, headers=bearer(token))


def test_clinical_has_allergies_and_labs_with_units_and_ranges(world, full):
    resp = get(world, f"/api/v1/consents/{full}/clinical")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["consent_id"] == full
    clinical = body["clinical"]
    assert clinical["drug_allergies"][0]["drug"] and clinical["drug_allergies"][0]["reaction"]
    egfr = next(lab for lab in clinical["labs"] if lab["code"] == "eGFR")
    assert egfr["value"] < 60 and egfr["unit"] == "mL/min/1.73m2" and egfr["low"] == 60 and egfr["flag"] == "L"
    assert {lab["code"] for lab in clinical["labs"]} >= {"eGFR", "CRE", "AST", "ALT", "K"}
    assert all(date.fromisoformat(lab["tested_on"]) < TODAY for lab in clinical["labs"])


def test_surgery_has_diagnoses_with_icd10_codes(world, full):
    body = get(world, f"/api/v1/consents/{full}/surgery").get_json()
    surgery = body["surgery"]
    assert set(surgery) == {"diagnoses", "procedures", "infections"}
    assert surgery["diagnoses"] and all(d["icd10"] and d["started_on"] for d in surgery["diagnoses"])


def test_drug_items_name_their_source(world, full):
    drugs = get(world, f"/api/v1/consents/{full}/drugs").get_json()["drugs"]
    sources = {d["source"] for d in drugs}
    assert sources == {"claims", "prescription"}
    days = [d["dispensed_on"] or d["prescribed_on"] for d in drugs]
    assert days == sorted(days, reverse=True)
    fresh = [d for d in drugs if d["source"] == "prescription"]
    assert all(d["dispensing"] == "院外" and (TODAY - date.fromisoformat(d["dispensed_on"])).days <= 100 for d in fresh)
    # The month filter applies to both sources.
    month = fresh[0]["treatment_month"]
    only = get(world, f"/api/v1/consents/{full}/drugs?from={month}&to={month}").get_json()["drugs"]
    assert only and {d["treatment_month"] for d in only} == {month}


@pytest.mark.parametrize("path", ["clinical", "surgery"])
def test_clinical_data_is_for_licensed_staff_only(world, full, path):
    # A clerk's token never carries the clinical scopes (issue 31): refused before the role is.
    resp = get(world, f"/api/v1/consents/{full}/{path}", role="clerk")
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"


def test_the_openapi_document_describes_the_new_shapes(world):
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert schemas["DrugRecord"]["properties"]["source"]["$ref"] == "#/components/schemas/DrugSource"
    assert schemas["DrugSource"]["enum"] == ["claims", "prescription"]
    assert set(schemas["ClinicalInfo"]["properties"]) == {"drug_allergies", "other_allergies", "labs"}
    assert set(schemas["SurgeryInfo"]["properties"]) == {"diagnoses", "procedures", "infections"}
