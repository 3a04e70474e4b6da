"""Migration 0023: institutions.kind, filled from each code's 点数表番号; down and up again."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from consent.institutions import create_institution
from integrations.oqs.numbering import make_institution_code


def test_migration_0023_fills_each_kind_from_its_code_and_goes_down_and_up_again(database_url, sessions, clock):
    from store.migrate import downgrade, upgrade

    codes = {make_institution_code(prefecture=13, table=table, serial=123456): kind
             for table, kind in ((4, "pharmacy"), (1, "clinic"), (3, "dental"), (6, "visiting_nurse"))}
    with sessions() as s:
        for code in codes:
            create_institution(s, code=code, name=f"施設 {code}", now=clock.now())
        s.commit()
    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        # Down to the revision before this one, whatever the chain puts there.
        from alembic.script import ScriptDirectory
        from store.migrate import alembic_config
        before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0023_institution_kind")
        downgrade(database_url, before.down_revision)
        assert "kind" not in {c["name"] for c in inspect(engine).get_columns("institutions")}
    finally:
        upgrade(database_url)
    try:
        with engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT institution_code, kind FROM institutions")).all())
    finally:
        engine.dispose()
    assert kinds == codes
