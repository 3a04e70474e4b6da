"""The audit chain cannot be downgraded (issue 31, finding 1): a keyed chain recomputed as version-1
(plain SHA-256) entries by someone who can write to the database but lacks the key is caught by
what lives outside the database - AUDIT_KEYED_SINCE and the checkpoint file - and `audit verify`
without either says plainly what it cannot detect.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from conftest import TODAY
from consent.actors import Actor
from consent.audit import GENESIS_HASH, entry_hash
from consent.decision import decide
from consent.grants import register_consent
from consent.models import AuditChainHead, AuditEntry

entries = AuditEntry.__table__
heads = AuditChainHead.__table__
HERE, THERE = "1341234563", "1341234571"
# The test clock's day (2026-11-23) is after it: everything the tests write is keyed.
KEYED_SINCE = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _fill(app, clock, institution_id: int, reads: int = 3) -> None:
    sessions = app.extensions["sessionmaker"]
    with sessions() as session:
        register_consent(session, institution_id=institution_id, person_id="person-1", card_id="card-1",
                         care_setting=3, categories=["drug"], consultation_date=TODAY, now=clock.now())
        session.commit()
    actor = Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")
    for _ in range(reads):
        clock.set(clock.now() + timedelta(minutes=1))
        with sessions() as session:
            decide(session, institution_id=institution_id, actor=actor, person_id="person-1", category="drug",
                   now=clock.now())
            session.commit()


def _rows(engine, institution_id: int) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(entries).where(entries.c.institution_id == institution_id)
                                              .order_by(entries.c.seq)).mappings()]


def _downgrade_everything(engine, institution_id: int, *, person_id: str = "someone-else",
                          keep: int | None = None) -> None:
    """The attack: every entry recomputed as version 1 (no key needed) with an edited person_id,
    key_id NULL, the head's hash_version 1; optionally the tail cut after `keep` entries."""
    rows = _rows(engine, institution_id)[:keep]
    prev = GENESIS_HASH
    with engine.begin() as conn:
        if keep is not None:
            conn.execute(entries.delete().where(entries.c.institution_id == institution_id, entries.c.seq > keep))
        for row in rows:
            fields = {**row, "person_id": person_id if row["person_id"] else None, "prev_hash": prev,
                      "hash_version": 1, "key_id": None}
            fields["hash"] = prev = entry_hash(fields)
            conn.execute(update(entries).where(entries.c.institution_id == institution_id,
                                               entries.c.seq == row["seq"]).values(**fields))
        conn.execute(update(heads).where(heads.c.institution_id == institution_id)
                     .values(last_seq=len(rows), last_hash=prev, hash_version=1))


def _legacy_chain(engine, institution_id: int, length: int, day: datetime) -> None:
    """Entries as written before keying (version 1), dated `day`."""
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for seq in range(1, length + 1):
            fields = {"institution_id": institution_id, "seq": seq, "created_at": day + timedelta(minutes=seq),
                      "event": "read_allowed", "actor_kind": "staff", "actor_id": "1", "actor_role": "pharmacist",
                      "person_id": "person-1", "category": "drug", "consent_id": "c1", "reason": None,
                      "detail": None, "prev_hash": prev}
            prev = entry_hash(fields)
            conn.execute(insert(entries).values(**fields, hash=prev))
        conn.execute(insert(heads).values(institution_id=institution_id, last_seq=length, last_hash=prev))


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


@pytest.fixture
def unset(make_app):
    return make_app("development")


@pytest.fixture
def keyed_since(make_app):
    return make_app("development", audit_keyed_since=KEYED_SINCE)


def test_a_downgraded_chain_fails_at_its_first_entry_when_keyed_since_is_set(keyed_since, clock, institutions):
    here, _ = institutions
    _fill(keyed_since, clock, here)
    assert _cli(keyed_since, "verify").exit_code == 0
    _downgrade_everything(keyed_since.extensions["engine"], here)
    result = _cli(keyed_since, "verify")
    assert result.exit_code == 1
    assert f"BROKEN {HERE}: institution {here} seq 1" in result.output and "unkeyed_entry" in result.output
    assert "AUDIT_KEYED_SINCE" in result.output
    # Cutting the tail as well changes nothing: the first entry already fails.
    _downgrade_everything(keyed_since.extensions["engine"], here, keep=2)
    assert _cli(keyed_since, "verify").exit_code == 1


def test_checkpoint_refuses_to_sign_a_downgraded_chain(keyed_since, clock, institutions):
    here, _ = institutions
    _fill(keyed_since, clock, here)
    _downgrade_everything(keyed_since.extensions["engine"], here)
    result = _cli(keyed_since, "checkpoint")
    assert result.exit_code == 1 and f"BROKEN {HERE}" in result.stderr
    assert HERE not in result.stdout  # no line vouches for the forgery


def test_an_institution_missing_from_the_checkpoint_file_must_be_keyed_from_its_first_entry(
        unset, clock, institutions, tmp_path):
    here, there = institutions
    _fill(unset, clock, here)
    _fill(unset, clock, there)
    only_there = tmp_path / "there.jsonl"
    taken = _cli(unset, "checkpoint", "--institution", THERE)
    only_there.write_text(taken.stdout)
    # Keyed from seq 1 and missing from the file (e.g. created after it): it holds.
    assert _cli(unset, "verify", "--checkpoint", str(only_there)).exit_code == 0
    _downgrade_everything(unset.extensions["engine"], here)
    result = _cli(unset, "verify", "--checkpoint", str(only_there))
    assert result.exit_code == 1
    assert f"BROKEN {HERE}" in result.output and "missing_from_checkpoint" in result.output
    assert f"ok {THERE}" in result.output


def test_without_checkpoint_or_keyed_since_verify_says_what_it_cannot_detect(unset, clock, institutions):
    here, _ = institutions
    _fill(unset, clock, here)
    intact = _cli(unset, "verify")
    assert intact.exit_code == 0
    assert "without --checkpoint, entries removed from the end of a chain" in intact.output
    assert "rewritten entirely as version-1" not in intact.output  # every chain here is keyed
    _downgrade_everything(unset.extensions["engine"], here, keep=2)
    result = _cli(unset, "verify")
    assert result.exit_code == 0  # nothing in the database tells: the note says so, naming the chain
    assert (f"without --checkpoint and without AUDIT_KEYED_SINCE, a chain rewritten entirely as version-1 "
            f"(unkeyed, plain SHA-256) entries cannot be told from one written before keying; chains holding only "
            f"version-1 entries: {HERE}.") in result.output
    signed = _cli(unset, "checkpoint")
    assert signed.exit_code == 0 and "AUDIT_KEYED_SINCE is not set" in signed.stderr


def test_a_chain_from_before_keying_still_verifies_with_keyed_since(keyed_since, clock, institutions, tmp_path):
    here, _ = institutions
    engine = keyed_since.extensions["engine"]
    _legacy_chain(engine, here, 3, day=datetime(2026, 10, 20, tzinfo=timezone.utc))
    assert _cli(keyed_since, "verify").exit_code == 0
    _fill(keyed_since, clock, here, reads=1)  # the boundary, then keyed entries
    result = _cli(keyed_since, "verify")
    assert result.exit_code == 0, result.output
    assert "version-1 entries dated before AUDIT_KEYED_SINCE (2026-11-01T00:00:00+00:00)" in result.output
    # A version-1 entry dated after the instant is a rewrite, wherever it stands.
    with engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.institution_id == here, entries.c.seq == 3)
                     .values(created_at=datetime(2026, 11, 2, tzinfo=timezone.utc)))
    moved = _cli(keyed_since, "verify")
    assert moved.exit_code == 1 and f"BROKEN {HERE}: institution {here} seq 3" in moved.output
    assert "unkeyed_entry" in moved.output


# --- the setting itself ------------------------------------------------------------------------

GOOD_PROD = {
    "APP_ENV": "production", "SECRET_KEY": "p" * 48, "AUDIT_KEY": "k" * 48, "WEBHOOK_KEY": "h" * 48,
    "DATABASE_URL": "postgresql://app@db/app", "RP_ID": "reception.example.jp",
    "ORIGINS": "https://reception.example.jp", "OQS_BACKEND": "simulator", "CARD_AUTHORITY": "embedded",
    "ALLOW_SIMULATORS": "1",
}


def _config_check(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    base = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "PORT", "DATABASE_URL", "SECRET_KEY")}
    return subprocess.run([flask, "--app", "app", "config", "check"], env={**base, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_config_check_mentions_keyed_since_in_production_and_checks_its_form(tmp_path):
    unset = _config_check(GOOD_PROD, tmp_path)
    assert unset.returncode == 0 and "warning: AUDIT_KEYED_SINCE is not set" in unset.stderr
    good = _config_check({**GOOD_PROD, "AUDIT_KEYED_SINCE": "2026-11-01T00:00:00+09:00"}, tmp_path)
    assert good.returncode == 0 and good.stderr == ""
    refused = _config_check({**GOOD_PROD, "AUDIT_KEYED_SINCE": "2026-11-01"}, tmp_path)
    assert refused.returncode == 2 and refused.stderr.splitlines() == [
        "AUDIT_KEYED_SINCE must be an instant with its offset, like 2026-11-01T00:00:00+09:00, not '2026-11-01'"]


@pytest.mark.parametrize("bad", ["2026-11-01T00:00:00", "yesterday", "0001-01-01T00:00:00+09:00", "2100-01-01T00:00Z"])
def test_keyed_since_must_be_an_instant_with_its_offset(bad):
    from web.config import ConfigError, Settings

    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env={**GOOD_PROD, "AUDIT_KEYED_SINCE": bad})
    assert str(refused.value) == (
        f"AUDIT_KEYED_SINCE must be an instant with its offset, like 2026-11-01T00:00:00+09:00, not {bad!r}")
    parsed = Settings.from_env(env={**GOOD_PROD, "AUDIT_KEYED_SINCE": "2026-11-01T09:00:00+09:00"})
    assert parsed.audit_keyed_since == datetime(2026, 11, 1, tzinfo=timezone.utc)
