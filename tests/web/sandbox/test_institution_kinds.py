"""POST /sandbox/institutions "kind": the code carries the kind's 点数表番号, staff carry its labels."""
from __future__ import annotations

import pytest

from consent.institutions import Institution
from consent.vocabulary import INSTITUTION_KINDS
from integrations.oqs.numbering import is_valid_institution_code


@pytest.fixture
def sandbox(make_app):
    return make_app("sandbox", use_clock=False)


@pytest.mark.parametrize("kind, digit, licensed", [
    ("pharmacy", "4", "薬剤師"), ("clinic", "1", "医師"), ("dental", "3", "歯科医師"), ("visiting_nurse", "6", "看護師"),
])
def test_each_kind_gets_a_code_with_its_digit_and_its_licensed_label(sandbox, kind, digit, licensed):
    made = sandbox.test_client().post("/sandbox/institutions", json={"kind": kind})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    code = body["institution_code"]
    assert code[2] == digit and is_valid_institution_code(code)
    assert body["kind"] == kind
    labels = {entry["role"]: entry["role_label"] for entry in body["staff"]}
    assert labels == {"pharmacist": licensed, "clerk": "事務", "admin": "管理者"}
    with sandbox.extensions["sessionmaker"]() as session:
        assert session.query(Institution).filter_by(institution_code=code).one().kind == kind


def test_the_default_kind_is_a_pharmacy(sandbox):
    body = sandbox.test_client().post("/sandbox/institutions", json={}).get_json()
    assert body["kind"] == "pharmacy" and body["institution_code"][2] == "4"
    assert {"role": "pharmacist", "role_label": "薬剤師"}.items() <= body["staff"][0].items()


@pytest.mark.parametrize("kind", ["hospital", "", 4, None, ["clinic"]])
def test_an_unknown_kind_is_422_naming_the_kinds(sandbox, kind):
    resp = sandbox.test_client().post("/sandbox/institutions", json={"kind": kind})
    assert resp.status_code == 422
    assert resp.get_json()["error"] == "invalid_field" or resp.get_json()["error"] == "invalid_parameter"
    assert "kind" in resp.get_json()["message"]


def test_the_kind_cannot_be_changed_later(sandbox):
    client = sandbox.test_client()
    code = client.post("/sandbox/institutions", json={"kind": "clinic"}).get_json()["institution_code"]
    resp = client.patch(f"/sandbox/institutions/{code}", json={"kind": "pharmacy"})
    assert resp.status_code == 422 and "kind" in resp.get_json()["message"]


def test_every_kind_is_in_the_vocabulary_once():
    assert sorted(k.table for k in INSTITUTION_KINDS.values()) == [1, 3, 4, 6]
