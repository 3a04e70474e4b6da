"""Run Alembic migrations from code (the CLI and the tests use this).

SQLite: a batch alter (copy the table, drop it, rename the copy) of a table other tables point at -
`institutions`, say - fails with "FOREIGN KEY constraint failed" while foreign keys are enforced, and
`PRAGMA foreign_keys` does nothing inside a transaction. So every SQLite upgrade and downgrade runs
with foreign keys off, switched off before any migration's transaction begins
(`sqlite_foreign_keys_off`, used by migrations/env.py), and `PRAGMA foreign_key_check` runs after
each migration inside its transaction (Alembic gives each its own on SQLite), before it commits: a
migration that left a row pointing at nothing is rolled back whole. Foreign keys are on again
afterwards. PostgreSQL is unaffected.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

# alembic.ini and the migrations ship inside this package, so an installed wheel finds them.
HERE = Path(__file__).resolve().parent


class DanglingForeignKeys(RuntimeError):
    """A migration left rows whose foreign keys point at nothing (SQLite's foreign_key_check)."""


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def _set_foreign_keys(connection: Connection, on: bool) -> None:
    # Through the driver: SQLAlchemy would begin a transaction first (store/engine.py issues BEGIN
    # itself), inside which SQLite ignores this pragma.
    driver = connection.connection.driver_connection
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0] != int(on):
        raise RuntimeError("PRAGMA foreign_keys did not change: the connection is inside a transaction")


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Foreign keys off on this SQLite connection (outside any transaction) for the block, on again
    after it, whatever happens; a no-op on other databases."""
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("foreign keys can only be switched off outside a transaction")
    _set_foreign_keys(connection, False)
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        _set_foreign_keys(connection, True)


def check_foreign_keys(connection: Connection) -> None:
    """Inside the migrations' transaction, before it commits: raise (so it rolls back) when any row
    points at nothing. A no-op on other databases (they never stopped checking)."""
    if connection.dialect.name != "sqlite":
        return
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        shown = ", ".join(f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in dangling[:5])
        raise DanglingForeignKeys(f"{len(dangling)} row(s) point at nothing after the migration: {shown}")
