"""DELETE /sandbox/institutions/<code>: a sandbox-made institution goes with everything it holds;
the demo's (and an operator's) answer 409. Every table is accounted for, so none is forgotten."""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from api_support import bearer, console_login
from consent import grants, home_visits
from consent.disasters import Disaster
from consent.institution_removal import NOT_INSTITUTION_DATA, REMOVED_WITH_INSTITUTION
from consent.institutions import create_institution, institution_by_code
from integrations.oqs.simulator import make_oqs
from ops.demo import DEMO_INSTITUTION_CODE, load_demo, reset_demo
from ops.schema import load_all_models

NOW = "2026-12-04T10:00:00+09:00"
DAY = date(2026, 12, 4)


@pytest.fixture
def sandbox(make_app):
    app = make_app("sandbox", use_clock=False)
    assert app.test_client().put("/sandbox/clock", json={"now": NOW}).status_code == 200
    return app


def test_every_table_is_either_removed_with_an_institution_or_holds_none_of_its_data():
    # A new table must be named in consent/institution_removal.py: removed, or why it holds nothing.
    tables = set(load_all_models().tables)
    removed, kept = set(REMOVED_WITH_INSTITUTION), set(NOT_INSTITUTION_DATA)
    assert not removed & kept
    assert tables - removed - kept == set(), "name the new table in consent/institution_removal.py"
    assert (removed | kept) - tables == set()


def _rows_of(app, institution_id: int, staff_ids: list[int]) -> dict[str, int]:
    """For each table removed with the institution, its rows tied to the institution (or its staff)."""
    counts = {}
    with app.extensions["sessionmaker"]() as s:
        for name in REMOVED_WITH_INSTITUTION:
            table = load_all_models().tables[name]
            if "institution_id" in table.c:
                where = table.c.institution_id == institution_id
            elif "staff_id" in table.c:
                where = table.c.staff_id.in_(staff_ids or [-1])
            elif name == "institutions":
                where = table.c.id == institution_id
            else:
                continue
            counts[name] = s.scalar(select(func.count()).select_from(table).where(where))
    return counts


def _full_institution(app) -> dict:
    """A sandbox institution holding something in every table it may hold: consents (a visit, the
    audit chain, events, patient keys), a staff session, an API token, a clock, a disaster."""
    client = app.test_client()
    made = client.post("/sandbox/institutions", json={}).get_json()
    code = made["institution_code"]
    with app.extensions["sessionmaker"]() as s:
        institution = institution_by_code(s, code)
        person = make_oqs(s).create_person(today=DAY, birth_date=date(1950, 1, 2), validity=1, seed=4041)
        now = datetime.fromisoformat(NOW)
        grants.register_consent(s, institution_id=institution.id, person_id=person.person_id, card_id="card_rm",
                                care_setting=3, categories=["drug", "limit"], consultation_date=DAY, now=now,
                                validity_code=1)
        home_visits.register_first_visit(s, institution_id=institution.id, person_id=person.person_id,
                                         card_id="card_rm", categories=["drug"], now=now, validity_code=1)
        s.commit()
    pharmacist = next(m for m in made["staff"] if m["role"] == "pharmacist")
    console_login(app, pharmacist["login_id"], pharmacist["password"])
    api = made["api_client"]
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(api["client_id"], api["client_secret"])).get_json()
    assert client.get("/api/v1/events", headers=bearer(token)).status_code == 200
    assert client.put(f"/sandbox/institutions/{code}/clock", json={"now": NOW}).status_code == 200
    assert client.post("/sandbox/disasters", json={
        "name": "テスト地震", "institution_codes": [code], "from": NOW, "until": "2026-12-10T00:00:00+09:00",
    }).status_code == 201
    return made


def test_delete_removes_a_sandbox_institution_with_everything_it_holds(sandbox):
    made, other = _full_institution(sandbox), _full_institution(sandbox)
    with sandbox.extensions["sessionmaker"]() as s:
        ids = {m["institution_code"]: institution_by_code(s, m["institution_code"]).id for m in (made, other)}
        from consent.institutions import Staff
        staff = {code: list(s.scalars(select(Staff.id).where(Staff.institution_id == iid))) for code, iid in ids.items()}
    before = _rows_of(sandbox, ids[made["institution_code"]], staff[made["institution_code"]])
    for name in ("consents", "visits", "audit_entries", "events", "staff", "api_clients", "oauth_tokens",
                 "web_sessions", "institution_clocks", "patient_keys"):
        assert before[name] > 0, name  # the fixture really holds something there
    other_before = _rows_of(sandbox, ids[other["institution_code"]], staff[other["institution_code"]])

    resp = sandbox.test_client().delete(f"/sandbox/institutions/{made['institution_code']}")
    assert resp.status_code == 204 and resp.get_data() == b""

    after = _rows_of(sandbox, ids[made["institution_code"]], staff[made["institution_code"]])
    assert after == dict.fromkeys(after, 0)
    assert _rows_of(sandbox, ids[other["institution_code"]], staff[other["institution_code"]]) == other_before
    with sandbox.extensions["sessionmaker"]() as s:
        named = [d.institution_codes for d in s.scalars(select(Disaster))]
    assert named == [other["institution_code"]]  # the disaster declared for it alone went with it
    # Its URLs and its API client are gone; the other's still work.
    client = sandbox.test_client()
    assert client.get(urlsplit(made["reception_url"]).path).status_code == 404
    assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(made["api_client"]["client_id"], made["api_client"]["client_secret"])).status_code == 401
    assert client.get(urlsplit(other["reception_url"]).path).status_code == 200
    # Gone is gone: a second DELETE is 404.
    assert client.delete(f"/sandbox/institutions/{made['institution_code']}").status_code == 404


def test_the_demo_and_an_operators_institutions_are_409(sandbox):
    load_demo(sandbox)
    with sandbox.extensions["sessionmaker"]() as s:
        create_institution(s, code="1341245676", name="本町薬局", now=datetime.fromisoformat(NOW))
        s.commit()
    client = sandbox.test_client()
    for code in (DEMO_INSTITUTION_CODE, "1341245676"):
        resp = client.delete(f"/sandbox/institutions/{code}")
        assert resp.status_code == 409, resp.get_data(as_text=True)
        body = resp.get_json()
        assert body["error"] == "not_sandbox_made" and "demo reset" in body["message"]
    with sandbox.extensions["sessionmaker"]() as s:
        assert institution_by_code(s, DEMO_INSTITUTION_CODE) is not None


def test_demo_reset_restores_the_demo_data(sandbox):
    load_demo(sandbox)
    with sandbox.extensions["sessionmaker"]() as s:
        from consent.models import Consent
        demo_id = institution_by_code(s, DEMO_INSTITUTION_CODE).id
        consents = s.scalar(select(func.count()).select_from(Consent).where(Consent.institution_id == demo_id))
        # The demo revokes one itself (田中 美咲's 限度額, issue 39).
        loaded = sorted(s.scalars(select(Consent.status).where(Consent.institution_id == demo_id)))
        # What a fuzzer did: every demo consent revoked.
        for consent in s.scalars(select(Consent).where(Consent.institution_id == demo_id)):
            consent.status = "revoked"
        s.commit()
    reset_demo(sandbox)
    with sandbox.extensions["sessionmaker"]() as s:
        demo_id = institution_by_code(s, DEMO_INSTITUTION_CODE).id
        rows = list(s.scalars(select(Consent.status).where(Consent.institution_id == demo_id)))
    assert len(rows) == consents and sorted(rows) == loaded and rows.count("revoked") == 1
    client = console_login(sandbox, "demo-pharmacist", "demo-pharmacist-pass")
    assert client.get("/pharmacy/").status_code == 200
