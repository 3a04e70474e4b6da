"""The audit log: hash chain per institution, tamper detection, the verify command, and the
patient's view of who read what."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from conftest import TEST_DATABASE_URL, TODAY, race
from consent.actors import Actor
from consent.audit import (
    GENESIS_HASH, KEYED_VERSION, AuditError, AuditKeyring, append_entry, chain_state, entry_hash, key_id_of,
    keyring_of, reads_of_person, use_keyring, verify_chain,
)
from consent.decision import decide
from consent.grants import register_consent
from consent.events import Event
from consent.patient_keys import PatientKey
from consent.models import AuditChainHead, AuditEntry, Consent
from store.engine import make_engine, make_sessionmaker
from store.migrate import downgrade, upgrade
from consent.institutions import Institution
from e2e.databases import derived_postgres_url, reset_postgres_database

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

    def work(i: int) -> None:
        institution_id = (here, there)[i % 2]
        actor = Actor.for_staff(staff_id=i, institution_id=institution_id, role="pharmacist")
        for _ in range(per_thread):
            with sessions() as session:
                decide(session, institution_id=institution_id, actor=actor, person_id=f"p{i}",
                       category="drug", now=clock.now())
                session.commit()

    race(work, threads_n)
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


# The keyed chain (issue 13): an attacker who can write to the database but lacks the audit key.

heads = AuditChainHead.__table__
HERE_CODE = "1341234563"


def legacy_chain(engine, institution_id: int, length: int) -> list[str]:
    """Entries as the release before keying wrote them: version 1, no key id, a version-1 head."""
    prev, hashes = GENESIS_HASH, []
    with engine.begin() as conn:
        for seq in range(1, length + 1):
            fields = {
                "institution_id": institution_id, "seq": seq,
                "created_at": datetime(2026, 11, 20, 1, seq, tzinfo=timezone.utc),
                "event": ("read_allowed", "read_denied")[seq % 2 == 0], "actor_kind": "staff",
                "actor_id": "1", "actor_role": "pharmacist", "person_id": "person-1",
                "category": ("drug", "checkup")[seq % 2 == 0], "consent_id": "c1",
                "reason": (None, "category_not_consented")[seq % 2 == 0], "detail": None, "prev_hash": prev,
            }
            prev = entry_hash(fields)  # no hash_version: the version-1 SHA-256
            conn.execute(insert(entries).values(**fields, hash=prev))
            hashes.append(prev)
        conn.execute(insert(heads).values(institution_id=institution_id, last_seq=length, last_hash=prev))
    return hashes


def read(sessions, clock, institution_id: int, category: str = "drug") -> None:
    clock.set(clock.now() + timedelta(minutes=1))
    actor = Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")
    with sessions() as session:
        decide(session, institution_id=institution_id, actor=actor, person_id="person-1",
               category=category, now=clock.now())
        session.commit()


def all_rows(engine, institution_id: int) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(entries).where(entries.c.institution_id == institution_id).order_by(entries.c.seq)
        ).mappings()]


def guessed_keyring(key_id: str) -> AuditKeyring:
    """What an attacker without the key can do: MAC under the right key id with a wrong secret."""
    return AuditKeyring(key_id, ((key_id, b"the attacker's guess of the key"),))


def rewrite_from(engine, institution_id: int, seq: int, change: dict, downgrade: bool) -> None:
    """Change entry `seq`, re-hash it and every later entry, and move the head: the attack.

    downgrade: re-hash as version-1 entries (plain SHA-256, which needs no key); otherwise keep
    them keyed under their key id, with a guessed key."""
    rows = all_rows(engine, institution_id)
    prev = rows[seq - 2]["hash"] if seq > 1 else GENESIS_HASH
    with engine.begin() as conn:
        for row in rows[seq - 1:]:
            fields = {**row, **(change if row["seq"] == seq else {}), "prev_hash": prev}
            if downgrade:
                fields.update(hash_version=1, key_id=None)
            keyring = guessed_keyring(fields["key_id"]) if fields["key_id"] else None
            fields["hash"] = prev = entry_hash(fields, keyring)
            conn.execute(update(entries).where(entries.c.institution_id == institution_id,
                                               entries.c.seq == row["seq"]).values(**fields))
        conn.execute(update(heads).where(heads.c.institution_id == institution_id).values(last_hash=prev))


def cut_the_end(engine, institution_id: int, keep: int) -> None:
    """Delete the last entries and move the head back: the other attack."""
    with engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.institution_id == institution_id, entries.c.seq > keep))
        last = conn.execute(select(entries.c.hash).where(
            entries.c.institution_id == institution_id, entries.c.seq == keep)).scalar_one()
        conn.execute(update(heads).where(heads.c.institution_id == institution_id)
                     .values(last_seq=keep, last_hash=last))


ALLOWED_TO_DENIED = {"event": "read_denied", "reason": "category_not_consented", "actor_id": "99"}


def checkpoint_file(app, tmp_path, name: str = "checkpoints.jsonl"):
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    path = tmp_path / name
    path.write_text(result.stdout)
    return path


def verify_cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_a_version_1_chain_from_before_the_release_verifies_unchanged(sessions, engine, institutions):
    here, _ = institutions
    hashes = legacy_chain(engine, here, 4)
    # The version-1 format itself is unchanged: this is what the release before keying computed.
    first = all_rows(engine, here)[0]
    assert first["hash"] == "e604d5a5e0accb6cc96dc87f998cf36be9c264862e3ea99f6cabfb5014d1a32c" == hashes[0]
    assert verify(sessions, here) is None
    assert [(r["hash_version"], r["key_id"], r["hash"]) for r in all_rows(engine, here)] == [
        (1, None, h) for h in hashes
    ]


def test_an_untouched_chain_verifies_before_and_after_the_boundary(app, sessions, engine, clock, institutions,
                                                                  keyring):
    here, _ = institutions
    legacy_chain(engine, here, 3)
    before = all_rows(engine, here)
    assert verify(sessions, here) is None
    read(sessions, clock, here)
    read(sessions, clock, here, "checkup")
    rows = all_rows(engine, here)
    assert rows[:3] == before  # the version-1 entries are not rewritten
    boundary = rows[3]
    assert (boundary["seq"], boundary["event"], boundary["hash_version"], boundary["key_id"]) == (
        4, "audit_keyed", 2, keyring.current_id)
    assert json.loads(boundary["detail"]) == {"from_version": 1, "to_version": 2}
    assert boundary["prev_hash"] == before[-1]["hash"]
    assert [(r["event"], r["hash_version"]) for r in rows[4:]] == [("read_denied", 2)] * 2  # no consent: refusals
    assert verify(sessions, here) is None
    result = verify_cli(app)
    assert result.exit_code == 0 and f"ok {HERE_CODE}: 6 entries" in result.output


@pytest.mark.parametrize("downgrade", [False, True], ids=["rehashed-with-a-guessed-key", "rehashed-as-version-1"])
def test_an_edited_entry_rehashed_to_the_end_is_found_without_a_checkpoint(sessions, engine, clock, institutions,
                                                                          downgrade):
    here, _ = institutions
    fill(sessions, clock, here)
    assert all_rows(engine, here)[1]["event"] == "read_allowed"
    rewrite_from(engine, here, 2, ALLOWED_TO_DENIED, downgrade)
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (2, "unkeyed_entry" if downgrade else "hash_mismatch")


def test_a_rewrite_of_the_version_1_part_is_found_at_the_boundary(sessions, engine, clock, institutions):
    here, _ = institutions
    legacy_chain(engine, here, 3)
    read(sessions, clock, here)
    rewrite_from(engine, here, 1, ALLOWED_TO_DENIED, downgrade=False)
    broken = verify(sessions, here)
    assert (broken.seq, broken.problem) == (4, "hash_mismatch")  # the boundary's MAC covers prev_hash


def test_a_rewritten_chain_is_refused_by_a_checkpoint(app, sessions, engine, clock, institutions, tmp_path):
    here, _ = institutions
    legacy_chain(engine, here, 3)
    read(sessions, clock, here)  # seq 4 boundary, 5 the read
    checkpoints = checkpoint_file(app, tmp_path)
    read(sessions, clock, here)
    # Rewriting everything from seq 1 as version 1 passes for a chain never keyed, but not the checkpoint.
    rewrite_from(engine, here, 1, ALLOWED_TO_DENIED, downgrade=True)
    result = verify_cli(app, "--checkpoint", str(checkpoints))
    assert result.exit_code == 1
    assert f"BROKEN {HERE_CODE}" in result.output and "seq 5" in result.output
    assert "checkpoint_mismatch" in result.output


def test_a_version_1_chain_rewritten_after_its_checkpoint_is_refused(app, sessions, engine, institutions, tmp_path):
    here, _ = institutions
    legacy_chain(engine, here, 4)
    checkpoints = checkpoint_file(app, tmp_path)
    assert verify_cli(app, "--checkpoint", str(checkpoints)).exit_code == 0
    rewrite_from(engine, here, 2, ALLOWED_TO_DENIED, downgrade=True)
    assert verify(sessions, here) is None  # a version-1 chain alone cannot tell
    result = verify_cli(app, "--checkpoint", str(checkpoints))
    assert result.exit_code == 1
    assert f"BROKEN {HERE_CODE}" in result.output and "seq 4" in result.output


def test_entries_cut_from_the_end_with_the_head_moved_back_are_refused_by_a_checkpoint(
        app, sessions, engine, clock, institutions, tmp_path):
    here, _ = institutions
    fill(sessions, clock, here)  # 6 entries
    checkpoints = checkpoint_file(app, tmp_path)
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    assert [(c["institution_code"], c["seq"]) for c in lines] == [(HERE_CODE, 6), ("1341234571", 0)]
    cut_the_end(engine, here, keep=4)
    # Nothing left in the database shows it: that is what the checkpoint is for.
    assert verify(sessions, here) is None
    result = verify_cli(app, "--checkpoint", str(checkpoints))
    assert result.exit_code == 1
    assert f"BROKEN {HERE_CODE}" in result.output and "seq 5" in result.output and "shortened" in result.output
    assert "ok 1341234571" in result.output


def test_appends_after_a_checkpoint_extend_it(app, sessions, engine, clock, institutions, tmp_path):
    here, there = institutions
    fill(sessions, clock, here, reads=2)
    first = checkpoint_file(app, tmp_path, "day1.jsonl")
    read(sessions, clock, here)
    read(sessions, clock, there)
    second = checkpoint_file(app, tmp_path, "day2.jsonl")
    read(sessions, clock, here)
    both = tmp_path / "all.jsonl"
    both.write_text(first.read_text() + second.read_text())  # the operator's growing file
    result = verify_cli(app, "--checkpoint", str(both))
    assert result.exit_code == 0, result.output
    assert f"ok {HERE_CODE}: 5 entries" in result.output and "extends 2 checkpoint(s)" in result.output
    only_here = verify_cli(app, "--checkpoint", str(both), "--institution", HERE_CODE)
    assert only_here.exit_code == 0 and "1341234571" not in only_here.output


def test_the_checkpoint_line_format(app, sessions, clock, institutions, keyring):
    here, _ = institutions
    fill(sessions, clock, here, reads=1)
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint", "--institution", HERE_CODE])
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    checkpoint = json.loads(line)
    assert list(checkpoint) == ["institution_code", "seq", "hash", "at", "key_id", "signature"]
    with sessions() as session:
        head = chain_state(session, here).head_hash
    assert checkpoint["seq"] == 2 and checkpoint["hash"] == head
    assert checkpoint["at"] == "2026-11-23T01:01:00.000000Z"  # the clock, in UTC
    assert checkpoint["key_id"] == keyring.current_id and len(checkpoint["signature"]) == 64


@pytest.mark.parametrize("edit", [
    {"seq": 1}, {"hash": "0" * 64}, {"at": "2027-01-01T00:00:00.000000Z"}, {"institution_code": "1341234571"},
    {"signature": "f" * 64},
])
def test_an_edited_checkpoint_line_is_refused(app, sessions, clock, institutions, tmp_path, edit):
    here, _ = institutions
    fill(sessions, clock, here, reads=2)
    path = checkpoint_file(app, tmp_path)
    lines = path.read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), **edit})
    path.write_text("\n".join(lines) + "\n")
    result = verify_cli(app, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert "REFUSED" in result.output and "line 1" in result.output and "edited" in result.output


def test_checkpoint_files_that_are_not_checkpoints_are_bad_input(app, institutions, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"institution_code": "1341234563", "seq": "6"}\n')
    result = verify_cli(app, "--checkpoint", str(path))
    assert result.exit_code == 2 and "line 1 is not a checkpoint line" in result.output
    assert verify_cli(app, "--checkpoint", str(tmp_path / "missing.jsonl")).exit_code == 2


def test_a_checkpoint_signed_with_an_unknown_key_is_refused(app, make_app, sessions, clock, institutions, tmp_path):
    here, _ = institutions
    fill(sessions, clock, here, reads=1)
    stranger = make_app(audit_key="s" * 40)  # a key this app does not know
    result = stranger.test_cli_runner().invoke(args=["audit", "checkpoint", "--institution", "1341234571"])
    path = tmp_path / "stranger.jsonl"
    path.write_text(result.stdout)
    result = verify_cli(app, "--checkpoint", str(path))
    assert result.exit_code == 1 and "not in AUDIT_KEY or AUDIT_KEYS" in result.output


def test_an_institution_deleted_with_its_chain_is_refused_by_a_checkpoint(app, sessions, engine, clock,
                                                                         institutions, tmp_path):
    here, there = institutions
    fill(sessions, clock, there, reads=1)
    path = checkpoint_file(app, tmp_path)
    with engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.institution_id == there))
        conn.execute(delete(heads).where(heads.c.institution_id == there))
        conn.execute(delete(Consent.__table__).where(Consent.__table__.c.institution_id == there))
        # Its events and patient_ids go with it (what else refers to the institution).
        conn.execute(delete(Event.__table__).where(Event.__table__.c.institution_id == there))
        conn.execute(delete(PatientKey.__table__).where(PatientKey.__table__.c.institution_id == there))
        conn.execute(delete(Institution.__table__).where(Institution.__table__.c.id == there))
    result = verify_cli(app, "--checkpoint", str(path))
    assert result.exit_code == 1 and "BROKEN 1341234571" in result.output and "seq 1" in result.output
    only_there = verify_cli(app, "--checkpoint", str(path), "--institution", "1341234571")
    assert only_there.exit_code == 1 and "BROKEN 1341234571" in only_there.output


def test_a_broken_chain_gets_no_checkpoint(app, sessions, engine, clock, institutions):
    here, _ = institutions
    fill(sessions, clock, here, reads=2)
    with engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.seq == 2).values(actor_id="99"))
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1
    assert [json.loads(line)["institution_code"] for line in result.stdout.splitlines()] == ["1341234571"]
    assert f"BROKEN {HERE_CODE}" in result.stderr and "seq 2" in result.stderr


def test_a_rotated_key_verifies_old_and_new_entries(make_app, sessions, clock, institutions, tmp_path):
    here, _ = institutions
    old_key, new_key = "o" * 40, "n" * 40
    before = make_app(audit_key=old_key)
    fill(before.extensions["sessionmaker"], clock, here, reads=2)
    old_checkpoint = checkpoint_file(before, tmp_path, "old.jsonl")
    rotated = make_app(audit_key=new_key, audit_keys=[old_key])
    read(rotated.extensions["sessionmaker"], clock, here)
    read(rotated.extensions["sessionmaker"], clock, here, "checkup")
    rows = all_rows(rotated.extensions["engine"], here)
    assert [r["key_id"] for r in rows] == [key_id_of(old_key)] * 3 + [key_id_of(new_key)] * 2
    result = verify_cli(rotated, "--checkpoint", str(old_checkpoint))
    assert result.exit_code == 0, result.output
    new_checkpoint = checkpoint_file(rotated, tmp_path, "new.jsonl")
    assert json.loads(new_checkpoint.read_text().splitlines()[0])["key_id"] == key_id_of(new_key)
    # The retired key dropped from AUDIT_KEYS: its entries can no longer be verified.
    forgotten = make_app(audit_key=new_key)
    with forgotten.extensions["sessionmaker"]() as session:
        broken = verify_chain(session, here)
    assert (broken.seq, broken.problem) == (1, "unknown_key")
    assert verify_cli(forgotten, "--checkpoint", str(new_checkpoint)).exit_code == 1


def test_the_switch_happens_once_under_concurrent_appends(sessions, engine, clock, institutions):
    here, _ = institutions
    legacy_chain(engine, here, 2)

    def work(i: int) -> None:
        actor = Actor.for_staff(staff_id=i, institution_id=here, role="pharmacist")
        for _ in range(5):
            with sessions() as session:
                decide(session, institution_id=here, actor=actor, person_id=f"p{i}", category="drug",
                       now=clock.now())
                session.commit()

    race(work, 4)
    rows = all_rows(engine, here)
    assert [r["event"] for r in rows].count("audit_keyed") == 1 and rows[2]["event"] == "audit_keyed"
    assert len(rows) == 2 + 1 + 20
    assert verify(sessions, here) is None


def test_appending_without_a_bound_key_is_refused(database_url, institutions, clock):
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session, pytest.raises(AuditError) as raised:
            append_entry(session, institution_id=institutions[0], event="read_allowed", now=clock.now())
        assert raised.value.code == "audit_key_missing"
    finally:
        engine.dispose()


def test_migration_keeps_version_1_entries_up_and_down(tmp_path):
    from sqlalchemy import column as sa_column, table as sa_table

    from store.types import UTCDateTime

    if TEST_DATABASE_URL:
        url = derived_postgres_url(TEST_DATABASE_URL, "audit_migration")
        reset_postgres_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'migration.db'}"
    upgrade(url, "0010")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # The table as it was at 0010 (the model has columns from later migrations).
            institutions_0010 = sa_table("institutions", sa_column("id"), sa_column("institution_code"),
                                         sa_column("name"), sa_column("reception_token"),
                                         sa_column("created_at", UTCDateTime()))
            conn.execute(insert(institutions_0010).values(
                id=1, institution_code=HERE_CODE, name="本町薬局", reception_token="t",
                created_at=datetime(2026, 11, 20, tzinfo=timezone.utc)))
        hashes = legacy_chain(engine, 1, 3)
        upgrade(url)
        engine.dispose()
        use_keyring(engine, AuditKeyring.from_secrets("m" * 40))
        with Session(engine) as session:
            assert verify_chain(session, 1) is None
        assert [(r["hash_version"], r["key_id"], r["hash"]) for r in all_rows(engine, 1)] == [
            (1, None, h) for h in hashes]
        downgrade(url, "0010")
        engine.dispose()
        assert "hash_version" not in {c["name"] for c in inspect(engine).get_columns("audit_entries")}
        with engine.connect() as conn:
            assert conn.execute(select(entries.c.hash).order_by(entries.c.seq)).scalars().all() == hashes
        upgrade(url)
    finally:
        engine.dispose()
