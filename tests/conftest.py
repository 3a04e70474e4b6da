"""Fixtures for the server-side tests: a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), an app with a fixed clock, and a test client."""
from __future__ import annotations

import os
import threading
from datetime import date, datetime, time
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from app import create_app
from consent.clock import JST, FixedClock
from e2e.databases import reset_postgres_database
from integrations.oqs.simulator import make_oqs
from store.migrate import upgrade
from store_support import empty_all_tables
from web.config import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The clock fixture's date in Japan (a Monday); tests import it: `from conftest import TODAY`.
TODAY = date(2026, 11, 23)


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
    from consent.institutions import create_institution

    with sessions() as session:
        a = create_institution(session, code="1341234563", name="本町薬局", now=clock.now())
        b = create_institution(session, code="1341234571", name="駅前薬局", now=clock.now())
        session.commit()
        return a.id, b.id


@pytest.fixture
def institution_id(institutions) -> int:
    return institutions[0]
