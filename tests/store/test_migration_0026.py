"""Migration 0026: institutions.home_visit_lapse_days nullable (NULL = no lapse); down and up again on
both databases - on SQLite through a recreated `institutions`, which other tables point at."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from conftest import TODAY
from consent import home_visits
from consent.actors import Actor
from consent.app import staff_admin
from consent.clock import JST
from consent.institutions import create_institution
from store.migrate import (
    DanglingForeignKeys, alembic_config, check_foreign_keys, downgrade, sqlite_foreign_keys_off, upgrade,
)

DAY = timedelta(days=1)


def midnight(day):
    return datetime.combine(day, time(0), tzinfo=JST)


def _first_visit(sessions, institution_id, person_id, now):
    with sessions() as session:
        consent = home_visits.register_first_visit(session, institution_id=institution_id, person_id=person_id,
                                                   card_id=f"card-{person_id}", categories=["drug"], now=now)
        session.commit()
        return consent.id


def test_migration_0026_clears_the_unchosen_90_and_goes_down_and_up_again(database_url, sessions, institutions,
                                                                         clock):
    unset, chosen = institutions  # no lapse; the admin saves 90 on 環境設定 (audited)
    with sessions() as session:
        seven = create_institution(session, code="1341234589", name="七日薬局", now=clock.now()).id
        session.commit()
        home_visits.set_lapse_days(session, institution_id=seven, days=7, now=clock.now())
        session.commit()
        staff_admin.set_lapse_days(session, institution_id=chosen, days=90, now=clock.now(),
                                   actor=Actor.for_staff(staff_id=1, institution_id=chosen, role="admin"))
    open_ = _first_visit(sessions, unset, "open", clock.now())
    # Long enough ago that 90 days from it are past by the wall clock when the migration runs.
    old = _first_visit(sessions, unset, "old", datetime.now(timezone.utc) - 200 * DAY)
    at_chosen = _first_visit(sessions, chosen, "chosen", clock.now())
    at_seven = _first_visit(sessions, seven, "seven", clock.now())
    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)

    def lapse_days():
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, home_visit_lapse_days FROM institutions")).all())

    def lapses_at():
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, lapses_at FROM consents")).all()
        return {cid: None if value is None else _instant(value) for cid, value in rows}

    before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0026_lapse_optional")
    try:
        downgrade(database_url, before.down_revision)
        column = next(c for c in inspect(engine).get_columns("institutions") if c["name"] == "home_visit_lapse_days")
        assert column["nullable"] is False and "90" in str(column["default"])
        # NULL became 90, the old default; the others kept theirs.
        assert lapse_days() == {unset: 90, chosen: 90, seven: 7}
        # Relationships without a lapse got the one 90 days give them from their last visit.
        down = lapses_at()
        assert down[open_] == midnight(TODAY + 91 * DAY)
        assert down[old] < datetime.now(timezone.utc)
        assert down[at_chosen] == midnight(TODAY + 91 * DAY) and down[at_seven] == midnight(TODAY + 8 * DAY)
        _assert_no_dangling_rows(engine)
    finally:
        upgrade(database_url)
    try:
        column = next(c for c in inspect(engine).get_columns("institutions") if c["name"] == "home_visit_lapse_days")
        assert column["nullable"] is True and column["default"] is None
        # The 90 nobody chose is NULL again; the admin's 90 and the 7 stay.
        assert lapse_days() == {unset: None, chosen: 90, seven: 7}
        up = lapses_at()
        # The open relationship follows its institution (no lapse); the one that lapsed stays ended.
        assert up[open_] is None
        assert up[old] == down[old]
        assert up[at_chosen] == down[at_chosen] and up[at_seven] == down[at_seven]
        _assert_no_dangling_rows(engine)
        # A new institution without a number has no lapse (no server default is left behind).
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO institutions (institution_code, name, reception_token, created_at)"
                " VALUES ('1341234597', 'x', 'token-0026', :now)"), {"now": datetime.now(timezone.utc)})
            assert conn.scalar(text(
                "SELECT home_visit_lapse_days FROM institutions WHERE institution_code = '1341234597'")) is None
            conn.execute(text("DELETE FROM institutions WHERE institution_code = '1341234597'"))
    finally:
        engine.dispose()


def _instant(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _assert_no_dangling_rows(engine):
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            # And the connections the app opens enforce them again.
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() in (0, 1)


def test_sqlite_migrations_check_foreign_keys_before_they_commit(tmp_path):
    """store/migrate.py: foreign keys off outside the transaction, on again after; a row left pointing
    at nothing raises inside the transaction (so the migration rolls back)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            conn.exec_driver_sql("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))")
            conn.commit()
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
            with sqlite_foreign_keys_off(conn):
                assert conn.connection.driver_connection.execute("PRAGMA foreign_keys").fetchone()[0] == 0
                with conn.begin():
                    conn.exec_driver_sql("INSERT INTO child (id, parent_id) VALUES (1, 99)")
                    with pytest.raises(DanglingForeignKeys, match="child"):
                        check_foreign_keys(conn)
                    conn.exec_driver_sql("INSERT INTO parent (id) VALUES (99)")
                    check_foreign_keys(conn)
            assert conn.connection.driver_connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            # Inside a transaction the pragma would do nothing: refused rather than ignored.
            with conn.begin():
                conn.exec_driver_sql("SELECT 1")
                with pytest.raises(RuntimeError, match="outside a transaction"):
                    with sqlite_foreign_keys_off(conn):
                        pass
    finally:
        engine.dispose()
