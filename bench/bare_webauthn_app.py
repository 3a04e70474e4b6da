"""The peer bench/signin.py measures the service against: a bare Flask + py_webauthn relying party
that keeps exactly the state a real one must keep, in the same kind of database.

- POST /options: a single-use challenge row (bound to a random cookie), one transaction.
- POST /verify: one transaction: take the challenge (DELETE ... RETURNING), read the card's sign
  count under a row lock, verify, bump the count, open a server-side session (a new random id).

No rate limits, audit, CSRF, card statuses or clone handling: the floor a durable relying party
cannot go below. DATABASE_URL names the database (the service's own in the benchmark: its tables
are prefixed `peer_`); the engine comes from store/engine.py only so that both run on the same
connection settings (SQLite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE for writers).
Run it with as many gunicorn workers as the service: every worker shares the database.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import time

from flask import Flask, jsonify, request
from sqlalchemy import Engine, text
from webauthn import generate_authentication_options, options_to_json, verify_authentication_response
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import UserVerificationRequirement

from store.engine import make_engine

ORIGIN = os.environ.get("ORIGINS", "http://localhost:5000")
RP_ID = "localhost"
CHALLENGE_TTL = 300
SESSION_TTL = 1800

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS peer_challenges (challenge BYTEA PRIMARY KEY, binding VARCHAR(64) NOT NULL,"
    " expires_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS peer_cards (user_handle BYTEA PRIMARY KEY, public_key BYTEA NOT NULL,"
    " sign_count INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS peer_sessions (id_hash VARCHAR(64) PRIMARY KEY, user_handle BYTEA NOT NULL,"
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
)


def create_tables(engine: Engine) -> None:
    blob = "BLOB" if engine.dialect.name == "sqlite" else "BYTEA"
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.exec_driver_sql(statement.replace("BYTEA", blob))


def add_card(engine: Engine, user_handle: bytes, public_key: bytes) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM peer_cards WHERE user_handle = :h"), {"h": user_handle})
        conn.execute(text("INSERT INTO peer_cards (user_handle, public_key, sign_count) VALUES (:h, :k, 0)"),
                     {"h": user_handle, "k": public_key})


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> int:
    # Epoch seconds: the same column type and comparison on both databases.
    return int(time.time())


engine = make_engine(os.environ.get("DATABASE_URL", "sqlite:///peer.db"))
# Writers begin IMMEDIATE on SQLite (as the service's request sessions do); no-op on PostgreSQL.
writer = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
FOR_UPDATE = "" if engine.dialect.name == "sqlite" else " FOR UPDATE"
app = Flask(__name__)

_INSERT_CHALLENGE = text("INSERT INTO peer_challenges (challenge, binding, expires_at) VALUES (:c, :b, :e)")
_TAKE_CHALLENGE = text("DELETE FROM peer_challenges WHERE challenge = :c RETURNING binding, expires_at")
_CARD = text(f"SELECT public_key, sign_count FROM peer_cards WHERE user_handle = :h{FOR_UPDATE}")
_BUMP = text("UPDATE peer_cards SET sign_count = :n WHERE user_handle = :h")
_OPEN_SESSION = text("INSERT INTO peer_sessions (id_hash, user_handle, created_at, expires_at) VALUES (:i, :h, :c, :e)")


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/options")
def options():
    binding = request.cookies.get("bind") or secrets.token_urlsafe(24)
    challenge = secrets.token_bytes(32)
    with writer.begin() as conn:
        conn.execute(_INSERT_CHALLENGE, {"c": challenge, "b": _hash(binding), "e": _now() + CHALLENGE_TTL})
    opts = generate_authentication_options(rp_id=RP_ID, challenge=challenge, allow_credentials=[],
                                           user_verification=UserVerificationRequirement.REQUIRED)
    resp = app.response_class(options_to_json(opts), mimetype="application/json")
    resp.set_cookie("bind", binding, httponly=True, samesite="Lax")
    return resp


class Refused(Exception):
    pass


@app.post("/verify")
def verify():
    credential = request.get_json()["credential"]
    binding = request.cookies.get("bind", "")
    try:
        challenge = base64url_to_bytes(json.loads(base64url_to_bytes(
            credential["response"]["clientDataJSON"]))["challenge"])
        user_handle = base64url_to_bytes(credential["response"]["userHandle"])
    except (KeyError, TypeError, ValueError):
        return jsonify(ok=False), 400
    sid = secrets.token_urlsafe(32)
    now = _now()
    with writer.begin() as conn:
        # One transaction; a refusal after the challenge is taken still commits its deletion.
        taken = conn.execute(_TAKE_CHALLENGE, {"c": challenge}).first()
        try:
            if taken is None or taken.binding != _hash(binding) or taken.expires_at <= now:
                raise Refused()
            card = conn.execute(_CARD, {"h": user_handle}).first()
            if card is None:
                raise Refused()
            try:
                result = verify_authentication_response(
                    credential=credential, expected_challenge=challenge, expected_rp_id=RP_ID,
                    expected_origin=ORIGIN, credential_public_key=card.public_key,
                    credential_current_sign_count=card.sign_count, require_user_verification=True)
            except WebAuthnException:
                raise Refused() from None
            conn.execute(_BUMP, {"n": result.new_sign_count, "h": user_handle})
            conn.execute(_OPEN_SESSION, {"i": _hash(sid), "h": user_handle, "c": now, "e": now + SESSION_TTL})
        except Refused:
            refused = True
        else:
            refused = False
    if refused:
        return jsonify(ok=False), 400
    resp = jsonify(ok=True)
    resp.set_cookie("sid", sid, httponly=True, samesite="Lax")
    resp.delete_cookie("bind")
    return resp
