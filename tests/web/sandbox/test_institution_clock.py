"""An institution's own sandbox clock (PUT/DELETE /sandbox/institutions/<code>/clock): it wins over
the global clock for everything evaluated for that institution, and for nothing else."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from api_support import bearer, console_login, csrf_of
from consent import events, grants
from consent.events import Event
from consent.institutions import institution_by_code
from integrations.oqs.simulator import make_oqs

# The global clock in the tests below: a Friday morning in Japan.
GLOBAL = "2026-12-04T10:00:00+09:00"
DAY = date(2026, 12, 4)


@pytest.fixture
def sandbox(make_app):
    app = make_app("sandbox", use_clock=False)
    assert app.test_client().put("/sandbox/clock", json={"now": GLOBAL}).status_code == 200
    return app


def _made(app) -> dict:
    resp = app.test_client().post("/sandbox/institutions", json={})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _consent_at(app, code: str, person_id: str) -> str:
    """A consent registered today (global time) at `code`: drug, checkup and limit, online."""
    with app.extensions["sessionmaker"]() as s:
        institution = institution_by_code(s, code)
        consent = grants.register_consent(
            s, institution_id=institution.id, person_id=person_id, card_id="card_clock", care_setting=3,
            categories=["drug", "checkup", "limit"], consultation_date=DAY,
            now=datetime.fromisoformat(GLOBAL), validity_code=1)
        s.commit()
        return consent.id


def _token(app, made: dict) -> dict:
    client = made["api_client"]
    resp = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=(client["client_id"], client["client_secret"]))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _drug_flag(app, made: dict, consent_id: str) -> int:
    resp = app.test_client().get(f"/api/v1/consents/{consent_id}", headers=bearer(_token(app, made)))
    assert resp.status_code == 200, resp.get_json()
    return next(s["flag"] for s in resp.get_json()["category_states"] if s["category"] == "drug")


@pytest.fixture
def two(sandbox):
    """Two sandbox pharmacies, one patient with a consent at each (registered at GLOBAL)."""
    with sandbox.extensions["sessionmaker"]() as s:
        person = make_oqs(s).create_person(today=DAY, birth_date=date(1958, 7, 7), validity=1, seed=4040)
        s.commit()
        person_id = person.person_id
    a, b = _made(sandbox), _made(sandbox)
    return a, b, _consent_at(sandbox, a["institution_code"], person_id), _consent_at(sandbox, b["institution_code"],
                                                                                      person_id)


def test_an_institutions_own_clock_wins_for_it_and_for_nothing_else(sandbox, two):
    a, b, consent_a, consent_b = two
    client = sandbox.test_client()
    assert (_drug_flag(sandbox, a, consent_a), _drug_flag(sandbox, b, consent_b)) == (1, 1)

    later = "2026-12-07T10:00:00+09:00"  # past the window of a consent for 12月4日
    resp = client.put(f"/sandbox/institutions/{a['institution_code']}/clock", json={"now": later})
    assert resp.status_code == 200 and resp.get_json() == {"now": later}
    assert client.get(f"/sandbox/institutions/{a['institution_code']}/clock").get_json() == {"now": later}
    assert client.get(f"/sandbox/institutions/{b['institution_code']}/clock").get_json() == {"now": GLOBAL}
    assert client.get("/sandbox/clock").get_json() == {"now": GLOBAL}  # the global clock stays
    # The API judges A's consent on A's clock: expired (flag 2); B's is still consented.
    assert (_drug_flag(sandbox, a, consent_a), _drug_flag(sandbox, b, consent_b)) == (2, 1)

    # The global clock moving leaves A's where it is.
    assert client.put("/sandbox/clock", json={"now": "2026-12-01T10:00:00+09:00"}).status_code == 200
    assert client.get(f"/sandbox/institutions/{a['institution_code']}/clock").get_json() == {"now": later}

    # DELETE: back to the global clock, and says what that reads.
    resp = client.delete(f"/sandbox/institutions/{a['institution_code']}/clock")
    assert resp.status_code == 200 and resp.get_json() == {"now": "2026-12-01T10:00:00+09:00"}
    assert client.get(f"/sandbox/institutions/{a['institution_code']}/clock").get_json()["now"] == \
        "2026-12-01T10:00:00+09:00"


def test_the_console_shows_the_institutions_own_day(sandbox, two):
    a, b, _consent_a, _consent_b = two
    client = sandbox.test_client()
    assert client.put(f"/sandbox/institutions/{a['institution_code']}/clock",
                      json={"now": "2027-01-05T09:00:00+09:00"}).status_code == 200
    pharmacist_a = next(s for s in a["staff"] if s["role"] == "pharmacist")
    pharmacist_b = next(s for s in b["staff"] if s["role"] == "pharmacist")
    page_a = console_login(sandbox, pharmacist_a["login_id"], pharmacist_a["password"]).get("/pharmacy/")
    page_b = console_login(sandbox, pharmacist_b["login_id"], pharmacist_b["password"]).get("/pharmacy/")
    assert 'value="2027-01-05"' in page_a.get_data(as_text=True)
    assert 'value="2026-12-04"' in page_b.get_data(as_text=True)


def test_the_sweep_notes_expiries_on_each_institutions_own_clock(sandbox, two):
    a, b, consent_a, consent_b = two
    client = sandbox.test_client()
    # The window of a consent for 12月4日 ends at 12月6日 00:00 JST: A's clock one second before,
    # B's at that instant; the global clock (GLOBAL) before both.
    assert client.put(f"/sandbox/institutions/{a['institution_code']}/clock",
                      json={"now": "2026-12-05T23:59:59+09:00"}).status_code == 200
    assert client.put(f"/sandbox/institutions/{b['institution_code']}/clock",
                      json={"now": "2026-12-06T00:00:00+09:00"}).status_code == 200
    clock = sandbox.extensions["clock"]
    with sandbox.extensions["sessionmaker"]() as s:
        written = events.sweep_expiries(s, now=clock.now(), own_clocks=clock.own_clocks())
        s.commit()
        expired = set(s.scalars(select(Event.consent_id).where(Event.type == events.EVENT_CONSENT_EXPIRED)))
    assert expired == {consent_b} and written == 1
    # A second later on A's clock: A's too, and B's is not noted twice.
    client.put(f"/sandbox/institutions/{a['institution_code']}/clock", json={"now": "2026-12-06T00:00:00+09:00"})
    with sandbox.extensions["sessionmaker"]() as s:
        assert events.sweep_expiries(s, now=clock.now(), own_clocks=clock.own_clocks()) == 1
        s.commit()
        expired = set(s.scalars(select(Event.consent_id).where(Event.type == events.EVENT_CONSENT_EXPIRED)))
    assert expired == {consent_a, consent_b}


def test_a_clock_before_the_global_one_keeps_its_consents_open_for_the_sweep(sandbox, two):
    a, _b, consent_a, _consent_b = two
    client = sandbox.test_client()
    assert client.put(f"/sandbox/institutions/{a['institution_code']}/clock",
                      json={"now": "2026-12-04T12:00:00+09:00"}).status_code == 200
    assert client.put("/sandbox/clock", json={"now": "2026-12-09T10:00:00+09:00"}).status_code == 200
    clock = sandbox.extensions["clock"]
    with sandbox.extensions["sessionmaker"]() as s:
        events.sweep_expiries(s, now=clock.now(), own_clocks=clock.own_clocks())
        s.commit()
        expired = set(s.scalars(select(Event.consent_id).where(Event.type == events.EVENT_CONSENT_EXPIRED)))
    assert consent_a not in expired  # B's (on the global clock) has; A's time has not come


@pytest.mark.parametrize("body, status", [
    ({"now": "2026-12-04T10:00:00"}, 422),  # no offset
    ({"now": "1970-01-01T00:00:00+00:00"}, 422),
    ({"now": "2026-12-04T10:00:00+09:00", "later": 1}, 422),  # an unknown field
    ({}, 422),
])
def test_a_bad_institution_clock_is_422_and_changes_nothing(sandbox, body, status):
    made = _made(sandbox)
    client = sandbox.test_client()
    resp = client.put(f"/sandbox/institutions/{made['institution_code']}/clock", json=body)
    assert resp.status_code == status and resp.get_json()["error"] in ("invalid_field", "invalid_parameter")
    assert client.get(f"/sandbox/institutions/{made['institution_code']}/clock").get_json() == {"now": GLOBAL}


def test_an_unknown_institutions_clock_is_404(sandbox):
    client = sandbox.test_client()
    assert client.put("/sandbox/institutions/9999999999/clock", json={"now": GLOBAL}).status_code == 404
    assert client.delete("/sandbox/institutions/9999999999/clock").status_code == 404


def test_the_tablet_idles_on_the_institutions_own_clock(sandbox):
    made = _made(sandbox)
    code = made["institution_code"]
    clerk = next(s for s in made["staff"] if s["role"] == "clerk")
    url = urlsplit(made["reception_urls"]["outpatient"]).path.lstrip("/")
    tablet = sandbox.test_client()

    page = tablet.get("/" + url)
    resp = tablet.post("/" + url + "/staff/login", data={
        "csrf_token": csrf_of(page.get_data(as_text=True)), "login_id": clerk["login_id"],
        "password": clerk["password"]})
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)
    start = tablet.get("/" + url)
    resp = tablet.post("/" + url + "/tablet/start", data={"csrf_token": csrf_of(start.get_data(as_text=True))})
    assert resp.status_code in (302, 303)
    assert tablet.get("/" + url + "/tablet/idle").get_json()["redirect"] is None
    # Two minutes on the institution's clock (the global one stands still): back to the start.
    moved = datetime.fromisoformat(GLOBAL) + timedelta(minutes=2, seconds=1)
    sandbox.test_client().put(f"/sandbox/institutions/{code}/clock", json={"now": moved.isoformat()})
    assert tablet.get("/" + url + "/tablet/idle").get_json()["redirect"] is not None


def test_the_reception_offers_the_institutions_own_day(sandbox):
    made = _made(sandbox)
    sandbox.test_client().put(f"/sandbox/institutions/{made['institution_code']}/clock",
                              json={"now": "2027-03-01T08:00:00+09:00"})
    page = sandbox.test_client().get(urlsplit(made["reception_url"]).path + "/consent").get_data(as_text=True)
    assert 'value="2027-03-01"' in page  # the 診療日 field starts at the institution's today


def test_a_disaster_period_is_judged_on_the_institutions_own_clock(sandbox):
    made = _made(sandbox)
    code = made["institution_code"]
    client = sandbox.test_client()
    assert client.post("/sandbox/disasters", json={
        "name": "テスト豪雨", "institution_codes": [code],
        "from": "2026-12-10T00:00:00+09:00", "until": "2026-12-12T00:00:00+09:00"}).status_code == 201
    pharmacist = next(s for s in made["staff"] if s["role"] == "pharmacist")
    console = console_login(sandbox, pharmacist["login_id"], pharmacist["password"])

    def banner() -> str:
        html = console.get("/pharmacy/").get_data(as_text=True)
        return "実施中" if "災害時特別措置（実施中）" in html else "予定" if "災害時特別措置（予定）" in html else "終了"

    assert banner() == "予定"  # the global clock: 12月4日
    client.put(f"/sandbox/institutions/{code}/clock", json={"now": "2026-12-10T00:00:00+09:00"})  # from: inclusive
    assert banner() == "実施中"
    assert "災害時閲覧" in console.get("/pharmacy/").get_data(as_text=True)
    client.put(f"/sandbox/institutions/{code}/clock", json={"now": "2026-12-12T00:00:00+09:00"})  # until: exclusive
    assert banner() == "終了"
    assert client.get("/sandbox/clock").get_json() == {"now": GLOBAL}


def test_a_home_visit_lapses_on_the_institutions_own_clock(sandbox):
    made = _made(sandbox)
    code = made["institution_code"]
    client = sandbox.test_client()
    client.patch(f"/sandbox/institutions/{code}", json={"home_visit_lapse_days": 30})
    with sandbox.extensions["sessionmaker"]() as s:
        from consent import home_visits

        person = make_oqs(s).create_person(today=DAY, birth_date=date(1940, 5, 6), validity=1, seed=4042)
        consent = home_visits.register_first_visit(
            s, institution_id=institution_by_code(s, code).id, person_id=person.person_id, card_id="card_hv",
            categories=["drug"], now=datetime.fromisoformat(GLOBAL), validity_code=1)
        s.commit()
        consent_id, lapses_at = consent.id, consent.lapses_at
    client.put(f"/sandbox/institutions/{code}/clock", json={"now": (lapses_at - timedelta(seconds=1)).isoformat()})
    assert _drug_flag(sandbox, made, consent_id) == 1
    client.put(f"/sandbox/institutions/{code}/clock", json={"now": lapses_at.isoformat()})
    assert _drug_flag(sandbox, made, consent_id) == 2  # lapsed: 30 days without a visit, on its clock


def test_the_tablets_certificate_confirmation_reads_the_institutions_own_clock(sandbox):
    """「資格確認書で確認」 on the tablet is one of the tablet's pages: its institution's clock, not the
    global one (which would find the mode idle and record the confirmation for another day)."""
    made = _made(sandbox)
    code = made["institution_code"]
    client = sandbox.test_client()
    holder = client.post("/sandbox/patients", json={"card": False, "seed": 4043}).get_json()
    own = "2026-12-03T21:00:00+09:00"  # 13 hours before the global clock, the day before
    assert client.put(f"/sandbox/institutions/{code}/clock", json={"now": own}).status_code == 200
    clerk = next(s for s in made["staff"] if s["role"] == "clerk")
    url = "/" + urlsplit(made["reception_urls"]["outpatient"]).path.lstrip("/")
    tablet = sandbox.test_client()
    page = tablet.get(url)
    tablet.post(url + "/staff/login", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                            "login_id": clerk["login_id"], "password": clerk["password"]})
    start = tablet.get(url)
    tablet.post(url + "/tablet/start", data={"csrf_token": csrf_of(start.get_data(as_text=True))})

    form = tablet.get(url + "/certificate")
    assert form.status_code == 200, form.headers.get("Location")  # not idled away by the global clock
    keys = {key: holder[key] or "" for key in ("insurer_number", "symbol", "number", "branch", "birth_date")}
    done = tablet.post(url + "/certificate", data={"csrf_token": csrf_of(form.get_data(as_text=True)), **keys})
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    with sandbox.extensions["sessionmaker"]() as s:
        from consent.models import Consent

        (consent,) = s.scalars(select(Consent).where(Consent.person_id == holder["person_id"])).all()
        assert consent.consultation_date == date(2026, 12, 3)
        assert consent.qualification_confirmed_at == datetime.fromisoformat(own)
