"""`flask --app app audit verify|checkpoint`: check the keyed audit chains and anchor them outside
the database.

`audit checkpoint` prints one signed JSON line per chain; keep them where the database's writers
cannot reach (README: a daily cron into write-once storage). `audit verify --checkpoint FILE`
then also refuses a chain that no longer extends them (cut short, or rewritten).

Exit status: 0 when every checked chain is intact, 1 when one is broken (the first broken entry is
printed, with its institution and seq) or a checkpoint line is not authentic, 2 for bad input.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.audit import (
    AuditError, Checkpoint, chain_state, keyring_of, parse_checkpoints, sign_checkpoint, verify_chain,
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
            broken_any = False
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
                broken = verify_chain(session, institution_id, mine)
                if broken is not None:
                    click.echo(f"BROKEN {institution_code}: {broken.describe()}")
                    broken_any = True
                    continue
                state = chain_state(session, institution_id)
                anchored = f", extends {len(mine)} checkpoint(s)" if mine else ""
                click.echo(f"ok {institution_code}: {state.entries} entries, head {state.head_hash}{anchored}")
        sys.exit(1 if broken_any else 0)

    @audit_group.command("checkpoint")
    @click.option("--institution", "code", default=None, metavar="CODE",
                  help="医療機関等コード (10 digits); all institutions when omitted.")
    def audit_checkpoint(code: str | None):
        """Print one signed JSON line per intact chain; a broken chain gets none (exit 1)."""
        now = current_app.extensions["clock"].now()
        broken_any = False
        with _snapshot() as session:
            keyring = keyring_of(session.connection())
            for institution_id, institution_code in _institutions(session, code):
                # Signing a tampered head would vouch for the tampering.
                broken = verify_chain(session, institution_id)
                if broken is not None:
                    click.echo(f"BROKEN {institution_code}: {broken.describe()}", err=True)
                    broken_any = True
                    continue
                state = chain_state(session, institution_id)
                checkpoint = sign_checkpoint(keyring, institution_code=institution_code, seq=state.entries,
                                             digest=state.head_hash, now=now)
                click.echo(checkpoint.to_json())
        sys.exit(1 if broken_any else 0)
