"""Migration 0027: consents.source ('card' for every consent from before) and the card authority's
cards_unlinked_people; down and up again."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from conftest import TODAY
from consent import grants
from consent.institutions import create_institution


def test_migration_0027_adds_source_card_to_existing_consents_and_goes_down_and_up_again(database_url, sessions,
                                                                                         clock):
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config, downgrade, upgrade

    with sessions() as s:
        institution = create_institution(s, code="1341234563", name="本町薬局", now=clock.now())
        consent = grants.register_consent(s, institution_id=institution.id, person_id="p-1", card_id="c-1",
                                          care_setting=3, categories=["drug"], consultation_date=TODAY,
                                          now=clock.now(), validity_code=1)
        s.commit()
        consent_id = consent.id
    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0027_consent_source")
        downgrade(database_url, before.down_revision)
        inspector = inspect(engine)
        assert "source" not in {c["name"] for c in inspector.get_columns("consents")}
        assert "cards_unlinked_people" not in inspector.get_table_names()
        with engine.begin() as conn:  # the consent is still there, without the column
            assert conn.execute(text("SELECT card_id FROM consents WHERE id = :id"), {"id": consent_id}).scalar() == "c-1"
    finally:
        upgrade(database_url)
    try:
        inspector = inspect(engine)
        assert "cards_unlinked_people" in inspector.get_table_names()
        with engine.connect() as conn:
            sources = dict(conn.execute(text("SELECT id, source FROM consents")).all())
    finally:
        engine.dispose()
    assert sources == {consent_id: "card"}
