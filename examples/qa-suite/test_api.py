"""The pharmacy-system API: the institution's system job (client credentials) lists the day's
consents and reads the patient's qualification."""
from __future__ import annotations

from steps import call_api, register


def test_the_system_lists_the_consent_and_reads_the_qualification(
        phone_page, nfc_card, institution, institution_clock, base_url):
    register(phone_page, institution)
    client = institution["api_client"]
    status, token = call_api(base_url, "POST", "/oauth/token", form={"grant_type": "client_credentials"},
                             auth=(client["client_id"], client["client_secret"]))
    assert status == 200, token
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    today = institution_clock.now().date().isoformat()
    status, listing = call_api(base_url, "GET", f"/api/v1/consents?date={today}", headers=bearer)
    assert status == 200, listing
    [consent] = listing["consents"]  # this institution's alone: no other test's patient
    assert consent["person"]["name"] == nfc_card.person["name"]

    status, qualification = call_api(base_url, "GET", f"/api/v1/consents/{consent['id']}/qualification",
                                     headers=bearer)
    assert status == 200, qualification
    assert qualification["qualification"]["insurer_number"] == nfc_card.person["insurer_number"]
