"""The audit log: hash chain per institution, tamper detection, the verify command, and the
patient's view of who read what."""
from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from consent.actors import Actor
from consent.audit import (
    GENESIS_HASH, KEYED_VERSION, append_entry, chain_state, entry_hash, keyring_of, reads_of_person, verify_chain,
)
from consent.decision import decide
from consent.grants import register_consent
from consent.models import AuditEntry

TODAY = date(2026, 11, 23)
entries = AuditEntry.__table__


@pytest.fixture
def engine(app):
    return app.extensions["engine"]


@pytest.fixture
def keyring(engine):
    """The app's audit keys: tests that re-hash with them play an attacker who has the key."""
    with engine.connect() as conn:
        return keyring_of(conn)


def fill(sessions, clock, institution_id: int, reads: int = 5, person_id: str = "person-1") -> None:
    """A registration followed by `reads` decisions, each in its own transaction."""
    with sessions() as session:
        register_consent(
            session, institution_id=institution_id, person_id=person_id, card_id="card-1",
            care_setting=3, categories=["drug", "limit"], consultation_date=TODAY, now=clock.now(),
        )
        session.commit()
    actor = Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")
    for i in range(reads):
        clock.set(clock.now() + timedelta(minutes=1))
        with sessions() as session:
            decide(session, institution_id=institution_id, actor=actor, person_id=person_id,
                   category=("drug", "checkup")[i % 2], now=clock.now())
            session.commit()


def verify(sessions, institution_id):
    with sessions() as session:
        return verify_chain(session, institution_id)


def test_an_untouched_chain_verifies(sessions, clock, institutions, keyring):
    here, _ = institutions
    assert verify(sessions, here) is None  # an empty chain is intact
    fill(sessions, clock, here)
    assert verify(sessions, here) is None
    with sessions() as session:
        rows = session.execute(select(entries).order_by(entries.c.seq)).mappings().all()
        assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[0]["prev_hash"] == GENESIS_HASH
        assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))
        assert all(entry_hash(r, keyring) == r["hash"] for r in rows)
        assert {(r["hash_version"], r["key_id"]) for r in rows} == {(KEYED_VERSION, keyring.current_id)}
        assert chain_state(session, here).head_hash == rows[-1]["hash"]


def test_an_edited_entry_is_found(sessions, engine, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here)
    with engine.begin() as conn:  # turn a refusal into an allowed read
        conn.execute(update(entries).where(entries.c.seq == 3).values(event="read_allowed", reason=None))
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (3, "hash_mismatch")


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(sessions, engine, clock, institutions, keyring):
    here, _ = institutions  # even with the key, a re-hashed entry no longer links
    fill(sessions, clock, here)
    with engine.begin() as conn:
        row = conn.execute(select(entries).where(entries.c.seq == 3)).mappings().one()
        forged = dict(row, category="limit")
        conn.execute(update(entries).where(entries.c.seq == 3)
                     .values(category="limit", hash=entry_hash(forged, keyring)))
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (4, "prev_hash_mismatch")


def test_a_deleted_entry_is_found(sessions, engine, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here)
    with engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.seq == 2))
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (2, "missing_entry")


def test_a_deleted_entry_renumbered_to_hide_the_gap_is_found(sessions, engine, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here)
    with engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.seq == 2))
        for seq in range(3, 7):
            conn.execute(update(entries).where(entries.c.seq == seq).values(seq=seq - 1))
    broken = verify(sessions, here)
    assert broken.seq == 2 and broken.problem in ("prev_hash_mismatch", "hash_mismatch")


def test_deleted_last_entries_are_found(sessions, engine, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here)
    with engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.seq >= 5))
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (5, "head_mismatch")


def _swap(conn, a: int, b: int) -> None:
    conn.execute(update(entries).where(entries.c.seq == a).values(seq=-1))
    conn.execute(update(entries).where(entries.c.seq == b).values(seq=a))
    conn.execute(update(entries).where(entries.c.seq == -1).values(seq=b))


def test_reordered_entries_are_found(sessions, engine, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here)
    with engine.begin() as conn:
        _swap(conn, 3, 4)
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (3, "hash_mismatch")


def test_reordered_entries_with_recomputed_hashes_are_found(sessions, engine, clock, institutions, keyring):
    here, _ = institutions
    fill(sessions, clock, here)
    with engine.begin() as conn:
        _swap(conn, 3, 4)
        for seq in (3, 4):
            row = conn.execute(select(entries).where(entries.c.seq == seq)).mappings().one()
            conn.execute(update(entries).where(entries.c.seq == seq).values(hash=entry_hash(row, keyring)))
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (3, "prev_hash_mismatch")


def test_chains_of_two_institutions_are_independent(sessions, engine, clock, institutions):
    here, there = institutions
    fill(sessions, clock, here, reads=3)
    fill(sessions, clock, there, reads=2)
    with sessions() as session:
        assert chain_state(session, here).entries == 4
        assert chain_state(session, there).entries == 3
        seqs = session.execute(
            select(entries.c.seq).where(entries.c.institution_id == there).order_by(entries.c.seq)
        ).scalars().all()
    assert seqs == [1, 2, 3]
    with engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.institution_id == here, entries.c.seq == 2)
                     .values(person_id="person-9"))
    assert verify(sessions, here).seq == 2
    assert verify(sessions, there) is None


def test_concurrent_appends_keep_one_unbroken_chain(sessions, clock, institutions):
    here, there = institutions
    threads_n, per_thread = 6, 15
    barrier = threading.Barrier(threads_n)
    errors = []

    def work(i: int) -> None:
        institution_id = (here, there)[i % 2]
        actor = Actor.for_staff(staff_id=i, institution_id=institution_id, role="pharmacist")
        try:
            barrier.wait(timeout=10)
            for _ in range(per_thread):
                with sessions() as session:
                    decide(session, institution_id=institution_id, actor=actor, person_id=f"p{i}",
                           category="drug", now=clock.now())
                    session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    expected = threads_n // 2 * per_thread
    with sessions() as session:
        for institution_id in (here, there):
            assert verify_chain(session, institution_id) is None
            assert chain_state(session, institution_id).entries == expected
            assert session.scalar(
                select(func.count()).select_from(entries).where(entries.c.institution_id == institution_id)
            ) == expected


def test_entries_hold_ids_and_codes_only(sessions, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here, reads=2)
    with sessions() as session:
        details = session.execute(select(entries.c.detail)).scalars().all()
    registered = details[0]
    assert set(json.loads(registered)) == {
        "card_id", "care_setting", "categories", "consultation_date", "window_end", "validity_code"
    }
    with pytest.raises(ValueError):
        with sessions() as session:
            append_entry(session, institution_id=here, event="something_else", now=clock.now())


def test_reads_of_person(sessions, clock, institutions):
    here, there = institutions
    fill(sessions, clock, here, reads=3)
    fill(sessions, clock, there, reads=1)
    fill(sessions, clock, here, reads=2, person_id="person-2")
    client = Actor.for_client(client_id="rececon", institution_id=here)
    with sessions() as session:
        decide(session, institution_id=here, actor=client, person_id="person-1", category="limit",
               now=clock.now() + timedelta(minutes=1))
        session.commit()
    with sessions() as session:
        mine = reads_of_person(session, person_id="person-1")
        here_only = reads_of_person(session, person_id="person-1", institution_id=here)
    assert len(mine) == 5 and len(here_only) == 4
    newest = mine[0]
    assert (newest.actor, newest.category_label, newest.allowed, newest.institution_name) == (
        "薬局システム", "限度額", True, "本町薬局"
    )
    assert [(r.category, r.allowed, r.reason) for r in here_only[1:]] == [
        ("drug", True, None), ("checkup", False, "category_not_consented"), ("drug", True, None)
    ]
    assert {r.actor for r in here_only[1:]} == {"薬剤師"}
    assert all(r.at.tzinfo is not None for r in mine)


def test_verify_command(app, sessions, engine, clock, institutions):
    here, there = institutions
    fill(sessions, clock, here, reads=2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok 1341234563: 3 entries, head " in result.output
    assert "ok 1341234571: 0 entries" in result.output
    with engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.seq == 2).values(category="surgery"))
    result = runner.invoke(args=["audit", "verify", "--institution", "1341234563"])
    assert result.exit_code == 1
    assert "BROKEN 1341234563" in result.output and "seq 2" in result.output
    assert "hash_mismatch" in result.output
    assert runner.invoke(args=["audit", "verify", "--institution", "1341234571"]).exit_code == 0
    missing = runner.invoke(args=["audit", "verify", "--institution", "9999999999"])
    assert missing.exit_code == 2
