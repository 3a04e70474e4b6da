"""Medical aid in the console, the API and the sandbox: 併用 records, the deprecated one-digit codes,
and 委託先資格情報の一括取得 (console page, Excel-safe CSV, API)."""
from __future__ import annotations

import csv
import io

import pytest

from api_support import TODAY, bearer, console_login, staff_token, system_token
from consent import grants
from consent.institutions import create_institution
from integrations.oqs.simulator import make_oqs

PHARMACY = "1341234563"  # world's 本町薬局
CLINIC = "1311234569"


def _people(w, clock):
    """A 併用 recipient with a consent here, a recipient entrusted here without one, and one entrusted elsewhere."""
    with w.session() as s:
        # The clinic that wrote the prescriptions: a name Excel would run as a formula.
        create_institution(s, code=CLINIC, name="=HYPERLINK(\"http://x\")クリニック", now=clock.now())
        oqs = make_oqs(s)
        both = oqs.create_person(today=TODAY, medical_aid=True, insured=True,
                                 entrusted_institution_codes=[PHARMACY, CLINIC], seed=801)
        alone = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=[PHARMACY], seed=802)
        elsewhere = oqs.create_person(today=TODAY, medical_aid=True, entrusted_institution_codes=["1341111118"],
                                      seed=803)
        consent = grants.register_consent(
            s, institution_id=w.here, person_id=both.person_id, card_id="card_y", care_setting=3,
            categories=["drug"], consultation_date=TODAY, now=clock.now(), validity_code=1)
        s.commit()
        return both, alone, elsewhere, consent.id


# -- /qualification: the primary record and `records` ----------------------------------------------

def test_qualification_of_a_combined_person_keeps_the_primary_record_and_adds_records(world, clock):
    both, _, _, consent_id = _people(world, clock)
    token = system_token(world.app, world.system_client)
    resp = world.app.test_client().get(f"/api/v1/consents/{consent_id}/qualification", headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    primary = body["qualification"]
    assert primary["insurer_number"] == both.insurer_number and primary["card_classification"] != "A1"
    insurance, aid = primary["records"]
    assert insurance["insurer_number"] == both.insurer_number and insurance["records"] == []
    assert aid["card_classification"] == "A1" and aid["recipient_number"] == both.recipient_number
    ticket = aid["ticket"]
    assert (ticket["ticket_type_code"], ticket["ticket_type"]) == ("02", "2")
    assert (ticket["combination_code"], ticket["combination"], ticket["combination_text"]) == ("02", "2", "併用")
    assert ticket["care_kind"] == "04" and ticket["designated_institution_check"] == "0"
    assert ticket["prescribing_institution_code"] == CLINIC


def test_the_openapi_document_marks_the_one_digit_fields_deprecated(world):
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    ticket = doc["components"]["schemas"]["MedicalTicket"]["properties"]
    assert ticket["ticket_type"].get("deprecated") is True and ticket["combination"].get("deprecated") is True
    schemas = doc["components"]["schemas"]
    assert ticket["ticket_type_code"]["$ref"].endswith("/TicketType") and schemas["TicketType"]["enum"] == ["01", "02"]
    assert ticket["combination_code"]["$ref"].endswith("/AidCombination")
    assert schemas["AidCombination"]["enum"] == ["01", "02"]
    assert "deprecated" not in ticket["ticket_type_code"]
    assert "/api/v1/medical-aid/entrusted-tickets" in doc["paths"]


# -- the console ------------------------------------------------------------------------------

def test_the_patient_page_shows_both_records_the_aid_one_with_its_ticket(world, clock):
    both, _, _, consent_id = _people(world, clock)
    html = console_login(world.app, "clerk").get(f"/pharmacy/consents/{consent_id}").get_data(as_text=True)
    assert both.insurer_number in html and both.recipient_number in html
    assert "医療保険" in html and "医療扶助" in html
    assert "調剤券" in html and "併用" in html and "処方箋発行医療機関" in html


def test_the_bulk_fetch_page_lists_this_months_tickets_for_pharmacists_and_admins(world, clock):
    both, alone, elsewhere, _ = _people(world, clock)
    for login_id in ("pharmacist", "admin"):
        assert "医療券・調剤券</a>" in console_login(world.app, login_id).get("/pharmacy/").get_data(as_text=True)
        resp = console_login(world.app, login_id).get("/pharmacy/medical-aid/tickets")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "2026年11月の医療券・調剤券（2件）" in html
        assert both.recipient_number in html and alone.recipient_number in html
        assert elsewhere.recipient_number not in html
        assert "併用" in html and "単独" in html and "CSVでダウンロード" in html


def test_a_clerk_is_refused_the_bulk_fetch(world, clock):
    _people(world, clock)
    browser = console_login(world.app, "clerk")
    assert browser.get("/pharmacy/medical-aid/tickets").status_code == 403
    assert browser.get("/pharmacy/medical-aid/tickets.csv?month=202611").status_code == 403


@pytest.mark.parametrize("month", ["2026-12", "2026-13", "abc", "20261"])
def test_the_bulk_fetch_page_refuses_a_bad_or_future_month_in_japanese(world, month):
    resp = console_login(world.app, "pharmacist").get(f"/pharmacy/medical-aid/tickets?month={month}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'role="alert"' in html and "年月" in html


def test_the_bulk_fetch_csv_is_excel_safe(world, clock):
    both, alone, _, _ = _people(world, clock)
    resp = console_login(world.app, "pharmacist").get("/pharmacy/medical-aid/tickets.csv?month=202611")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "entrusted-tickets-202611.csv" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff受給者番号,公費負担者番号,氏名")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert {r["受給者番号"] for r in rows} == {"\t" + both.recipient_number, "\t" + alone.recipient_number}
    combined = next(r for r in rows if r["受給者番号"] == "\t" + both.recipient_number)
    # Codes stay text (leading zeros kept), and a formula is written as text.
    assert combined["医療券・調剤券別"] == "\t02" and combined["単独・併用別"] == "\t02" and combined["診療別"] == "\t04"
    assert combined["処方箋発行医療機関名"] == "'=HYPERLINK(\"http://x\")クリニック"
    assert combined["医療保険の保険者番号"] == "\t" + both.insurer_number


# -- the API ---------------------------------------------------------------------------------------

def test_the_api_bulk_fetch_returns_tickets_and_their_qualifications(world, clock):
    both, alone, elsewhere, _ = _people(world, clock)
    token = system_token(world.app, world.system_client)
    resp = world.app.test_client().get("/api/v1/medical-aid/entrusted-tickets?month=202611", headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["month"] == "202611"
    by_recipient = {t["qualification"]["recipient_number"]: t for t in body["tickets"]}
    assert set(by_recipient) == {both.recipient_number, alone.recipient_number}
    combined = by_recipient[both.recipient_number]
    assert combined["ticket"]["combination_code"] == "02" and combined["ticket"]["treatment_month"] == "202611"
    assert [r["card_classification"] == "A1" for r in combined["records"]] == [True, False]


def test_a_ticket_registered_after_the_visit_appears_in_the_api_bulk_fetch(world, clock):
    _, _, elsewhere, _ = _people(world, clock)
    token = system_token(world.app, world.system_client)
    client = world.app.test_client()
    path = "/api/v1/medical-aid/entrusted-tickets?month=202611"
    before = {t["qualification"]["recipient_number"] for t in client.get(path, headers=bearer(token)).get_json()["tickets"]}
    assert elsewhere.recipient_number not in before
    with world.session() as s:
        make_oqs(s).register_entrustment(person_id=elsewhere.person_id, institution_code=PHARMACY)
        s.commit()
    after = {t["qualification"]["recipient_number"] for t in client.get(path, headers=bearer(token)).get_json()["tickets"]}
    assert elsewhere.recipient_number in after


def test_the_api_bulk_fetch_takes_the_month_as_yyyy_mm(world, clock):
    both, alone, _, _ = _people(world, clock)
    token = system_token(world.app, world.system_client)
    resp = world.app.test_client().get("/api/v1/medical-aid/entrusted-tickets?month=2026-11", headers=bearer(token))
    assert resp.status_code == 200 and resp.get_json()["month"] == "2026-11"
    assert {t["qualification"]["recipient_number"] for t in resp.get_json()["tickets"]} == {
        both.recipient_number, alone.recipient_number}


# 2026-11 is the month's form now (issue 32), 202611 still accepted: neither is refused.
@pytest.mark.parametrize("query", ["", "?month=2026-13", "?month=202613", "?month=202612", "?month=abcdef",
                                   "?month=2026/11"])
def test_the_api_bulk_fetch_refuses_a_bad_month(world, query):
    token = system_token(world.app, world.system_client)
    resp = world.app.test_client().get(f"/api/v1/medical-aid/entrusted-tickets{query}", headers=bearer(token))
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"
    assert resp.get_json()["message"]


def test_the_api_bulk_fetch_needs_the_batch_scope(world):
    token = staff_token(world.app, world.code_client, "pharmacist", scope="consents qualification")
    resp = world.app.test_client().get("/api/v1/medical-aid/entrusted-tickets?month=202611", headers=bearer(token))
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"


# -- the sandbox ---------------------------------------------------------------------------------

def test_the_sandbox_makes_a_person_with_insurance_and_medical_aid(make_app):
    client = make_app("sandbox").test_client()
    resp = client.post("/sandbox/patients", json={"medical_aid": True, "insured": True})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["insurer_number"] and body["number"] and body["public_payer_number"] and body["recipient_number"]
    assert len(body["entrusted_institution_codes"]) == 2


@pytest.mark.parametrize("body", [
    {"insured": True}, {"medical_aid": True, "insured": "yes"},
    {"medical_aid": True, "insured": True, "birth_date": "1940-01-01"},
    {"medical_aid": True, "insured": True, "validity": 2},
])
def test_the_sandbox_refuses_a_combined_person_that_cannot_exist(make_app, body):
    resp = make_app("sandbox").test_client().post("/sandbox/patients", json=body)
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_field" and resp.get_json()["message"]



def test_bulk_fetch_and_combined_qualification_answers_match_the_openapi_document(world, clock):
    import jsonschema_rs

    _, _, _, consent_id = _people(world, clock)
    client = world.app.test_client()
    doc = client.get("/api/openapi.json").get_json()
    token = system_token(world.app, world.system_client)

    def check(path, answer):
        operation = doc["paths"][path]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]}).validate(answer)

    tickets = client.get("/api/v1/medical-aid/entrusted-tickets?month=202611", headers=bearer(token)).get_json()
    assert len(tickets["tickets"]) == 2
    check("/api/v1/medical-aid/entrusted-tickets", tickets)
    qualification = client.get(f"/api/v1/consents/{consent_id}/qualification", headers=bearer(token)).get_json()
    check("/api/v1/consents/{consent_id}/qualification", qualification)
    # A wrong value is caught: the check is not vacuous.
    tickets["tickets"][0]["ticket"]["ticket_type_code"] = "2"
    with pytest.raises(jsonschema_rs.ValidationError):
        check("/api/v1/medical-aid/entrusted-tickets", tickets)


def test_the_sandbox_registers_an_entrustment_after_the_visit(make_app, clock):
    app = make_app("sandbox")
    client = app.test_client()
    # The institution must be one of the service's (issue 31: a made-up code was accepted).
    unknown = client.post("/sandbox/patients", json={"medical_aid": True}).get_json()
    refused = client.post(f"/sandbox/patients/{unknown['person_id']}/entrustments", json={"institution_code": PHARMACY})
    assert refused.status_code == 422 and "登録されていません" in refused.get_json()["message"]
    here_code = client.post("/sandbox/institutions", json={"name": "委託先薬局"}).get_json()["institution_code"]
    person = client.post("/sandbox/patients", json={"medical_aid": True}).get_json()
    path = f"/sandbox/patients/{person['person_id']}/entrustments"
    assert client.post(path, json={"institution_code": here_code}).status_code == 201
    assert client.post(path, json={"institution_code": here_code}).status_code == 200
    with app.extensions["sessionmaker"]() as s:
        [entry] = make_oqs(s).entrusted_tickets(institution_code=here_code, month="202611", today=TODAY)
    assert entry.person_id == person["person_id"]
    insured = client.post("/sandbox/patients", json={}).get_json()
    refused = client.post(f"/sandbox/patients/{insured['person_id']}/entrustments",
                          json={"institution_code": here_code})
    assert refused.status_code == 422 and refused.get_json()["message"]
    assert client.post("/sandbox/patients/nobody/entrustments",
                       json={"institution_code": here_code}).status_code == 404
    for body in ({}, {"institution_code": "12"}, {"institution_code": 1341234563}):
        assert client.post(path, json=body).status_code == 422, body


def test_with_medical_aid_switched_off_no_tickets_are_shown_to_the_institution(world, clock):
    """環境設定 医療扶助 off: the bulk fetch (console and API) shows no tickets, and says why."""
    from consent.institutions import Institution

    _people(world, clock)
    with world.app.extensions["sessionmaker"]() as session:
        session.get(Institution, world.here).set_functions({"medical_aid": False})
        session.commit()
    browser = console_login(world.app, "pharmacist")
    page = browser.get("/pharmacy/medical-aid/tickets")
    assert page.status_code == 404 and "環境設定で停止中" in page.get_data(as_text=True)
    assert "医療券・調剤券</a>" not in browser.get("/pharmacy/").get_data(as_text=True)
    token = system_token(world.app, world.system_client)
    resp = world.app.test_client().get("/api/v1/medical-aid/entrusted-tickets?month=202611", headers=bearer(token))
    assert resp.status_code == 403 and resp.get_json()["error"] == "function_off"
