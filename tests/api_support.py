"""Shared setup for the pharmacy-system API tests (tests/test_api_*.py): two institutions with
staff, a patient with a consent, registered API clients, and the OAuth flows that get tokens."""
from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from conftest import TODAY
from consent import grants
from consent import institutions
from consent import oauth_clients
from consent.institutions import ALL_FUNCTIONS, add_staff, create_institution
from integrations.oqs.simulator import make_oqs

REDIRECT_URI = "https://rececon.example/callback"
ALL_SCOPES = " ".join(oauth_clients.SCOPES)


@dataclass
class Client:
    client_id: str
    secret: str
    pk: int

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class World:
    app: object
    here: int
    there: int
    consent: str
    other_consent: str
    person: object
    code_client: Client
    system_client: Client
    other_code_client: Client
    staff: dict[str, int] = field(default_factory=dict)

    def session(self):
        return self.app.extensions["sessionmaker"]()


def _client(s, institution_id, **kwargs) -> Client:
    row, secret = oauth_clients.register_client(s, institution_id=institution_id, now=kwargs.pop("now"), **kwargs)
    return Client(row.client_id, secret, row.id)


_cached_hash = functools.lru_cache(maxsize=None)(institutions.hash_password)


@pytest.fixture
def world(make_app, clock, monkeypatch) -> World:
    # Six argon2 hashes per test cost over a second; the same password may share one hash here.
    monkeypatch.setattr(institutions, "hash_password", _cached_hash)
    app = make_app("development")
    now = clock.now()
    with app.extensions["sessionmaker"]() as s:
        # Like the sandbox: every function on (環境設定), 医療扶助 included.
        here = create_institution(s, code="1341234563", name="本町薬局", now=now, functions=ALL_FUNCTIONS)
        there = create_institution(s, code="1341234571", name="よその薬局", now=now)
        staff = {}
        for inst, prefix in ((here, ""), (there, "other-")):
            for role in ("pharmacist", "clerk", "admin"):
                member = add_staff(s, inst, login_id=f"{prefix}{role}", password=f"{role}-password", role=role,
                                   now=now, display_name=f"{prefix}{role}")
                staff[f"{prefix}{role}"] = member.id
        oqs = make_oqs(s)
        # A fixed seed: the tests rely on a drug history spanning several months.
        person = oqs.create_person(today=TODAY, birth_date=date(1958, 7, 7), validity=1, seed=20261123)
        consent = grants.register_consent(
            s, institution_id=here.id, person_id=person.person_id, card_id="card_x", care_setting=3,
            categories=["drug", "checkup", "limit"], consultation_date=TODAY, now=now, validity_code=1)
        other = grants.register_consent(
            s, institution_id=there.id, person_id=person.person_id, card_id="card_x", care_setting=3,
            categories=["drug", "checkup", "limit"], consultation_date=TODAY, now=now, validity_code=1)
        code_client = _client(s, here.id, name="電子薬歴", grant_type="authorization_code", scopes=list(oauth_clients.SCOPES),
                              redirect_uri=REDIRECT_URI, now=now)
        system_client = _client(s, here.id, name="レセコン夜間処理", grant_type="client_credentials",
                                scopes=sorted(oauth_clients.CLIENT_CREDENTIALS_SCOPES), now=now)
        other_code_client = _client(s, there.id, name="よその電子薬歴", grant_type="authorization_code",
                                    scopes=list(oauth_clients.SCOPES), redirect_uri=REDIRECT_URI, now=now)
        s.commit()
        return World(app, here.id, there.id, consent.id, other.id, person, code_client, system_client,
                     other_code_client, staff)


# --- browser side: sign in to the console, approve on /oauth/authorize --------------------------


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def console_login(app, login_id: str, password: str | None = None):
    browser = app.test_client()
    token = csrf_of(browser.get("/pharmacy/login").get_data(as_text=True))
    resp = browser.post("/pharmacy/login", data={
        "csrf_token": token, "login_id": login_id,
        "password": password or f"{login_id.split('-')[-1]}-password"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return browser


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(client: Client, *, scope: str | None = ALL_SCOPES, challenge: str | None = None,
                  method: str | None = "S256", state: str = "st-1", **extra) -> str:
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT_URI, "state": state}
    if scope is not None:
        params["scope"] = scope
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    params.update(extra)
    return "/oauth/authorize?" + urlencode(params)


def approve(browser, url: str, decision: str = "approve"):
    page = browser.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return browser.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "decision": decision})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(browser, client: Client, *, scope: str | None = ALL_SCOPES) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    resp = approve(browser, authorize_url(client, scope=scope, challenge=challenge))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"].startswith(REDIRECT_URI)
    params = query_of(resp.headers["Location"])
    assert params["state"] == "st-1"
    return params["code"], verifier


def exchange(app, client: Client, code: str, verifier: str | None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    return app.test_client().post("/oauth/token", data=data, headers=client.basic)


def staff_token(app, client: Client, login_id: str, *, scope: str | None = ALL_SCOPES,
                browser=None) -> dict:
    """Sign in as `login_id`, approve `client`, exchange the code: the token response."""
    browser = browser or console_login(app, login_id)
    code, verifier = get_code(browser, client, scope=scope)
    resp = exchange(app, client, code, verifier)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def system_token(app, client: Client, scope: str | None = None) -> dict:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    resp = app.test_client().post("/oauth/token", data=data, headers=client.basic)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def bearer(token: dict | str) -> dict[str, str]:
    value = token["access_token"] if isinstance(token, dict) else token
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def visited(world, clock):
    """A second patient of 本町薬局, seen at home (issue 19): first visit today with drug, checkup
    and limit; (the OQS person, the relationship's consent id)."""
    from consent import home_visits

    with world.session() as s:
        person = make_oqs(s).create_person(today=TODAY, birth_date=TODAY.replace(year=1940), validity=1, seed=7)
        consent = home_visits.register_first_visit(
            s, institution_id=world.here, person_id=person.person_id, card_id="card_hv",
            categories=["drug", "checkup", "limit"], now=clock.now(), validity_code=1)
        s.commit()
        return person, consent.id
