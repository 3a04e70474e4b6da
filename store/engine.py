"""Engine creation: SQLite (WAL, foreign keys) by default, PostgreSQL by URL."""
from __future__ import annotations

import math
import socket
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait on the database (a person is waiting).

    connect: opening a PostgreSQL connection, and waiting for a free one in the pool.
    statement: one statement (PostgreSQL statement_timeout, and a client-side limit a little
    longer for a server that has gone silent); on SQLite, how long to wait for the write lock.
    """

    connect: float = 3.0
    statement: float = 5.0


# Operator commands and benchmarks (no one waiting at a screen): SQLite waits long for the lock.
OPERATOR_BUSY_SECONDS = 30
# A PostgreSQL connection idle in the pool longer than this is pinged before use (store/engine.py's
# checkout hook); one used within it is trusted, and should the server have gone meanwhile its
# first statement fails fast (the watchdog, statement_timeout) and the request is answered 503.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    """Create the engine for a database URL, tuned for several worker processes.

    With `timeouts` (the web app) every wait is bounded; without (operator commands, benchmarks,
    migrations) SQLite waits up to 30 s for its lock and PostgreSQL statements are not limited.
    """
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        busy = timeouts.statement if timeouts else OPERATOR_BUSY_SECONDS
        pool = {"pool_timeout": timeouts.connect} if timeouts else {}
        # hide_parameters: a failing statement's text reaches the log without its values (names).
        engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False},
                               hide_parameters=True, **pool)
        _tune_sqlite(engine, in_memory=":memory:" in url or url in ("sqlite://", "sqlite:///"),
                     busy_ms=int(busy * 1000))
        return engine
    if timeouts is None:
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)
    statement_ms = int(timeouts.statement * 1000)
    engine = create_engine(
        url, pool_size=5, max_overflow=10, pool_timeout=timeouts.connect, hide_parameters=True,
        connect_args={
            # libpq counts whole seconds and at least 2.
            "connect_timeout": max(2, math.ceil(timeouts.connect)),
            "options": f"-c statement_timeout={statement_ms}",
        },
    )
    _bound_postgres_waits(engine, statement_seconds=timeouts.statement + 1.0, ping_seconds=timeouts.connect)
    return engine


class _Watchdog:
    """Closes the socket of a PostgreSQL connection whose statement runs past its deadline.

    statement_timeout is enforced by the server: a server (or network) that has gone silent
    never sends the cancellation, and the worker would hang until gunicorn kills it. Shutting the
    socket down makes the driver fail at once with OperationalError. One thread per process.
    """

    def __init__(self) -> None:
        self._deadlines: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, key: int, fileno: int, seconds: float) -> None:
        with self._lock:
            self._deadlines[key] = (time.monotonic() + seconds, fileno)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()

    def done(self, key: int) -> None:
        self._deadlines.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self._lock:
                late = [(k, f) for k, (d, f) in self._deadlines.items() if d <= now]
                for key, _ in late:
                    self._deadlines.pop(key, None)
            for _, fileno in late:
                try:
                    # A duplicate descriptor: shutting it down ends the shared connection,
                    # closing the duplicate leaves the driver's own descriptor to the driver.
                    with socket.socket(fileno=_dup(fileno)) as sock:
                        sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _dup(fileno: int) -> int:
    import os

    return os.dup(fileno)


_watchdog = _Watchdog()


def _bound_postgres_waits(engine: Engine, *, statement_seconds: float, ping_seconds: float) -> None:
    def _fileno(dbapi_conn) -> int | None:
        try:
            return dbapi_conn.fileno()
        except Exception:  # closed or broken: nothing to watch
            return None

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, _cursor, _statement, _params, _context, _many):
        fileno = _fileno(conn.connection.dbapi_connection)
        if fileno is not None:
            _watchdog.watch(id(conn.connection.dbapi_connection), fileno, statement_seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn, _cursor, _statement, _params, _context, _many):
        _watchdog.done(id(conn.connection.dbapi_connection))

    @event.listens_for(engine, "handle_error")
    def _failed(context):
        if context.connection is not None and context.connection.connection.dbapi_connection is not None:
            _watchdog.done(id(context.connection.connection.dbapi_connection))

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        # pool_pre_ping's own ping has no deadline: ping here under the watchdog instead. A
        # connection back in the pool for under PING_AFTER_IDLE_SECONDS worked a moment ago: under
        # load every request would pay a round trip (two, with its transaction's end) for nothing.
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        fileno = _fileno(dbapi_conn)
        key = id(dbapi_conn)
        if fileno is not None:
            _watchdog.watch(key, fileno, ping_seconds)
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as error:
            # The pool throws this connection away and tries a fresh one (which has a connect timeout).
            raise exc.DisconnectionError(str(error)) from error
        finally:
            _watchdog.done(key)


def _tune_sqlite(engine: Engine, in_memory: bool, busy_ms: int = OPERATOR_BUSY_SECONDS * 1000) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised via every test
        # Let SQLAlchemy issue BEGIN itself, so "BEGIN IMMEDIATE" below takes the write lock
        # at the start of a transaction instead of failing halfway with "database is locked".
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised via every test
        # Writers that read first (check, then insert) ask for IMMEDIATE so that two
        # processes queue on the lock instead of one failing with SQLITE_BUSY mid-way.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work (a request, a command).

    On SQLite every such transaction begins IMMEDIATE: a request that reads and then writes
    (a page whose reads are audited, say) would otherwise fail with "database is locked" when
    another worker wrote in between. Writers queue instead; PostgreSQL is unaffected.
    Short side transactions (rate limits, the session store) use the engine directly.
    """
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    return sessionmaker(bind=engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE; PostgreSQL: no-op).

    Call before the first statement of a read-then-write transaction. Without it, two SQLite
    connections that both read and then write fail with "database is locked" instead of queueing.
    Once the session holds a connection it is too late to choose: then this does nothing.
    """
    transaction = session.get_transaction()
    if transaction is not None and transaction._connections:  # already connected: keep it
        return
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
