"""Migration 0028: consents.verification ("pin" for every existing consent) and verified_by; down
and up again."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from conftest import TODAY
from consent import grants
from consent.institutions import create_institution


def test_migration_0028_gives_existing_consents_pin_and_goes_down_and_up_again(database_url, sessions, clock):
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config, downgrade, upgrade

    with sessions() as s:
        here = create_institution(s, code="1341234563", name="本町薬局", now=clock.now())
        consent = grants.register_consent(s, institution_id=here.id, person_id="p-1", card_id="card_1", care_setting=3,
                                          categories=["drug"], consultation_date=TODAY, now=clock.now())
        s.commit()
        consent_id = consent.id
    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0028_consent_verification")
        downgrade(database_url, before.down_revision)
        columns = {c["name"] for c in inspect(engine).get_columns("consents")}
        assert not {"verification", "verified_by"} & columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM consents")).scalar() == 1
    finally:
        upgrade(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, verification, verified_by FROM consents")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(consent_id, "pin", None)]
