"""Baseline for bench/signin.py: the same ceremony in a bare Flask app with an in-memory store.

No database, no sessions table, no rate limits, no audit: the floor our service is compared to.
Run with one gunicorn worker (the store is per process).
"""
from __future__ import annotations

import json
import os
import secrets

from flask import Flask, jsonify, request
from webauthn import generate_authentication_options, options_to_json, verify_authentication_response
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.structs import UserVerificationRequirement

app = Flask(__name__)
CHALLENGES: dict[str, bytes] = {}
CARDS: dict[bytes, dict] = {}  # user handle -> {"public_key", "sign_count"}
ORIGIN = os.environ.get("ORIGINS", "http://localhost:5000")


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/register")
def register():
    body = request.get_json()
    CARDS[base64url_to_bytes(body["user_handle"])] = {
        "public_key": base64url_to_bytes(body["public_key"]), "sign_count": 0}
    return "", 204


@app.post("/options")
def options():
    sid = request.cookies.get("sid") or secrets.token_urlsafe(16)
    challenge = secrets.token_bytes(32)
    CHALLENGES[sid] = challenge
    opts = generate_authentication_options(rp_id="localhost", challenge=challenge, allow_credentials=[],
                                           user_verification=UserVerificationRequirement.REQUIRED)
    resp = app.response_class(options_to_json(opts), mimetype="application/json")
    resp.set_cookie("sid", sid, httponly=True)
    return resp


@app.post("/verify")
def verify():
    challenge = CHALLENGES.pop(request.cookies.get("sid", ""), None)
    credential = request.get_json()["credential"]
    card = CARDS[base64url_to_bytes(credential["response"]["userHandle"])]
    result = verify_authentication_response(
        credential=credential, expected_challenge=challenge, expected_rp_id="localhost",
        expected_origin=ORIGIN, credential_public_key=card["public_key"],
        credential_current_sign_count=card["sign_count"], require_user_verification=True)
    card["sign_count"] = result.new_sign_count
    return jsonify(ok=True)
