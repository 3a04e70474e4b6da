"""A database that is slow, silent or full: answered within seconds, in Japanese, nothing lost.

Faults made safe and quick here: PostgreSQL silent (a proxy the test pauses; on a SQLite run, a
writer holding the lock), PostgreSQL refusing connections, SQLite unable to grow (PRAGMA
max_page_count, standing in for a full disk), and a failure after the consent was committed.
What cannot be fast (gunicorn workers killed mid-burst) is in bench/faults.py.
"""
from __future__ import annotations

import random
import re
import sqlite3
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from app import create_app
from consent import grants
from consent.audit import verify_chain
from consent.vocabulary import CATEGORIES, ONLINE_CARE
from consent.models import Consent
from store.engine import OPERATOR_BUSY_SECONDS
from store.migrate import upgrade
from store_support import PausableProxy
from patient_support import choose, read_card
from web.config import ConfigError, Settings
from web.unavailable import MESSAGE

LOGIN_FORM = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings_for(url: str, **overrides) -> Settings:
    overrides.setdefault("log_requests", False)
    return Settings.from_env(env={}, database_url=url, secret_key="t" * 64, **overrides)


def assert_unavailable_page(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert MESSAGE in html and "ただいまご利用いただけません" in html
    assert response.headers["Retry-After"].isdigit()
    assert "Internal Server Error" not in html and "画面の有効期限" not in html


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert response.headers["Retry-After"].isdigit()


# --- settings ----------------------------------------------------------------------------------

def test_database_timeouts_are_configurable_and_bounded():
    settings = Settings.from_env(env={"DB_CONNECT_TIMEOUT": "2", "DB_STATEMENT_TIMEOUT": "4.5"})
    assert (settings.db_connect_timeout, settings.db_statement_timeout) == (2.0, 4.5)
    for bad in ("soon", "0", "-1", "30", "nan"):
        with pytest.raises(ConfigError, match="DB_STATEMENT_TIMEOUT"):
            Settings.from_env(env={"DB_STATEMENT_TIMEOUT": bad})


def test_requests_wait_briefly_for_sqlite_and_operator_commands_long(tmp_path):
    url = f"sqlite:///{tmp_path / 'waits.db'}"
    upgrade(url)
    app = create_app(settings_for(url, db_statement_timeout=2.0))

    def busy_ms() -> int:
        with app.extensions["engine"].connect() as conn:
            return conn.exec_driver_sql("PRAGMA busy_timeout").scalar()

    assert busy_ms() == 2000
    result = app.test_cli_runner().invoke(args=["institution", "list"])
    assert result.exit_code == 0, result.output
    assert busy_ms() == OPERATOR_BUSY_SECONDS * 1000
    app.extensions["engine"].dispose()


# --- PostgreSQL refusing connections -----------------------------------------------------------

def test_refused_connections_answer_a_japanese_503_not_a_crash():
    app = create_app(settings_for("postgresql://nobody@127.0.0.1:1/none"))
    client = app.test_client()
    assert_unavailable_page(client.get("/pharmacy/login"))
    assert_unavailable_page(client.get("/r/some-reception-token"))
    assert_unavailable_json(client.get("/api/v1/consents?date=2026-11-23", headers={"Authorization": "Bearer x"}))
    assert client.get("/healthz").status_code == 200


# --- A silent database: PostgreSQL behind a paused proxy, or SQLite's lock held ---------------

@pytest.fixture
def silent(database_url, institution_id, sessions):
    """(app, reception token, make_silent, make_answer) on the suite's database."""
    with sessions() as session:
        token = session.execute(text("SELECT reception_token FROM institutions WHERE id = :i"),
                                {"i": institution_id}).scalar()
    if database_url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        target = make_url(database_url)
        proxy = PausableProxy(target.host or "127.0.0.1", target.port or 5432)
        app = create_app(settings_for(proxy.url_for(database_url), db_connect_timeout=2.0,
                                      db_statement_timeout=1.0))
        yield app, token, proxy.pause, proxy.resume
        app.extensions["engine"].dispose()
        proxy.close()
        return
    app = create_app(settings_for(database_url, db_statement_timeout=1.0))
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)

    def hold_lock():  # another process writing and never finishing
        holder.execute("BEGIN IMMEDIATE")

    yield app, token, hold_lock, lambda: holder.execute("ROLLBACK")
    holder.close()
    app.extensions["engine"].dispose()


def test_a_silent_database_is_answered_within_seconds(silent):
    app, token, go_silent, come_back = silent
    client = app.test_client()
    assert client.get(f"/r/{token}").status_code == 200  # a pooled connection, already open
    go_silent()
    try:
        started = time.monotonic()
        ready = client.get("/readyz")
        assert time.monotonic() - started < 2.0
        assert ready.status_code == 503 and ready.get_json()["error"] == "unavailable"
        assert client.get("/healthz").status_code == 200  # the process lives: no restart

        started = time.monotonic()
        assert_unavailable_page(client.get(f"/r/{token}"))
        assert time.monotonic() - started < 10  # gunicorn's worker timeout is 30 s
        started = time.monotonic()
        assert_unavailable_json(client.get("/api/v1/consents?date=2026-11-23",
                                           headers={"Authorization": "Bearer not-a-token"}))
        assert time.monotonic() - started < 10
    finally:
        come_back()
    # Back without a restart.
    assert client.get(f"/r/{token}").status_code == 200
    deadline = time.monotonic() + 10
    while client.get("/readyz").status_code != 200:  # stale probe connections are being let go
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_the_proxy_fronts_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        PausableProxy("192.0.2.1", 5432)


# --- SQLite that cannot grow: PRAGMA max_page_count as a full disk ----------------------------

class DiskFull:
    """Every connection of the app gets PRAGMA max_page_count at the file's current size."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.limit = 0
        event.listen(engine, "connect", self._limit)

    def _limit(self, dbapi_conn, _record) -> None:
        if self.limit:
            dbapi_conn.execute(f"PRAGMA max_page_count={self.limit}")

    def fill(self, *writers) -> None:
        """Stop the file from growing, then write with each writer until it keeps failing."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            self.limit = conn.exec_driver_sql("PRAGMA page_count").scalar()
        self.engine.dispose()
        for write in (*writers, self._take_a_page):
            failures = 0
            while failures < 30:
                try:
                    write()
                    failures = 0
                except (OperationalError, sqlite3.OperationalError) as error:
                    assert "full" in str(error)
                    failures += 1

    def _take_a_page(self) -> None:
        # Whatever pages are still free (a split needs two, a table one): every new table takes one.
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE fill_{uuid.uuid4().hex} (x)")

    def free(self) -> None:
        self.limit = 0
        self.engine.dispose()


@pytest.fixture
def full(tmp_path, clock):
    """(app, DiskFull, world) on a SQLite file of the test's own, whatever the suite's database."""
    from cryptography.hazmat.primitives import serialization

    from consent.clock import JST
    from consent.institutions import add_staff, create_institution
    from integrations.card import make_card_authority
    from integrations.card.soft_authenticator import SoftCard
    from integrations.oqs.simulator import make_oqs

    url = f"sqlite:///{tmp_path / 'full.db'}"
    upgrade(url)
    app = create_app(settings_for(url, db_statement_timeout=1.0), clock=clock)  # not TESTING: real error handling
    with app.extensions["sessionmaker"]() as session:
        institution = create_institution(session, code="1341234563", name="本町薬局", now=clock.now())
        add_staff(session, institution, login_id="clerk", password="clerk-password", role="clerk", now=clock.now())
        person = make_oqs(session).create_person(today=clock.now().astimezone(JST).date(),
                                                 birth_date=date(1960, 4, 2), validity=1)
        issued = make_card_authority(session).issue_card(person_id=person.person_id, birth_date=person.birth_date,
                                                          now=clock.now())
        session.commit()
        world = {"institution_id": institution.id, "token": institution.reception_token, "person": person,
                 "card": SoftCard(issued.card.credential_id, issued.card.user_handle,
                                  serialization.load_der_private_key(issued.private_key_pkcs8, password=None))}
    disk = DiskFull(app.extensions["engine"])
    yield app, disk, world
    app.extensions["engine"].dispose()


def filler_sessions(app):
    """Rows like a signed-in staff member's session (staff id 1 is the test's clerk)."""
    from store.models import WebSession

    def write():
        # Spread over every index the table has (expiry times around now), so each leaf fills.
        now = datetime.now(timezone.utc) + timedelta(seconds=random.uniform(-3600, 3600))
        with app.extensions["engine"].begin() as conn:
            conn.execute(WebSession.__table__.insert().values(
                id_hash=uuid.uuid4().hex * 2, data='{"_csrf":"' + "x" * 43 + '","staff_id":1}', created_at=now,
                last_seen_at=now, expires_at=now, staff_id=random.choice((None, 1))))
    return write


def filler_consents(app, world, clock):
    def write():
        with app.extensions["sessionmaker"]() as session:
            grants.register_consent(session, institution_id=world["institution_id"], person_id=uuid.uuid4().hex[:20],
                                    card_id="card_fill", care_setting=ONLINE_CARE, categories=CATEGORIES,
                                    consultation_date=date(2026, 11, 23), now=clock.now(), validity_code=1)
            session.commit()
    return write


def test_readyz_says_so_when_writes_would_fail(full):
    app, disk, _ = full
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    disk.fill()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["reason"] == "disk_full"
    assert client.get("/healthz").status_code == 200
    disk.free()
    assert client.get("/readyz").status_code == 200


def test_a_new_visitor_on_a_full_disk_is_told_to_try_later(full):
    app, disk, _ = full
    disk.fill(filler_sessions(app))
    client = app.test_client()
    response = client.get("/pharmacy/login")  # its session (and the form's token) cannot be saved
    assert_unavailable_page(response)
    assert client.get_cookie("session") is None  # no form whose token was never stored
    disk.free()
    token = LOGIN_FORM.search(client.get("/pharmacy/login").get_data(as_text=True)).group(1)
    response = client.post("/pharmacy/login", data={"csrf_token": token, "login_id": "clerk",
                                                     "password": "clerk-password"})
    assert response.status_code == 303


@pytest.fixture
def failing_session_writes(full):
    """New session rows cannot be written (SQLite's "database or disk is full")."""
    app, _, _ = full
    state = {"failing": False}

    def refuse(_conn, _cursor, statement, _params, _context, _many):
        # A new row, inserted or (at a sign-in's rotation) moved to its new id.
        if state["failing"] and statement.startswith(("INSERT INTO web_sessions", "UPDATE web_sessions SET id_hash")):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(app.extensions["engine"], "before_cursor_execute", refuse)
    return state


def test_staff_login_when_writes_fail_says_try_later_and_the_same_form_works_afterwards(full, failing_session_writes):
    # Before: the failed sign-in left an unwritten session id behind, Flask's second save (for the
    # error page) found no row under it and deleted the cookie: the next try met the CSRF page.
    app, _, _ = full
    client = app.test_client()
    token = LOGIN_FORM.search(client.get("/pharmacy/login").get_data(as_text=True)).group(1)
    failing_session_writes["failing"] = True
    form = {"csrf_token": token, "login_id": "clerk", "password": "clerk-password"}
    assert_unavailable_page(client.post("/pharmacy/login", data=form))
    assert client.get_cookie("session") is not None
    assert_unavailable_page(client.post("/pharmacy/login", data=form))  # again: still not the CSRF page
    failing_session_writes["failing"] = False
    # The same form, unchanged, signs in: nothing to start over.
    response = client.post("/pharmacy/login", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/pharmacy/")
    assert "同意取得済み患者一覧" in client.get("/pharmacy/").get_data(as_text=True)


def test_consent_registration_on_a_full_disk_writes_nothing_and_says_where_to_check(full, clock):
    app, disk, world = full
    client, token = app.test_client(), world["token"]
    assert choose(client, token, consultation_date="2026-11-23", all="1").status_code == 303
    disk.fill(filler_sessions(app), filler_consents(app, world, clock))
    response = read_card(client, world["card"], "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    assert_unavailable_json(response)
    assert "同意照会・更新" in response.get_json()["message"]
    with app.extensions["sessionmaker"]() as session:
        mine = select(func.count()).select_from(Consent).where(Consent.person_id == world["person"].person_id)
        assert session.scalar(mine) == 0
        assert verify_chain(session, world["institution_id"]) is None
    # The reception says nothing was registered; once space is freed the same steps work.
    assert "同意登録は完了しています" not in client.get(f"/r/{token}").get_data(as_text=True)
    disk.free()
    done = read_card(client, world["card"], "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    assert done.status_code == 200, done.get_json()
    assert "同意登録が完了しました" in client.get(done.get_json()["redirect"]).get_data(as_text=True)


# --- A failure after the consent was committed -------------------------------------------------

def test_a_patient_whose_consent_was_saved_learns_it_after_a_failure(card_holder, monkeypatch):
    import web.patient.reception

    app, token, person, soft = card_holder
    app.config["TESTING"] = False  # answered as in production
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-24", categories=["drug", "limit"])

    def lost(*_args, **_kwargs):  # the answer never leaves: the database is gone after the commit
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(web.patient.reception, "jsonify", lost)
    response = read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    monkeypatch.undo()
    assert_unavailable_json(response)
    assert "もう一度お試しになる前に" in response.get_json()["message"]
    assert "同意照会・更新" in response.get_json()["message"]

    # Reopening the reception on the same phone shows what was registered.
    html = client.get(f"/r/{token}").get_data(as_text=True)
    assert "同意登録は完了しています" in html
    assert "2026年11月24日" in html and "薬剤情報" in html
    assert "2026年11月25日 23:59まで" in html
    # ... and so does 同意照会・更新 after a card read.
    read_card(client, soft, "review", f"/r/{token}/review/verify", f"/r/{token}/review")
    review = client.get(f"/r/{token}/review/consents").get_data(as_text=True)
    assert "2026年11月24日" in review or "2026-11-24" in review


def test_a_finished_registration_leaves_no_notice_behind(card_holder):
    app, token, _, soft = card_holder
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-24", all="1")
    done = read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    client.get(done.get_json()["redirect"])
    # A shared phone: the next person opening the reception sees nothing of the last one.
    assert "同意登録は完了しています" not in client.get(f"/r/{token}").get_data(as_text=True)
