"""One database session per request, closed before the response leaves."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.kept import rollback_keeping


def engine() -> Engine:
    return current_app.extensions["engine"]


def db() -> Session:
    """The request's session; opened on first use."""
    if "db" not in g:
        g.db = current_app.extensions["sessionmaker"]()
    return g.db


def reader() -> Session:
    """This request's session for reads that never write (staff, tokens, consents, OQS data).

    On SQLite, db() sessions begin IMMEDIATE (one writer at a time: store/engine.py), so a page
    that only reads through db() would hold the write lock and make every other worker wait. A
    session on the plain engine lets workers read side by side (WAL); only real writes queue.
    PostgreSQL has no such lock: there it is db() itself (one connection, one transaction fewer).
    Its snapshot starts at its first read: it does not see what db() commits later on.
    """
    if "reader" not in g:
        bind = engine()
        g.reader = Session(bind, expire_on_commit=False) if bind.dialect.name == "sqlite" else db()
    return g.reader


@contextmanager
def lookup() -> Iterator[Session]:
    """A session of its own for one small lookup, closed at once: unlike reader(), it starts no
    snapshot that the request's later reads would keep (whose clock a request reads is looked up
    this way, before the view runs)."""
    with Session(engine(), expire_on_commit=False) as session:
        yield session


def close_reader(_exc: BaseException | None = None) -> None:
    session = g.pop("reader", None)
    if session is not None and session is not g.get("db"):
        session.close()  # db() itself is closed by close_db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        # Anything not committed explicitly is dropped: no half-written requests. What must stand
        # whatever the request's fate (a challenge taken, a rate-limit hit) is written again on
        # its own (store/kept.py).
        rollback_keeping(session, current_app.extensions["engine"])
        session.close()


def init_app(app: Flask) -> None:
    # Close in after_request too: the server-side session is saved after after_request
    # handlers and before teardown, and must not wait on this session's SQLite lock.
    @app.after_request
    def _close(response):
        close_reader()
        close_db()
        return response

    app.teardown_request(close_reader)
    app.teardown_request(close_db)
