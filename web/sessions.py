"""Server-side sessions in the database: the cookie is a random id, the data stays here.

Several workers (and machines) share the table, a session can be ended from the server
(logout, staff disabled), and the id is rotated at sign-in.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from consent.clock import SystemClock
from store.models import WebSession
from web.db import db

# Rewrite last_seen at most this often, so read-only pages do not write on every request.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid: str | None = None, last_seen: datetime | None = None,
                 created: datetime | None = None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False
        self.rotate_requested = False
        self.last_seen = last_seen
        self.created = created
        # Written in the request's own transaction (commit_with_session): only the cookie is due,
        # or ("ended") the row was gone, ended on the server meanwhile.
        self.written: str | None = None

    def rotate(self) -> None:
        """Give this session a new id (call at sign-in and privilege changes)."""
        self.rotate_requested = True
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, idle_minutes: int, *, staff_absolute_hours: int = 12) -> None:
        self.idle = timedelta(minutes=idle_minutes)
        # A signed-in staff session ends this long after sign-in however busy it is (a stolen
        # cookie does not live forever); sign-in starts a new session, so created_at is sign-in.
        self.staff_absolute = timedelta(hours=staff_absolute_hours)

    def _ends_at(self, created: datetime, staff_id: int | None, now: datetime) -> datetime:
        idle_end = now + self.idle
        return min(idle_end, created + self.staff_absolute) if staff_id is not None else idle_end

    def _engine(self, app: Flask):
        return app.extensions["engine"]

    @staticmethod
    def _now(app: Flask) -> datetime:
        # Real time, not the sandbox clock: QA moves the sandbox clock by days to test consent
        # windows and must not be signed out by it. Tests put a FixedClock there.
        clock = app.extensions.get("wall_clock")
        return clock.now() if clock is not None else SystemClock().now()

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        now = self._now(app)
        engine = self._engine(app)
        if engine.dialect.name == "postgresql":
            # On the request's own connection and transaction (web/db.py): no checkout and no
            # transaction of its own (two round trips fewer a request). SQLite's request
            # transaction takes the write lock, so there the read stays on its own connection.
            row = db().connection().execute(_SELECT, {"sid_hash": _hash(sid)}).first()
        else:
            with engine.connect() as conn:
                row = conn.execute(_SELECT, {"sid_hash": _hash(sid)}).first()
        if row is None or row.expires_at <= now:
            return ServerSession()
        if row.staff_id is not None and row.created_at + self.staff_absolute <= now:
            return ServerSession()  # rows written before the absolute lifetime existed
        try:
            data = json.loads(row.data)
        except ValueError:
            return ServerSession()
        return ServerSession(data, sid=sid, last_seen=row.last_seen_at, created=row.created_at)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if g.get("database_failed") or session is None:
            # The answer is the 503 page: keep the cookie and the row as they were, so that the
            # form the person is on still works once the database is back (not the CSRF page).
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        engine = self._engine(app)
        now = self._now(app)

        if not session:
            if session.sid is not None:
                with engine.begin() as conn:
                    conn.execute(_DELETE, {"sid_hash": _hash(session.sid)})
                response.delete_cookie(name, domain=domain, path=path)
            return

        if session.written == "ended":
            response.delete_cookie(name, domain=domain, path=path)
            return
        stale = session.last_seen is None or now - session.last_seen > TOUCH_EVERY
        if not (session.modified or session.new or session.rotate_requested or stale):
            if session.written:
                self._set_cookie(app, session, response)
            return

        with engine.begin() as conn:
            adopt = self.write(conn, session, now)
        if adopt is None:
            session.sid = None
            response.delete_cookie(name, domain=domain, path=path)
            return
        self.adopt(session, adopt)
        self._set_cookie(app, session, response)

    def write(self, conn, session: ServerSession, now: datetime) -> tuple[str, datetime] | None:
        """Write the session's row on `conn` (inside its transaction); return (sid, now) to adopt
        once committed, or None when the row was ended on the server while this request ran
        (logout elsewhere, staff disabled): never bring it back."""
        payload = json.dumps(dict(session), separators=(",", ":"))
        new = session.sid is None or session.rotate_requested
        staff_id = session.get("staff_id")
        created = now if new or session.created is None else session.created
        values = {"data": payload, "staff_id": staff_id, "last_seen_at": now,
                  "expires_at": self._ends_at(created, staff_id, now)}
        if new:
            new_sid = secrets.token_urlsafe(32)
            # Rotation moves the row to its new id in one statement; the old id is gone with it.
            if session.sid is None or conn.execute(_ROTATE, {
                    "sid_hash": _hash(session.sid), "id_hash": _hash(new_sid), "created_at": now, **values,
            }).rowcount != 1:
                conn.execute(_INSERT, {"id_hash": _hash(new_sid), "created_at": now, **values})
            return new_sid, now
        if conn.execute(_UPDATE, {"sid_hash": _hash(session.sid), **values}).rowcount != 1:
            return None
        return session.sid, created

    @staticmethod
    def adopt(session: ServerSession, written: tuple[str, datetime]) -> None:
        # Adopted only once committed: had the write failed, a second save (Flask saves again
        # for the error page) would find no row under the new id, take the session for one
        # ended on the server and delete the cookie; the next form post then met the CSRF page.
        sid, created = written
        if sid != session.sid or session.rotate_requested:
            session.sid, session.rotate_requested = sid, False
            session.created = created
        session.new = False

    def _set_cookie(self, app: Flask, session: ServerSession, response: Response) -> None:
        response.set_cookie(
            self.get_cookie_name(app),
            session.sid,
            httponly=True,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app) or "Lax",
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
        )


# Every request reads its session and many write it: statements built once, executed on a bare
# connection, skip the ORM's per-call work (see bench/signin.py).
_table = WebSession.__table__
_SELECT = select(_table.c.data, _table.c.expires_at, _table.c.last_seen_at, _table.c.staff_id,
                 _table.c.created_at).where(
    _table.c.id_hash == bindparam("sid_hash"))
_DELETE = delete(_table).where(_table.c.id_hash == bindparam("sid_hash"))
# The SET and VALUES clauses come from the parameters' column names.
_UPDATE = update(_table).where(_table.c.id_hash == bindparam("sid_hash"))
_INSERT = insert(_table)
# The new id travels as id_hash, the old one as sid_hash.
_ROTATE = update(_table).where(_table.c.id_hash == bindparam("sid_hash"))


def commit_with_session(db_session: Session) -> None:
    """Commit the request's transaction with the browser session's row written in it.

    A sign-in (the new session id), a card read's options (the browser's WebAuthn binding) or a
    refusal (what an earlier read allowed, dropped) then costs one write transaction, not two:
    the usual save after the response only sets the cookie. Changes to the session after this
    call are saved as usual.
    """
    from flask import current_app, session as browser_session

    interface = current_app.session_interface
    if not isinstance(interface, DatabaseSessionInterface) or not isinstance(browser_session, ServerSession):
        db_session.commit()
        return
    now = interface._now(current_app)
    if not browser_session:
        db_session.commit()  # an empty session is dropped by the usual save
        return
    written = interface.write(db_session.connection(), browser_session, now)
    db_session.commit()
    if written is None:
        browser_session.sid, browser_session.written = None, "ended"
    else:
        interface.adopt(browser_session, written)
        browser_session.written = "cookie"
        browser_session.last_seen = now
    browser_session.modified = False


def remember_with(db_session: Session, key: str, value) -> None:
    """Put `key` into this browser session, written inside `db_session`'s transaction.

    It is committed together with what it describes, so the browser keeps it even when the
    response (and the usual save after it) never happens: a worker killed, a write failing.
    """
    from flask import session as browser_session

    browser_session[key] = value
    if getattr(browser_session, "sid", None) is not None:
        payload = json.dumps(dict(browser_session), separators=(",", ":"))
        db_session.execute(_UPDATE, {"sid_hash": _hash(browser_session.sid), "data": payload})


def end_sessions_of_staff(db_session: Session, staff_id: int) -> None:
    """End every browser session of a staff member at once (disabled account, password reset)."""
    db_session.execute(delete(WebSession).where(WebSession.staff_id == staff_id))
