"""Engine creation: SQLite (WAL, foreign keys) by default, PostgreSQL by URL."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, tuned for several worker processes."""
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        # hide_parameters: a failing statement's text reaches the log without its values (names).
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               hide_parameters=True)
        _tune_sqlite(engine, in_memory=":memory:" in url or url in ("sqlite://", "sqlite:///"))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)


def _tune_sqlite(engine: Engine, in_memory: bool) -> None:
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
        cur.execute("PRAGMA busy_timeout=30000")
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
