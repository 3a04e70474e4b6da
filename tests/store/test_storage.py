"""Storage: migrations match the models, UTC columns, shared clock and rate limits."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consent.clock import JST, DatabaseClock
from ops.schema import load_all_models
from store.ratelimit import current_count, hit, limit_key


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


def test_migration_0014_carries_every_consent_over_and_goes_down_and_up_again(database_url, institution_id):
    """Per-category state from each existing consent, whatever its status; reversible."""
    import sqlalchemy as sa
    from sqlalchemy import create_engine, inspect

    from consent.category_states import CategoryStateList, states_at
    from store.migrate import downgrade, upgrade
    from store.types import UTCDateTime

    def at(day, hour=0):
        return datetime(2026, 11, day, hour, 0, tzinfo=JST)

    consents = sa.table(
        "consents", *(sa.column(name, UTCDateTime()) for name in (
            "consented_at", "window_end", "revoked_at", "created_at", "updated_at")),
        *(sa.column(name) for name in (
            "id", "institution_id", "person_id", "card_id", "care_setting", "categories", "consultation_date",
            "status", "revoked_by", "revocation_reason")),
    )
    # (id, status, consultation day, revoked at, reason): window end = day + 2 at 00:00 JST.
    cases = [("active", "active", 23, None, None), ("expired", "active", 10, None, None),
             ("revoked-in-window", "revoked", 23, at(23, 12), 2),
             ("revoked-after-window", "revoked", 10, at(20), 1)]
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0013")
        with engine.begin() as conn:
            for cid, status, day, revoked_at, reason in cases:
                conn.execute(consents.insert().values(
                    id=cid, institution_id=institution_id, person_id=f"p-{cid}", card_id="c", care_setting=3,
                    categories="drug limit", consultation_date=date(2026, 11, day), consented_at=at(day, 9),
                    window_end=at(day + 2), status=status, revoked_at=revoked_at,
                    revoked_by="patient" if revoked_at else None, revocation_reason=reason,
                    created_at=at(day, 9), updated_at=at(day, 9)))
        upgrade(database_url)
        states_column = sa.table("consents", sa.column("id"), sa.column("category_states", CategoryStateList()),
                                 sa.column("house_call"))
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(states_column))}
        now = at(23, 15)

        def flags(cid):
            got = {s.category: s for s in states_at(rows[cid].category_states, now)}
            return {c: (got[c].flag, got[c].expiry_reason, got[c].expires_at) for c in ("drug", "checkup", "limit")}

        assert flags("active") == {"drug": (1, None, at(25)), "checkup": (0, None, None), "limit": (1, None, None)}
        assert flags("expired") == {"drug": (2, 0, at(12)), "checkup": (0, None, None), "limit": (1, None, None)}
        # 限度額 ended reads flag 0 with its reason (0014 wrote 2; 0025 rewrote it).
        assert flags("revoked-in-window") == {"drug": (2, 2, at(25)), "checkup": (0, None, None),
                                              "limit": (0, 2, None)}
        # Revoked after its window: the drug category had already expired (reason 0); limit ran on.
        assert flags("revoked-after-window") == {"drug": (2, 0, at(12)), "checkup": (0, None, None),
                                                 "limit": (0, 1, None)}
        assert {r.house_call for r in rows.values()} == {False}
        assert states_at(rows["active"].category_states, now)[0].consented_at == at(23, 9)

        downgrade(database_url, "0013")
        columns = {c["name"] for c in inspect(engine).get_columns("consents")}
        assert "category_states" not in columns and "house_call" not in columns
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(sa.table("consents"))) == 4
    finally:
        upgrade(database_url)
        engine.dispose()
    engine = create_engine(database_url)
    try:
        assert {"category_states", "house_call"} <= {c["name"] for c in inspect(engine).get_columns("consents")}
    finally:
        engine.dispose()


def test_migration_0019_gives_existing_consents_a_patient_id_and_goes_down_and_up_again(database_url, sessions,
                                                                                        institutions, clock):
    """Events, patient_keys and webhooks: reversible; going up gives every person with a consent a
    patient_id at that institution (one per institution and person)."""
    from sqlalchemy import create_engine, inspect, text

    from conftest import TODAY
    from consent import grants
    from store.migrate import downgrade, upgrade

    here, there = institutions
    with sessions() as s:
        for institution, person in ((here, "p-1"), (here, "p-2"), (there, "p-1")):
            grants.register_consent(s, institution_id=institution, person_id=person, card_id="c", care_setting=3,
                                    categories=["drug"], consultation_date=TODAY, now=clock.now())
        s.commit()
    sessions.kw["bind"].dispose()
    added = {"events", "patient_keys", "webhook_endpoints", "webhook_deliveries"}
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0018_disasters")
        inspector = inspect(engine)
        assert not added & set(inspector.get_table_names())
        assert {"ix_consents_window_end", "ix_consents_lapses_at"}.isdisjoint(
            i["name"] for i in inspector.get_indexes("consents"))
    finally:
        upgrade(database_url)
    try:
        assert added <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            keys = conn.execute(text("SELECT institution_id, person_id, patient_id FROM patient_keys")).all()
    finally:
        engine.dispose()
    assert sorted((i, p) for i, p, _ in keys) == sorted([(here, "p-1"), (here, "p-2"), (there, "p-1")])
    assert len({k for _, _, k in keys}) == 3 and all(k.startswith("pat_") for _, _, k in keys)


def test_migration_0020_adds_the_contact_settings_and_goes_down_and_up_again(database_url, sessions, institutions):
    """institutions.phone and privacy_url: empty for an existing institution, reversible."""
    from sqlalchemy import create_engine, inspect, text

    from store.migrate import downgrade, upgrade

    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0024_institution_clock")
        assert {"phone", "privacy_url"}.isdisjoint(c["name"] for c in inspect(engine).get_columns("institutions"))
    finally:
        upgrade(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT phone, privacy_url FROM institutions")).all()
    finally:
        engine.dispose()
    assert len(rows) == 2 and set(rows) == {("", "")}


def test_migration_0021_gives_existing_appointments_a_token_and_goes_down_and_up_again(database_url, sessions,
                                                                                         institutions, clock):
    """appointments.token, patient_kana and patient_birth_date: reversible; going up gives every
    existing appointment its own opaque token (its old ?date= link keeps working)."""
    from datetime import date

    from sqlalchemy import create_engine, inspect, text

    from consent.institutions import create_appointment
    from store.migrate import downgrade, upgrade

    here, _ = institutions
    with sessions() as s:
        for day in (1, 2):
            create_appointment(s, institution_id=here, consultation_date=date(2026, 12, day), memo="m", now=clock.now())
        s.commit()
    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0020_contact")
        columns = {c["name"] for c in inspect(engine).get_columns("appointments")}
        assert {"token", "patient_kana", "patient_birth_date"}.isdisjoint(columns)
    finally:
        upgrade(database_url)
    try:
        with engine.connect() as conn:
            tokens = conn.execute(text("SELECT token, patient_kana FROM appointments")).all()
    finally:
        engine.dispose()
    assert len(tokens) == 2 and len({t for t, _ in tokens}) == 2 and all(t and len(t) == 16 for t, _ in tokens)
    assert all(k == "" for _, k in tokens)


def test_migration_0022_adds_the_appointment_time_and_goes_down_and_up_again(database_url, sessions):
    """appointments.start_time (the patient's done page says when the call comes): reversible."""
    from sqlalchemy import create_engine, inspect

    from store.migrate import downgrade, upgrade

    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0021_admin_pages")
        assert "start_time" not in {c["name"] for c in inspect(engine).get_columns("appointments")}
        upgrade(database_url)
        assert "start_time" in {c["name"] for c in inspect(engine).get_columns("appointments")}
    finally:
        upgrade(database_url)
        engine.dispose()
