"""When the database is slow, silent or full: which faults those are, and what people are told
(web/errors.py answers them: 503, in Japanese, within seconds).

Pages get a Japanese page that says what to do (and the institution's name where this request
already knew it); the API and every JSON caller get `{"error": "unavailable", "message"}` with
Retry-After. Never a 500 "system error" (it is not a crash, and trying later helps) and never the
CSRF page (see web/sessions.py: a session that could not be saved is not an expired form).
"""
from __future__ import annotations

import logging
import sqlite3

import psycopg
from sqlalchemy import exc

from store.ratelimit import CounterUnavailable

log = logging.getLogger("app.unavailable")

MESSAGE = "ただいま混み合っているか、システムに接続できません。しばらくしてからもう一度お試しください。"
# The last step of a registration may have been saved even though the answer never came.
REGISTER_MESSAGE = (MESSAGE + "同意登録が完了している場合があります。もう一度お試しになる前に、受付画面の"
                    "「同意照会・更新」で登録されている同意をご確認ください。")
RETRY_AFTER_SECONDS = 30
# Reception steps whose failure may come after the consent was committed.
REGISTER_ENDPOINTS = ("reception.confirm_verify", "reception.done")


class DatabaseUnavailable(Exception):
    """Raised by code that finds the database unusable without a driver error (e.g. a probe)."""


# Faults of the database or of the way to it, not of the request: trying later helps. (SQLite's
# "database is locked" and "database or disk is full", PostgreSQL refusing connections, a statement
# timeout or a silent server cut by the watchdog, the pool's checkout timeout; Redis, when rate
# limits are counted there, unreachable.)
# Prepared statements (store/prepared.py) run on the driver's cursor: its own errors come unwrapped.
UNAVAILABLE = (DatabaseUnavailable, CounterUnavailable, exc.TimeoutError, exc.OperationalError, exc.InterfaceError,
               sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError)


# SQLite raises OperationalError for its own faults and for a broken statement alike ("no such
# table" is a programming error, a 500): only these words mean "try again later".
SQLITE_FAULTS = ("locked", "busy", "disk", "full", "readonly", "unable to open", "i/o error")


def is_unavailable(error: BaseException) -> bool:
    if not isinstance(error, UNAVAILABLE):
        return False
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.OperationalError):
        return any(word in str(cause).lower() for word in SQLITE_FAULTS)
    return True
