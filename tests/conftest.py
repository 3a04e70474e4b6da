"""Fixtures for the server-side tests: a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), an app with a fixed clock, and a test client."""
from __future__ import annotations

import base64
import os
import secrets
import threading
from datetime import date, datetime, time
from types import SimpleNamespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives import serialization

from app import create_app
from consent import grants, oauth_clients, passwords
from consent.institutions import ALL_FUNCTIONS, add_staff, create_institution
from consent.clock import JST, FixedClock
from e2e.databases import reset_postgres_database
from integrations.card import make_card_authority
from integrations.card.soft_authenticator import SoftCard
from integrations.oqs.simulator import make_oqs
from patient_support import PASSWORD
from store.migrate import upgrade
from store_support import empty_all_tables
from web.config import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL", "")
# The checkout's root, wherever a test module sits under tests/.
ROOT = Path(__file__).resolve().parent.parent
# The clock fixture's date in Japan (a Monday); tests import it: `from conftest import TODAY`.
TODAY = date(2026, 11, 23)
# The redirect URI the world's authorization-code clients are registered with.
REDIRECT_URI = "https://rececon.example/callback"


def race(work: Callable[[int], Any], n: int, *, timeout: float = 120) -> list[Any]:
    """Run work(0) ... work(n - 1) in n threads released at once by a barrier; their results in
    order. An exception in any thread fails the test."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert errors == []
    return results


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        reset_postgres_database(TEST_DATABASE_URL)
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


# The cheapest Argon2id argon2 allows: a production hash costs close to a second of CPU, and the
# suite makes thousands. One test keeps production parameters (the rehash-on-sign-in rule).
TEST_HASHING = passwords.HashingCost(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashing():
    """Every test hashes with TEST_HASHING, whether or not it builds an app."""
    passwords.configure(TEST_HASHING)
    yield
    passwords.configure(TEST_HASHING)


@pytest.fixture(autouse=True)
def responses_match_the_openapi_document(monkeypatch):
    """Every /api/v1/ response a test client sees is checked against the OpenAPI document."""
    import openapi_check

    openapi_check.install(monkeypatch)


@pytest.fixture
def clock() -> FixedClock:
    # A Monday morning in Japan; tests move it as they need.
    return FixedClock(datetime.combine(TODAY, time(10, 0), tzinfo=JST))


@pytest.fixture
def one_rate_minute(monkeypatch):
    """Rate limits count per minute of real time: a burst of requests straddling a minute's end
    would start a new count and miss its 429. Hold real time inside one minute, for the rate
    limiter alone (web.context's `time`)."""
    import web.context

    monkeypatch.setattr(web.context, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture
def make_app(database_url, clock):
    """Build an app on the test database; the database is emptied after the test."""
    apps = []

    def _make(app_env: str = "development", *, use_clock: bool = True, **overrides):
        overrides.setdefault("log_requests", False)
        overrides.setdefault("password_hashing", TEST_HASHING)
        if REDIS_URL:
            # Rate limits in Redis (.ci/run runs the rate-limit and card tests so): each app its
            # own keys, as each test its own emptied tables.
            overrides.setdefault("redis_url", REDIS_URL)
            overrides.setdefault("redis_prefix", f"test-{secrets.token_hex(8)}:")
        settings = Settings.from_env(
            env={}, app_env=app_env, database_url=database_url, secret_key="t" * 64, **overrides
        )
        app = create_app(settings, clock=clock if use_clock else None)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield _make
    for app in apps:
        empty_all_tables(app.extensions["engine"])
        app.extensions["engine"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(make_app):
    """Run a `flask --app app` command: `cli("institution", "list")`; `cli.app` is its app."""
    app = make_app("development")
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(args))

    run.app = app
    return run


@pytest.fixture
def sessions(app):
    """The app's sessionmaker: `with sessions() as session: ...`."""
    return app.extensions["sessionmaker"]


@pytest.fixture
def session(sessions):
    """One database session for the test."""
    with sessions() as session:
        yield session


@pytest.fixture
def oqs(session):
    """The embedded OQS simulator on the test's session."""
    return make_oqs(session)


@pytest.fixture
def institutions(sessions, clock) -> tuple[int, int]:
    """Two pharmacies' ids: 本町薬局 and 駅前薬局."""
    with sessions() as session:
        a = create_institution(session, code="1341234563", name="本町薬局", now=clock.now())
        b = create_institution(session, code="1341234571", name="駅前薬局", now=clock.now())
        session.commit()
        return a.id, b.id


@pytest.fixture
def institution_id(institutions) -> int:
    return institutions[0]


# --- the shared world: two pharmacies, their staff and API clients, a consenting patient ----------

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


@pytest.fixture
def world(make_app, clock) -> World:
    """Two pharmacies (本町薬局 with every function on, よその薬局), three staff each (pharmacist,
    clerk, admin; password "<role>-password", prefixed "other-" at よその薬局), a patient with a
    consent at each (drug, checkup, limit; today, online) and API clients of both grant types."""
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


# --- a patient at the reception, through the test client --------------------------------------

@pytest.fixture
def card_holder(make_app, clock):
    """A pharmacy (テスト薬局) and a patient holding a card, with no consent yet: (app, reception
    token, the OQS person, the card as a software authenticator)."""
    app = make_app("development")
    with app.extensions["sessionmaker"]() as session:
        institution = create_institution(session, code="1341234563", name="テスト薬局", now=clock.now())
        oqs = make_oqs(session)
        person = oqs.create_person(today=clock.now().astimezone(JST).date(), birth_date=date(1960, 4, 2), validity=1)
        issued = make_card_authority(session).issue_card(person_id=person.person_id, birth_date=person.birth_date,
                                                          now=clock.now())
        session.commit()
        token = institution.reception_token
    key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
    soft = SoftCard(issued.card.credential_id, issued.card.user_handle, key)
    return app, token, person, soft


@pytest.fixture
def place(make_app, clock):
    """An institution running every function, a staff member, a person with a card, and one
    staff member of another institution."""
    app = make_app("development")
    with app.extensions["sessionmaker"]() as session:
        here = create_institution(session, code="1341234563", name="本町薬局", now=clock.now(), functions=ALL_FUNCTIONS)
        there = create_institution(session, code="1341234571", name="よその薬局", now=clock.now(),
                                   functions=ALL_FUNCTIONS)
        add_staff(session, here, login_id="here-clerk", password=PASSWORD, role="clerk", now=clock.now())
        add_staff(session, here, login_id="here-admin", password=PASSWORD, role="admin", now=clock.now())
        add_staff(session, there, login_id="there-clerk", password=PASSWORD, role="clerk", now=clock.now())
        oqs = make_oqs(session)
        person = oqs.create_person(today=TODAY, birth_date=date(1950, 5, 6), validity=1)
        issued = make_card_authority(session).issue_card(person_id=person.person_id, birth_date=person.birth_date,
                                                          now=clock.now())
        session.commit()
        urls = {name: f"/r/{token}" for name, token in here.reception_tokens.items()}
        there_urls = {name: f"/r/{token}" for name, token in there.reception_tokens.items()}
        here_id = here.id
    key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
    soft = SoftCard(issued.card.credential_id, issued.card.user_handle, key)
    return {"app": app, "urls": urls, "there": there_urls, "person": person, "card": soft, "id": here_id}
