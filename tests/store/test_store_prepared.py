"""Every Prepared statement (store/prepared.py) gives what the same statement gives through
`conn.execute`: the same rows for a select, the same table afterwards for an insert or update.
Prepared bypasses SQLAlchemy's execution, so this is what keeps its SQL and type processing honest,
on SQLite and on PostgreSQL alike."""
from __future__ import annotations

import importlib
import pkgutil
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from api_support import TODAY, system_token
from consent import events, grants
from consent.events import Event
from consent.models import AuditEntry
from consent.oauth_clients import digest
from integrations.oqs.simulator import make_oqs
from store.prepared import Prepared

PACKAGES = ("consent", "integrations", "ops", "store", "web")


def prepared_statements() -> dict[str, Prepared]:
    """Every module-level Prepared in the project, by "module.NAME"."""
    found = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, Prepared):
                    found.setdefault(f"{info.name}.{name}", value)
    return found


def _latest_audit_row(conn, institution_id: int) -> dict:
    table = AuditEntry.__table__
    row = conn.execute(select(table).where(table.c.institution_id == institution_id)
                       .order_by(table.c.seq.desc()).limit(1)).one()
    return dict(row._mapping)


# The parameters each statement runs with, from the data `data` sets up. A statement added
# without a case here fails test_every_prepared_statement_has_a_case.
CASES = {
    "integrations.oqs.simulator.views._ONE_PERSON": lambda d, conn: {"person_id": d["aid_person"]},
    "integrations.oqs.simulator.views._QUALS_OF_ONE": lambda d, conn: {"person_id": d["aid_person"]},
    "integrations.oqs.simulator.views._ENTRUSTED_OF_ONE": lambda d, conn: {"person_id": d["aid_person"]},
    "consent.decision._BY_ID": lambda d, conn: {"consent_id": d["consent"]},
    "consent.decision._QUALIFICATION_ONLY": lambda d, conn: {"institution_id": d["here"]},
    # Both halves: today's open consent and the latest closed one.
    "consent.decision._CANDIDATES": lambda d, conn: {
        "institution_id": d["here"], "person_id": d["person"], "first_open_date": TODAY - timedelta(days=1)},
    # Every consent of the person (categories without expiry, 限度額).
    "consent.decision._EVERY": lambda d, conn: {"institution_id": d["here"], "person_id": d["person"]},
    "consent.grants._FOR_DATE": lambda d, conn: {"institution_id": d["here"], "day": TODAY},
    "consent.staff_auth._IDENTITY": lambda d, conn: {"staff_id": d["pharmacist"]},
    "consent.oauth_clients._BY_ACCESS": lambda d, conn: {"access_hash": digest(d["access_token"])},
    "consent.audit._SELECT_HEAD": lambda d, conn: {"b_institution_id": d["here"]},
    "consent.audit._INSERT_ENTRY": lambda d, conn: {
        **_latest_audit_row(conn, d["here"]), "seq": 1000, "hash": "e" * 64},
    "consent.audit._UPDATE_HEAD": lambda d, conn: {
        "b_institution_id": d["here"], "b_last_seq": 1000, "b_last_hash": "e" * 64, "b_hash_version": 2},
    # The consent's expiry as the sweep noted it (the fixture sweeps after its window ended).
    "consent.events._BY_DEDUPE_KEY": lambda d, conn: {"dedupe_key": conn.scalar(
        select(Event.dedupe_key).where(Event.dedupe_key.like("expired:%")).limit(1))},
    # Made with the person's first consent here (consent.registered).
    "consent.patient_keys._ONE": lambda d, conn: {"institution_id": d["here"], "person_id": d["person"]},
}
# Selects that must find more than one row for the comparison to mean something.
AT_LEAST = {"consent.decision._CANDIDATES": 2, "consent.decision._EVERY": 2, "integrations.oqs.simulator.views._QUALS_OF_ONE": 2}


@pytest.fixture
def data(world, clock) -> dict:
    with world.session() as s:
        aid = make_oqs(s).create_person(today=TODAY, birth_date=date(1950, 3, 3), medical_aid=True,
                                        entrusted_institution_codes=["1341234563", "1341234571"])
        grants.register_consent(
            s, institution_id=world.here, person_id=world.person.person_id, card_id="card_x", care_setting=3,
            categories=["drug"], consultation_date=TODAY - timedelta(days=9), now=clock.now() - timedelta(days=9),
            validity_code=1)
        s.commit()
        events.sweep_expiries(s, now=clock.now())  # writes that consent's consent.expired
        s.commit()
    return {
        "engine": world.app.extensions["engine"], "here": world.here, "person": world.person.person_id,
        "aid_person": aid.person_id, "consent": world.consent, "pharmacist": world.staff["pharmacist"],
        "access_token": system_token(world.app, world.system_client)["access_token"],
    }


def test_every_prepared_statement_has_a_case():
    assert sorted(prepared_statements()) == sorted(CASES)


def _table_after(engine, prepared: Prepared, params_for, run) -> list[tuple]:
    """The statement's table as stored after `run(conn, params)` (None: nothing run), rolled back."""
    table = prepared.statement.table
    # A generated id (PostgreSQL sequences do not roll back) is not part of what was written.
    quote = engine.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.c if c is not table.autoincrement_column)
    with engine.connect() as conn, conn.begin() as transaction:
        if run is not None:
            run(conn, params_for(conn))
        # Plain SQL: the values as the database holds them, not as the column types read them back.
        rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {columns} FROM {quote(table.name)} ORDER BY {columns}")]
        transaction.rollback()
    return rows


@pytest.mark.parametrize("name", sorted(CASES))
def test_prepared_matches_conn_execute(name, data):
    prepared = prepared_statements()[name]
    engine = data["engine"]
    if getattr(prepared.statement, "is_select", False):
        with engine.connect() as conn, conn.begin():
            params = CASES[name](data, conn)
            expected = [tuple(row) for row in conn.execute(prepared.statement, params)]
            assert prepared.execute(conn, params) == expected
        assert len(expected) >= AT_LEAST.get(name, 1)
        return

    def params_for(conn):
        return CASES[name](data, conn)

    def by_prepared(conn, params):
        assert prepared.execute(conn, params) is None

    def by_execute(conn, params):
        conn.execute(prepared.statement, params)

    untouched = _table_after(engine, prepared, params_for, None)
    after_prepared = _table_after(engine, prepared, params_for, by_prepared)
    assert after_prepared == _table_after(engine, prepared, params_for, by_execute)
    assert after_prepared != untouched
