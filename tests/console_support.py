"""Console sign-in and the clinical test people, shared by the console's and the API's tests."""
from __future__ import annotations

import re
from datetime import date

import pytest

from conftest import TODAY


def login(app, login_id, password=None, *, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/pharmacy/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/pharmacy/login", data={"csrf_token": token, "login_id": login_id,
                                                 "password": password or f"{login_id.split('-')[-1]}-password"})
    return client, resp


EVERYTHING = ["drug", "checkup", "clinical", "surgery", "specific_disease", "limit"]


def find_person(oqs, wanted, *, birth_date=date(1950, 6, 6)):
    """The first sandbox person (by seed) for whom `wanted(clinical, surgery, prescriptions)` holds."""
    for seed in range(1, 400):
        person = oqs.create_person(today=TODAY, birth_date=birth_date, validity=1, seed=seed)
        pid = person.person_id
        if wanted(oqs.clinical(pid, today=TODAY), oqs.surgery(pid, today=TODAY), oqs.prescriptions(pid, today=TODAY)):
            return person
    pytest.fail("no seed gave such a person")


def warned(clinical, surgery, prescriptions) -> bool:
    egfr = clinical.latest("eGFR")
    return bool(clinical.drug_allergies) and egfr is not None and egfr.value < 60 and bool(prescriptions)


def nothing(clinical, surgery, prescriptions) -> bool:
    return clinical.empty and surgery.empty
