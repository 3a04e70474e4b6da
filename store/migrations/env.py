"""Alembic environment: the URL comes from the caller (store.migrate) or DATABASE_URL.

Migrations are written by hand and import nothing above store/. The models they must match
(`target_metadata`, for Alembic's comparison) come from the caller too: ops.schema lists every
table, and tests/test_storage.py checks that the migrations create exactly those.
"""
from __future__ import annotations

from alembic import context

from store.engine import make_engine
from store.location import default_database_url
from store.migrate import check_foreign_keys, sqlite_foreign_keys_off

config = context.config
target_metadata = config.attributes.get("target_metadata")


def _url() -> str:
    return config.attributes.get("database_url") or default_database_url()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    # Batch mode lets ALTER TABLE work on SQLite too; there foreign keys are off while the
    # migrations run, and checked after each one inside its transaction, before it commits
    # (store/migrate.py says why).
    with sqlite_foreign_keys_off(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            on_version_apply=lambda ctx, **_: check_foreign_keys(ctx.connection),
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
