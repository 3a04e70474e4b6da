"""Storage: migrations match the models, UTC columns, shared clock and rate limits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consent.clock import JST
from store.clock import DatabaseClock
from store.ratelimit import current_count, hit, limit_key
from store.registry import load_all_models


def test_migrations_create_exactly_the_models(app):
    engine = app.extensions["engine"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, load_all_models())
    assert diff == []


def test_foreign_keys_are_enforced_and_sqlite_runs_in_wal_mode(app, clock):
    from sqlalchemy.exc import IntegrityError

    from consent.institutions import Staff

    engine = app.extensions["engine"]
    with app.extensions["sessionmaker"]() as session:
        session.add(Staff(institution_id=999_999, login_id="orphan", password_hash="x", role="clerk",
                          display_name="", created_at=clock.now()))
        with pytest.raises(IntegrityError):
            session.commit()
    if engine.dialect.name == "sqlite":
        # Several workers share the file: readers must not block the writer.
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_database_clock_is_shared_through_the_database(make_app):
    worker_a = make_app("sandbox", use_clock=False)
    worker_b = make_app("sandbox", use_clock=False)
    clock_a, clock_b = worker_a.extensions["clock"], worker_b.extensions["clock"]
    assert isinstance(clock_a, DatabaseClock)
    frozen = datetime(2026, 12, 4, 23, 59, 59, tzinfo=JST)
    clock_a.freeze(frozen)
    assert clock_b.now() == frozen
    assert clock_b.now().tzinfo == timezone.utc
    clock_b.thaw()
    assert abs(clock_a.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_rate_limit_counts_are_shared_and_keys_hide_the_subject(make_app):
    engine = make_app().extensions["engine"]
    key = limit_key("card-verify:ip", "203.0.113.5")
    assert "203.0.113.5" not in key
    results = [hit(engine, key, limit=3, window_seconds=60, now_ts=1_000_020) for _ in range(4)]
    assert results == [True, True, True, False]
    assert current_count(engine, key, window_seconds=60, now_ts=1_000_030) == 4
    # The next window starts afresh.
    assert hit(engine, key, limit=3, window_seconds=60, now_ts=1_000_080)


def test_migrations_0012_and_0013_go_down_and_up_again(database_url):
    """Racing card reads (cards.accepted_*) and the security log: reversible."""
    from sqlalchemy import create_engine, inspect

    from store.migrate import downgrade, upgrade

    def shape():
        engine = create_engine(database_url)
        try:
            inspector = inspect(engine)
            return ({c["name"] for c in inspector.get_columns("cards")}, set(inspector.get_table_names()))
        finally:
            engine.dispose()

    try:
        downgrade(database_url, "0011_audit")
        columns, tables = shape()
        assert "accepted_binding" not in columns and "accepted_challenge_expires_at" not in columns
        assert "security_events" not in tables
    finally:
        upgrade(database_url)
    columns, tables = shape()
    assert {"accepted_binding", "accepted_challenge_expires_at"} <= columns and "security_events" in tables
