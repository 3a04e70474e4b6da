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

from api_support import bearer, system_token
from web.metrics import REGISTRY

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _bad_token_statuses(client, forwarded_for: list[str]) -> list[int]:
    return [client.get("/api/v1/consents?date=2026-11-23", environ_base=PROXY,
                       headers={"Authorization": "Bearer wrong", "X-Forwarded-For": xff}).status_code
            for xff in forwarded_for]


def test_behind_one_trusted_proxy_each_patient_has_their_own_address_limit(make_app, monkeypatch, one_rate_minute):
    monkeypatch.setattr("web.api.BAD_TOKEN_LIMIT", 2)
    client = make_app(trusted_proxies=1).test_client()
    assert _bad_token_statuses(client, ["203.0.113.5"] * 3) == [401, 401, 429]
    # Another patient behind the same proxy is not held back by the first one's refusals.
    assert _bad_token_statuses(client, ["203.0.113.6"]) == [401]
    # Only the hop our proxy appended counts: an address the client wrote in front is ignored.
    assert _bad_token_statuses(client, ["198.51.100.1, 203.0.113.5"]) == [429]


def test_without_trusted_proxies_forwarded_headers_are_ignored(make_app, monkeypatch, one_rate_minute):
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


# --- metrics --------------------------------------------------------------------------------


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(f"mynareception_{name}", labels) or 0.0


def test_metrics_are_off_unless_asked(make_app):
    assert make_app().test_client().get("/metrics").status_code == 404


def test_metrics_count_requests_by_route_template_and_status(make_app):
    client = make_app(metrics=True).test_client()
    before = _value("http_requests_total", method="GET", route="/r/<token>", status="404")
    client.get("/r/no-such-token")
    client.get("/r/another-one")
    scrape = client.get("/metrics")
    assert scrape.status_code == 200 and scrape.mimetype == "text/plain"
    text = scrape.get_data(as_text=True)
    assert _value("http_requests_total", method="GET", route="/r/<token>", status="404") == before + 2
    assert 'mynareception_http_request_duration_seconds_count{method="GET",route="/r/<token>",status="404"}' in text
    assert "no-such-token" not in text


def test_metrics_are_served_only_to_allowed_addresses_as_seen_after_the_proxy(make_app):
    local = make_app(metrics=True).test_client()
    assert local.get("/metrics").status_code == 200  # 127.0.0.1 is allowed by default
    assert local.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 403
    # The proxy's own address is not the caller: the patient's side of it is.
    proxied = make_app(metrics=True, trusted_proxies=1, metrics_allow=["203.0.113.0/24"]).test_client()
    nginx = {"REMOTE_ADDR": "127.0.0.1"}
    assert proxied.get("/metrics", environ_base=nginx, headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 200
    assert proxied.get("/metrics", environ_base=nginx, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 403


def test_metrics_count_reads_by_outcome_and_rate_limit_refusals(world, monkeypatch, one_rate_minute):
    world.app.config["SETTINGS"].metrics = True
    client = world.app.test_client()
    token = system_token(world.app, world.system_client)
    allowed = _value("reads_total", outcome="allowed", reason="")
    denied = _value("reads_total", outcome="denied", reason="insufficient_scope")
    limited = _value("rate_limit_refusals_total", route="/api/v1/consents")
    assert client.get(f"/api/v1/consents/{world.consent}/limit", headers=bearer(token)).status_code == 200
    assert client.get(f"/api/v1/consents/{world.consent}/drugs", headers=bearer(token)).status_code == 403
    assert _value("reads_total", outcome="allowed", reason="") == allowed + 1
    assert _value("reads_total", outcome="denied", reason="insufficient_scope") == denied + 1
    monkeypatch.setattr("web.api.BAD_TOKEN_LIMIT", 1)
    statuses = [client.get("/api/v1/consents?date=2026-11-23", headers=bearer("wrong")).status_code
                for _ in range(2)]
    assert statuses == [401, 429]
    assert _value("rate_limit_refusals_total", route="/api/v1/consents") == limited + 1


def test_metrics_count_consents_and_card_refusals(card_holder, clock):
    from patient_support import choose, csrf_of, read_card

    app, token, _, soft = card_holder
    app.config["SETTINGS"].metrics = True
    counts = {e: _value("consents_total", event=e) for e in ("registered", "updated", "revoked")}
    refused = _value("card_refusals_total", code="not_verified")

    client = app.test_client()
    choose(client, token, consultation_date="2026-11-23", all="1")
    confirm = (f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    assert read_card(client, soft, "register", *confirm, user_verified=False).status_code == 400
    assert _value("card_refusals_total", code="not_verified") == refused + 1
    assert read_card(client, soft, "register", *confirm).status_code == 200
    assert _value("consents_total", event="registered") == counts["registered"] + 1

    client = app.test_client()
    resp = read_card(client, soft, "review", f"/r/{token}/review/verify", f"/r/{token}/review")
    review = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    consent_id = re.search(r'/review/consents/([A-Za-z0-9_-]+)"', review).group(1)
    changed = client.post(f"/r/{token}/review/consents/{consent_id}",
                          data={"csrf_token": csrf_of(review), "categories": ["drug"]})
    assert changed.status_code == 303
    assert _value("consents_total", event="updated") == counts["updated"] + 1

    client = app.test_client()
    resp = read_card(client, soft, "revoke", f"/r/{token}/revoke/verify", f"/r/{token}/revoke")
    page = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    client.post(f"/r/{token}/revoke/confirm", data={"csrf_token": csrf_of(page)})
    assert _value("consents_total", event="revoked") == counts["revoked"] + 1


# --- under gunicorn: two workers, one scrape; every line JSON --------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _healthz_count(text: str) -> float:
    match = re.search(r'^mynareception_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$',
                      text, re.M)
    return float(match.group(1)) if match else 0.0


def test_gunicorn_metrics_add_up_every_worker_and_every_log_line_is_json(database_url, tmp_path):
    port = _free_port()
    multiproc = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(APP_ENV="development", DATABASE_URL=database_url, SECRET_KEY="g" * 40, INSTANCE_DIR=str(tmp_path),
               METRICS="1", PROMETHEUS_MULTIPROC_DIR=str(multiproc), PORT=str(port))
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf", "--no-control-socket",
         "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.2)
        sent = 1
        # Concurrent requests until both workers have answered some (each writes its own files).
        with ThreadPoolExecutor(8) as pool:
            while len({p.stem.rsplit("_", 1)[1] for p in multiproc.glob("counter_*.db")}) < 2:
                assert sent < 2000, "one worker answered everything"
                assert all(s == 200 for s, _ in pool.map(lambda _: _get(base + "/healthz"), range(16)))
                sent += 16
        # Whichever worker answers the scrape, it reports both workers' counts.
        for _ in range(4):
            status, text = _get(base + "/metrics")
            assert status == 200
            assert _healthz_count(text) == sent
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = Path(log.name).read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line, gunicorn's own included
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in entries)
    assert sum(1 for e in entries if e["logger"] == "app.request" and e["path"] == "/healthz") == sent
    # gunicorn's access log would write concrete paths (reception tokens): it stays off.
    assert not any(e["logger"] == "gunicorn.access" for e in entries)
