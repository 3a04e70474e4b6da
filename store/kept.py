"""Writes that must stand even when the transaction they were made in does not commit.

A request does its work in one transaction (web/db.py). Some of its writes must hold whatever
happens to the rest: a WebAuthn challenge once taken stays used, a rate-limit hit stays counted.
`execute_kept` runs such a statement in the caller's transaction (no transaction of its own in
the common case, where the request commits) and remembers it until that transaction commits;
`rollback_keeping` ends a session and runs the remembered statements of every transaction that
did not commit in one short transaction of their own. The statements must be safe to run twice
(deleting a row, counting a hit that was not committed).
"""
from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

_PENDING = "kept_writes"  # statements of the session's current transaction
_LOST = "kept_writes_rolled_back"  # statements of transactions that rolled back


def execute_kept(session: Session, statement, params: dict | None = None):
    """Execute `statement` on the session's connection and keep it (see the module)."""
    result = session.connection().execute(statement, params or {})
    session.info.setdefault(_PENDING, []).append((statement, params or {}))
    return result


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_LOST, []).extend(pending)


def rollback_keeping(session: Session, engine: Engine) -> None:
    """Roll back what the session did not commit, then run its kept statements again on their own."""
    session.rollback()
    lost = session.info.pop(_LOST, None)
    if lost:
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
        with writer.begin() as conn:
            for statement, params in lost:
                conn.execute(statement, params)
