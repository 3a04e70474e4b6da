"""`flask --app app audit verify [--institution CODE]`: check the audit hash chains.

Exit status: 0 when every checked chain is intact, 1 when one is broken (the first broken entry
is printed), 2 for bad input. The head hashes printed on success are worth recording outside the
database: with them even a fully rewritten chain is detected later.
"""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from sqlalchemy import select

from consent.audit import chain_state, verify_chain
from store.models import Institution


def register(app: Flask) -> None:
    @app.cli.group("audit")
    def audit_group():
        """Audit log (append-only, hash-chained per institution)."""

    @audit_group.command("verify")
    @click.option("--institution", "code", default=None, metavar="CODE",
                  help="医療機関等コード (10 digits); all institutions when omitted.")
    def audit_verify(code: str | None):
        """Verify the hash chains; print the first broken entry and exit 1 if one is broken."""
        with current_app.extensions["sessionmaker"]() as session:
            query = select(Institution.id, Institution.institution_code).order_by(Institution.id)
            if code is not None:
                query = query.where(Institution.institution_code == code)
            institutions = session.execute(query).all()
            if code is not None and not institutions:
                click.echo(f"error: no institution with code {code}", err=True)
                sys.exit(2)
            broken_any = False
            for institution_id, institution_code in institutions:
                broken = verify_chain(session, institution_id)
                if broken is not None:
                    click.echo(f"BROKEN {institution_code}: {broken.describe()}")
                    broken_any = True
                    continue
                state = chain_state(session, institution_id)
                click.echo(f"ok {institution_code}: {state.entries} entries, head {state.head_hash}")
        sys.exit(1 if broken_any else 0)
