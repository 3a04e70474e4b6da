"""Fresh PostgreSQL databases for test suites (the live server's, ours and QA teams'): create one
beside the suite's own and empty it, so migrations run from zero."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.engine import make_engine


def reset_postgres_database(url: str) -> None:
    """Create the database if missing and empty its public schema (migrations then run from zero)."""
    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def derived_postgres_url(url: str, suffix: str) -> str:
    """The same server with database `<name>_<suffix>` (e.g. a browser-test server's own)."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(hide_password=False)
