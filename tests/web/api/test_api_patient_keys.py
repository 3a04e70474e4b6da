"""A consent names its patient by `patient_id` (stable per institution, different between
institutions, never the internal person id) and, for a token that also holds the qualification
scope, by the insurance keys it was registered with (issue 32)."""
from __future__ import annotations

from api_support import bearer, staff_token, system_token


def _consent(world, headers, consent_id=None):
    resp = world.app.test_client().get(f"/api/v1/consents/{consent_id or world.consent}", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_patient_id_is_stable_per_institution_and_differs_between_them(world):
    here = bearer(staff_token(world.app, world.code_client, "pharmacist"))
    there = bearer(staff_token(world.app, world.other_code_client, "other-pharmacist"))
    first, again = _consent(world, here), _consent(world, here)
    listed = world.app.test_client().get("/api/v1/consents", headers=here).get_json()["consents"]
    [in_list] = [c for c in listed if c["id"] == world.consent]
    assert first["patient_id"].startswith("pat_")
    assert first["patient_id"] == again["patient_id"] == in_list["patient_id"]
    # The same person at よその薬局: another key, and neither is the person id.
    elsewhere = _consent(world, there, world.other_consent)["patient_id"]
    assert elsewhere.startswith("pat_") and elsewhere != first["patient_id"]
    assert world.person.person_id not in (first["patient_id"], elsewhere)


def test_patient_id_is_the_one_the_events_carry(world):
    consent = _consent(world, bearer(staff_token(world.app, world.code_client, "pharmacist")))
    feed = world.app.test_client().get("/api/v1/events", headers=bearer(
        system_token(world.app, world.system_client, scope="events"))).get_json()
    assert {e["patient_id"] for e in feed["events"] if e["consent_id"] == world.consent} == {consent["patient_id"]}


def test_a_qualification_token_reads_the_insurance_keys_the_consent_was_registered_with(world):
    headers = bearer(staff_token(world.app, world.code_client, "pharmacist"))
    patient = _consent(world, headers)["patient"]
    qualification = world.app.test_client().get(f"/api/v1/consents/{world.consent}/qualification",
                                                 headers=headers).get_json()["qualification"]
    assert patient == {key: qualification[key] for key in ("insurer_number", "symbol", "number", "branch")}
    assert patient["insurer_number"] and patient["number"]
    listed = world.app.test_client().get("/api/v1/consents", headers=headers).get_json()["consents"]
    assert [c["patient"] for c in listed if c["id"] == world.consent] == [patient]


def test_without_the_qualification_scope_there_are_no_insurance_keys(world):
    headers = bearer(staff_token(world.app, world.code_client, "pharmacist", scope="consents drug"))
    consent = _consent(world, headers)
    assert consent["patient"] is None and consent["patient_id"].startswith("pat_")
    listed = world.app.test_client().get("/api/v1/consents", headers=headers).get_json()["consents"]
    assert listed and all(c["patient"] is None for c in listed)


def test_drug_row_ids_are_scoped_by_the_patient_id(world):
    """Ids differ between institutions because patient_ids do, and stay as long as the patient_id."""
    from conftest import TODAY, make_oqs
    from consent.medication import drug_records
    from consent.medication_review import drug_lines, line_ids

    headers = bearer(staff_token(world.app, world.code_client, "pharmacist"))
    patient_id = _consent(world, headers)["patient_id"]
    rows = world.app.test_client().get(f"/api/v1/consents/{world.consent}/drugs", headers=headers).get_json()["drugs"]
    with world.session() as s:
        records = drug_records(make_oqs(s), world.person.person_id, TODAY, None, None)
    expected = line_ids(drug_lines(records), scope=patient_id)
    assert rows and [r["id"] for r in rows] == [i.record_id for i in expected]


def test_the_document_describes_both_keys(world):
    schemas = world.app.test_client().get("/api/openapi.json").get_json()["components"]["schemas"]
    consent = schemas["Consent"]
    assert {"patient_id", "patient"} <= set(consent["required"])
    assert consent["properties"]["patient_id"]["pattern"].startswith("^pat_")
    assert {"$ref": "#/components/schemas/PatientInsurance"} in consent["properties"]["patient"]["anyOf"]
    assert set(schemas["PatientInsurance"]["required"]) == {"insurer_number", "symbol", "number", "branch"}
