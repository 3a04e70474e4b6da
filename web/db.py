"""One database session per request, closed before the response leaves."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session


def engine() -> Engine:
    return current_app.extensions["engine"]


def db() -> Session:
    """The request's session; opened on first use."""
    if "db" not in g:
        g.db = current_app.extensions["sessionmaker"]()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        # Anything not committed explicitly is dropped: no half-written requests.
        session.rollback()
        session.close()


def init_app(app: Flask) -> None:
    # Close in after_request too: the server-side session is saved after after_request
    # handlers and before teardown, and must not wait on this session's SQLite lock.
    @app.after_request
    def _close(response):
        close_db()
        return response

    app.teardown_request(close_db)
