"""`flask --app app audit verify|checkpoint`: check the keyed audit chains and anchor them outside
the database.

`audit checkpoint` prints one signed JSON line per chain; keep them where the database's writers
cannot reach (docs/operator.md: a daily cron into write-once storage). `audit verify --checkpoint FILE`
then also refuses a chain that no longer extends them (cut short, or rewritten).

Exit status: 0 when every checked chain is intact, 1 when one is broken (the first broken entry is
printed, with its institution and seq) or a checkpoint line is not authentic, 2 for bad input.

What says "this chain was keyed" must live outside the database, or a writer without the key
recomputes a keyed chain as version-1 (plain SHA-256) entries: the checkpoint file (an institution
missing from it must be keyed from its first entry) and AUDIT_KEYED_SINCE (no version-1 entry
dated at or after it). Without either, `audit verify` says which rewrites it cannot detect.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.audit import (
    AuditError, BrokenEntry, Checkpoint, chain_state, keyed_from_the_start, keyring_of, parse_checkpoints,
    sign_checkpoint, verify_chain,
)
from consent.institutions import Institution


@contextmanager
def _snapshot():
    """A read-only session that sees one moment of the database while appends go on.

    Entries and head must come from the same snapshot, or an append in between looks like a
    broken head. SQLite: a plain (deferred) read transaction in WAL mode, no write lock taken.
    """
    engine = current_app.extensions["engine"]
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session
        session.rollback()


def _institutions(session: Session, code: str | None, checkpointed: bool = False) -> list[tuple[int, str]]:
    query = select(Institution.id, Institution.institution_code).order_by(Institution.id)
    if code is not None:
        query = query.where(Institution.institution_code == code)
    institutions = [tuple(row) for row in session.execute(query)]
    if code is not None and not institutions and not checkpointed:
        click.echo(f"error: no institution with code {code}", err=True)
        sys.exit(2)
    return institutions


def _keyed_since():
    return current_app.config["SETTINGS"].audit_keyed_since


def _unanchored(institution_id: int) -> BrokenEntry:
    return BrokenEntry(institution_id, 1, "missing_from_checkpoint",
                       "the checkpoint file has no line for this institution, and its chain starts with "
                       "version-1 (unkeyed) entries: a rewrite of them cannot be ruled out")


# Said plainly whenever verify runs without what would show it (docs/operator.md, "The audit log").
BLIND_WITHOUT_CHECKPOINT = ("note: without --checkpoint, entries removed from the end of a chain (with its head "
                            "moved back) cannot be detected.")
BLIND_WITHOUT_EITHER = ("note: without --checkpoint and without AUDIT_KEYED_SINCE, a chain rewritten entirely as "
                        "version-1 (unkeyed, plain SHA-256) entries cannot be told from one written before keying; "
                        "chains holding only version-1 entries: {codes}.")
BLIND_BEFORE_SINCE = ("note: without --checkpoint, version-1 entries dated before AUDIT_KEYED_SINCE ({since}) are "
                      "taken as written before keying: a rewrite that also moves them before it cannot be detected.")


def register(app: Flask) -> None:
    @app.cli.group("audit")
    def audit_group():
        """Audit log (append-only, keyed hash chains per institution)."""

    @audit_group.command("verify")
    @click.option("--institution", "code", default=None, metavar="CODE",
                  help="医療機関等コード (10 digits); all institutions when omitted.")
    @click.option("--checkpoint", "checkpoint_file", default=None, type=click.File("r", encoding="utf-8"),
                  metavar="FILE", help="Checkpoint lines from `audit checkpoint`: each chain must still extend them.")
    def audit_verify(code: str | None, checkpoint_file):
        """Verify the chains; print the first broken entry and exit 1 if one is broken."""
        checkpoints: list[Checkpoint] = []
        with _snapshot() as session:
            if checkpoint_file is not None:
                try:
                    checkpoints = parse_checkpoints(checkpoint_file, keyring_of(session.connection()))
                except AuditError as exc:
                    click.echo(f"REFUSED checkpoint {checkpoint_file.name}: {exc.detail}")
                    sys.exit(2 if exc.code == "invalid_checkpoint" else 1)
            # An institution a checkpoint names is no bad input when missing: it was removed.
            institutions = _institutions(session, code, any(c.institution_code == code for c in checkpoints))
            keyed_since = _keyed_since()
            broken_any = False
            unkeyed_chains = []
            known = {institution_code for _, institution_code in institutions}
            for checkpoint in checkpoints:
                if checkpoint.institution_code not in known and (code is None or checkpoint.institution_code == code):
                    # The institution, and its chain with it, is gone from the database.
                    click.echo(f"BROKEN {checkpoint.institution_code}: seq 1: missing_institution: "
                               f"the checkpoint of {checkpoint.at} recorded seq {checkpoint.seq}")
                    known.add(checkpoint.institution_code)
                    broken_any = True
            for institution_id, institution_code in institutions:
                mine = [c for c in checkpoints if c.institution_code == institution_code]
                broken = verify_chain(session, institution_id, mine, keyed_since=keyed_since)
                if broken is None and checkpoint_file is not None and not mine \
                        and not keyed_from_the_start(session, institution_id):
                    broken = _unanchored(institution_id)
                if broken is None and not keyed_from_the_start(session, institution_id):
                    unkeyed_chains.append(institution_code)
                if broken is not None:
                    click.echo(f"BROKEN {institution_code}: {broken.describe()}")
                    broken_any = True
                    continue
                state = chain_state(session, institution_id)
                anchored = f", extends {len(mine)} checkpoint(s)" if mine else ""
                click.echo(f"ok {institution_code}: {state.entries} entries, head {state.head_hash}{anchored}")
            if checkpoint_file is None:
                click.echo(BLIND_WITHOUT_CHECKPOINT)
                if keyed_since is None and unkeyed_chains:
                    click.echo(BLIND_WITHOUT_EITHER.format(codes=", ".join(unkeyed_chains)))
                elif keyed_since is not None and unkeyed_chains:
                    click.echo(BLIND_BEFORE_SINCE.format(since=keyed_since.isoformat()))
        sys.exit(1 if broken_any else 0)

    @audit_group.command("checkpoint")
    @click.option("--institution", "code", default=None, metavar="CODE",
                  help="医療機関等コード (10 digits); all institutions when omitted.")
    def audit_checkpoint(code: str | None):
        """Print one signed JSON line per intact chain; a broken chain gets none (exit 1)."""
        now = current_app.extensions["clock"].now()
        keyed_since = _keyed_since()
        broken_any = False
        with _snapshot() as session:
            keyring = keyring_of(session.connection())
            for institution_id, institution_code in _institutions(session, code):
                # Signing a tampered head would vouch for the tampering.
                broken = verify_chain(session, institution_id, keyed_since=keyed_since)
                if broken is not None:
                    click.echo(f"BROKEN {institution_code}: {broken.describe()}", err=True)
                    broken_any = True
                    continue
                if keyed_since is None and not keyed_from_the_start(session, institution_id):
                    click.echo(f"warning: {institution_code}: its chain starts with version-1 (unkeyed) entries and "
                               "AUDIT_KEYED_SINCE is not set: this checkpoint vouches for them as they are, "
                               "a rewrite of them included", err=True)
                state = chain_state(session, institution_id)
                checkpoint = sign_checkpoint(keyring, institution_code=institution_code, seq=state.entries,
                                             digest=state.head_hash, now=now)
                click.echo(checkpoint.to_json())
        sys.exit(1 if broken_any else 0)
