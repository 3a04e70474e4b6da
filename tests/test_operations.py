"""Running as a service: behind a proxy, Prometheus metrics (in process and across gunicorn workers)."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _bad_token_statuses(client, forwarded_for: list[str]) -> list[int]:
    return [client.get("/api/v1/consents?date=2026-11-23", environ_base=PROXY,
                       headers={"Authorization": "Bearer wrong", "X-Forwarded-For": xff}).status_code
            for xff in forwarded_for]


def test_behind_one_trusted_proxy_each_patient_has_their_own_address_limit(make_app, monkeypatch):
    monkeypatch.setattr("web.api.BAD_TOKEN_LIMIT", 2)
    client = make_app(trusted_proxies=1).test_client()
    assert _bad_token_statuses(client, ["203.0.113.5"] * 3) == [401, 401, 429]
    # Another patient behind the same proxy is not held back by the first one's refusals.
    assert _bad_token_statuses(client, ["203.0.113.6"]) == [401]
    # Only the hop our proxy appended counts: an address the client wrote in front is ignored.
    assert _bad_token_statuses(client, ["198.51.100.1, 203.0.113.5"]) == [429]


def test_without_trusted_proxies_forwarded_headers_are_ignored(make_app, monkeypatch):
    monkeypatch.setattr("web.api.BAD_TOKEN_LIMIT", 2)
    app = make_app()

    @app.route("/whoami")
    def whoami():
        from flask import request

        return {"address": request.remote_addr, "scheme": request.scheme}

    client = app.test_client()
    # Anyone can send X-Forwarded-For: a new value per request must not dodge the limit.
    assert _bad_token_statuses(client, ["203.0.113.5", "203.0.113.6", "203.0.113.7"]) == [401, 401, 429]
    seen = client.get("/whoami", environ_base=PROXY,
                      headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}).get_json()
    assert seen == {"address": "10.0.0.2", "scheme": "http"}


def test_a_trusted_proxy_sets_the_scheme_too(make_app):
    app = make_app(trusted_proxies=1)

    @app.route("/whoami")
    def whoami():
        from flask import request

        return {"address": request.remote_addr, "scheme": request.scheme}

    seen = app.test_client().get("/whoami", environ_base=PROXY,
                                 headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}).get_json()
    assert seen == {"address": "203.0.113.5", "scheme": "https"}
