"""Migration 0025: stored flag-2 限度額 states become flag 0 (keeping their reason), down and up
again; the disaster reads' old consent kind "difficult" stays in the hash-chained audit entries
(the chain still verifies after the upgrade) and reads as "none"."""
from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import create_engine

from consent import audit
from consent.clock import JST
from consent.grants import register_consent, revoke_consent

TODAY = date(2026, 11, 23)  # the clock fixture's date (JST)
REVOKED_AT = datetime(2026, 11, 23, 12, 0, tzinfo=JST)


def _stored(engine, consent_id: str) -> dict:
    with engine.connect() as conn:
        text = conn.execute(sa.text("SELECT category_states FROM consents WHERE id = :id"), {"id": consent_id}).scalar()
    return {s["category"]: s for s in json.loads(text)}


def _write(engine, consent_id: str, states: dict) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE consents SET category_states = :s WHERE id = :id"),
                     {"s": json.dumps(list(states.values())), "id": consent_id})


def test_migration_0025_rewrites_flag_2_limit_states_and_goes_down_and_up_again(database_url, sessions,
                                                                                 institution_id, clock):
    from alembic.script import ScriptDirectory
    from store.migrate import alembic_config, downgrade, upgrade

    with sessions() as s:
        revoked = register_consent(s, institution_id=institution_id, person_id="p-revoked", card_id="c1",
                                   care_setting=3, categories=["drug", "limit"], consultation_date=TODAY,
                                   now=clock.now(), validity_code=1)
        running = register_consent(s, institution_id=institution_id, person_id="p-running", card_id="c2",
                                   care_setting=3, categories=["drug", "limit"], consultation_date=TODAY,
                                   now=clock.now(), validity_code=1)
        s.commit()
        revoke_consent(s, institution_id=institution_id, consent_id=revoked.id, by="patient", reason=2,
                       now=REVOKED_AT)
        s.commit()
    sessions.kw["bind"].dispose()
    engine = create_engine(database_url)
    try:
        assert _stored(engine, revoked.id)["limit"]["flag"] == 0  # the code writes 0 today
        before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0025_consent_states")
        downgrade(database_url, before.down_revision)
        # Down: the code before this release read a revoked 限度額 as flag 2.
        old = _stored(engine, revoked.id)
        assert (old["limit"]["flag"], old["limit"]["expiry_reason"]) == (2, 2)
        assert (old["drug"]["flag"], old["drug"]["expiry_reason"]) == (2, 2)
        assert _stored(engine, running.id)["limit"]["flag"] == 1
        # A flag-0 state without a reason (never consented; not stored by the code, but possible) stays 0.
        odd = _stored(engine, running.id)
        odd["limit"] = {**odd["limit"], "flag": 0, "consented_at": None}
        _write(engine, running.id, odd)
    finally:
        upgrade(database_url)
    try:
        new = _stored(engine, revoked.id)
        assert (new["limit"]["flag"], new["limit"]["expiry_reason"]) == (0, 2)
        assert new["limit"]["consented_at"] is not None and new["limit"]["ended_at"] is not None
        assert (new["drug"]["flag"], new["drug"]["expiry_reason"]) == (2, 2)  # other categories keep 2
        assert (_stored(engine, running.id)["limit"]["flag"], _stored(engine, running.id)["limit"]["expiry_reason"]) \
            == (0, None)
    finally:
        engine.dispose()


def test_old_difficult_disaster_reads_stay_chained_verify_after_the_upgrade_and_read_as_none(
        database_url, sessions, institution_id, clock):
    from alembic.script import ScriptDirectory
    from store.migrate import alembic_config, downgrade, upgrade

    before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0025_consent_states")
    sessions.kw["bind"].dispose()
    downgrade(database_url, before.down_revision)
    try:
        with sessions() as s:  # written as the code before this release wrote them
            for kind in ("difficult", "oral"):
                audit.append_entry(s, institution_id=institution_id, event="read_allowed", now=clock.now(),
                                   actor_kind="staff", actor_id="1", actor_role="pharmacist", person_id="p-1",
                                   category="drug", detail={"disaster_id": 1, "consent_kind": kind})
            s.commit()
        sessions.kw["bind"].dispose()
    finally:
        upgrade(database_url)
    with sessions() as s:
        assert audit.verify_chain(s, institution_id) is None
        details = [json.loads(d) for d in s.scalars(sa.select(audit.AuditEntry.detail).where(
            audit.AuditEntry.person_id == "p-1").order_by(audit.AuditEntry.seq))]
        assert [d["consent_kind"] for d in details] == ["difficult", "oral"]  # never rewritten
        records = audit.reads_of_person(s, person_id="p-1", institution_id=institution_id)
        assert sorted(r.consent_kind for r in records) == ["none", "oral"]
