"""One answer when the database is slow, silent or full: 503, in Japanese, within seconds.

Pages get a Japanese page that says what to do (and the institution's name where this request
already knew it); the API and every JSON caller get `{"error": "unavailable", "message"}` with
Retry-After. Never a 500 "system error" (it is not a crash, and trying later helps) and never the
CSRF page (see web/sessions.py: a session that could not be saved is not an expired form).
"""
from __future__ import annotations

import logging
import sqlite3

import psycopg
from flask import g, render_template, request
from sqlalchemy import exc

from web.responses import error_response, wants_json

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
# timeout or a silent server cut by the watchdog, the pool's checkout timeout.)
# Prepared statements (store/prepared.py) run on the driver's cursor: its own errors come unwrapped.
UNAVAILABLE = (DatabaseUnavailable, exc.TimeoutError, exc.OperationalError, exc.InterfaceError,
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


def _answer(error: Exception):
    # The driver's message can quote SQL parameters: log the kind of failure only.
    cause = getattr(error, "orig", None) or error
    log.warning("database unavailable: %s", type(cause).__name__)
    g.database_failed = True  # web/sessions.py: do not try to save the session again
    register_step = request.endpoint in REGISTER_ENDPOINTS
    message = REGISTER_MESSAGE if register_step else MESSAGE
    if wants_json():
        response = error_response(503, "unavailable", message)
    else:
        staff = g.get("staff")
        institution = g.get("place_name") or (staff.institution_name if staff else "")
        response = render_template("unavailable.html", message=MESSAGE, institution=institution,
                                   register_step=register_step), 503
    return _retry_after(response)


def answer_if_unavailable(error: BaseException | None):
    """The 503 answer when `error` is a database fault (one raised while opening or saving the
    session reaches Flask as a 500 wrapping it), else None."""
    return _answer(error) if error is not None and is_unavailable(error) else None


def _retry_after(response):
    if isinstance(response, tuple):
        body, status = response
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
