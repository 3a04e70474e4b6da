"""Liveness and readiness probes for the load balancer."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from web.db import engine

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not ready", never a 500
        response = jsonify(error="unavailable", message="データベースに接続できません。")
        response.status_code = 503
        return response
    return jsonify(status="ready")
