"""Liveness and readiness probes for the load balancer.

/healthz answers while the process lives (it never touches the database). /readyz answers within
2 s: 503 when the database does not answer in time, or cannot take a write (PostgreSQL: a tiny
transaction that writes a commit record; SQLite: the write lock, the file's writability, the free
disk space and any page limit). Reads still working while writes fail is not "ready": every
consent and every audited read needs a write.
"""
from __future__ import annotations

import logging
import os
import threading

from flask import Blueprint, jsonify
from sqlalchemy import Engine

from web.db import engine

bp = Blueprint("health", __name__)
log = logging.getLogger("app.health")

# The load balancer waits 2 s at most; leave room for the answer itself.
READY_WITHIN_SECONDS = 1.5
# SQLite: below this much free disk space, writes are about to fail (WAL, checkpoints).
SQLITE_MIN_FREE_BYTES = 64 * 1024 * 1024
# SQLite: fewer pages left than this under max_page_count counts as full.
SQLITE_MIN_FREE_PAGES = 16

REASONS = {
    "timeout": "データベースが時間内に応答しません。",
    "unreachable": "データベースに接続できません。",
    "not_writable": "データベースに書き込めません。",
    "disk_full": "データベースの空き容量がありません。",
}


def probe(bind: Engine) -> str | None:
    """What keeps the database from serving requests (a REASONS key), or None when ready."""
    try:
        if bind.dialect.name == "sqlite":
            return _probe_sqlite(bind)
        with bind.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(READY_WITHIN_SECONDS * 1000)}")
            # Assigning a transaction id makes the commit write to the WAL: a write probe that
            # leaves no row behind (and fails on a read-only or full server).
            conn.exec_driver_sql("SELECT txid_current()")
    except Exception as error:  # any driver error means "not ready", never a 500
        log.warning("readiness probe failed: %s", type(getattr(error, "orig", None) or error).__name__)
        return "unreachable"
    return None


def _probe_sqlite(bind: Engine) -> str | None:
    path = bind.url.database
    with bind.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        # BEGIN IMMEDIATE takes the write lock: a writer stuck on it shows here.
        page_count = conn.exec_driver_sql("PRAGMA page_count").scalar()
        free_pages = conn.exec_driver_sql("PRAGMA freelist_count").scalar()
        max_pages = conn.exec_driver_sql("PRAGMA max_page_count").scalar()
        conn.rollback()
    if max_pages - page_count + free_pages < SQLITE_MIN_FREE_PAGES:
        return "disk_full"
    if path and path != ":memory:":
        folder = os.path.dirname(os.path.abspath(path))
        if not (os.access(path, os.W_OK) and os.access(folder, os.W_OK)):
            return "not_writable"
        stats = os.statvfs(folder)
        if stats.f_bavail * stats.f_frsize < SQLITE_MIN_FREE_BYTES:
            return "disk_full"
    return None


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    bind = engine()
    result: list[str | None] = []
    # In a thread: a silent database must not keep the probe past its deadline. The thread
    # itself ends by the engine's own timeouts.
    worker = threading.Thread(target=lambda: result.append(probe(bind)), name="readyz", daemon=True)
    worker.start()
    worker.join(READY_WITHIN_SECONDS)
    reason = result[0] if result else "timeout"
    if reason is not None:
        response = jsonify(error="unavailable", reason=reason, message=REASONS[reason])
        response.status_code = 503
        return response
    return jsonify(status="ready")
