"""The wheel is the product: build it, install it into a fresh venv outside the source tree, and
run docs/operator.md's production section against it (SQLite; PostgreSQL when TEST_DATABASE_URL is set).

Slow by nature (a wheel build and an install of every dependency, from pip's cache when it can):
about a minute.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from e2e.databases import derived_postgres_url, reset_postgres_database

# The same on either database: CI runs it once (on SQLite), not again on PostgreSQL.
pytestmark = pytest.mark.database_independent

ROOT = Path(__file__).resolve().parent.parent
# What a source checkout holds beside the code; none of it belongs in the build.
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "instance", "*.egg-info", "__pycache__",
                                    ".pytest_cache", "docs", "demo-screenshots", "test-results")


def _run(args: list[str], *, env: dict[str, str], cwd: Path, timeout: int = 120) -> str:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_installed_wheel_migrates_serves_pages_and_the_api(tmp_path):
    pip = [sys.executable, "-m", "pip"]
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("PYTHONPATH", "DATABASE_URL", "SECRET_KEY", "APP_ENV", "INSTANCE_DIR",
                             "PROMETHEUS_MULTIPROC_DIR", "METRICS", "TRUSTED_PROXIES", "PORT")}
    # Build from a copy of the sources, so nothing generated in the checkout (build/) leaks in.
    shutil.copytree(ROOT, tmp_path / "src", ignore=NOT_SOURCE)
    _run([*pip, "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(tmp_path / "src")],
         env=base_env, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("mynareception-*.whl"))
    # A fresh venv; this interpreter's pip installs into it (no second pip to bootstrap).
    _run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], env=base_env, cwd=tmp_path)
    venv_python = tmp_path / "venv" / "bin" / "python"
    _run([*pip, "--python", str(venv_python), "install", "-q", "--no-compile", str(wheel)],
         env=base_env, cwd=tmp_path, timeout=300)
    site_packages = Path(_run([str(venv_python), "-c", "import web, sys; print(web.__file__)"],
                              env=base_env, cwd=tmp_path).strip()).parent.parent
    assert tmp_path / "venv" in site_packages.parents

    # docs/operator.md's production section, from a folder that is not the source tree.
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if os.environ.get("TEST_DATABASE_URL"):
        database_url = derived_postgres_url(os.environ["TEST_DATABASE_URL"], "wheel")
        reset_postgres_database(database_url)
    else:
        database_url = f"sqlite:///{run_dir / 'app.db'}"
    port = _free_port()
    env = {**base_env, "APP_ENV": "production", "SECRET_KEY": "w" * 48, "AUDIT_KEY": "k" * 48,
           "WEBHOOK_KEY": "h" * 48, "DATABASE_URL": database_url, "RP_ID": "reception.example.jp",
           "ORIGINS": "https://reception.example.jp", "OQS_BACKEND": "simulator", "CARD_AUTHORITY": "embedded",
           "ALLOW_SIMULATORS": "1", "TRUSTED_PROXIES": "1", "PORT": str(port),
           "PATH": f"{tmp_path / 'venv' / 'bin'}{os.pathsep}{base_env.get('PATH', '')}"}
    flask = ["flask", "--app", "app"]
    assert "configuration OK" in _run([*flask, "config", "check"], env=env, cwd=run_dir)
    _run([*flask, "db", "upgrade"], env=env, cwd=run_dir)
    _run([*flask, "institution", "create", "--code", "1341245676", "--name", "本町薬局", "--kind", "pharmacy"],
         env=env, cwd=run_dir)
    _run([*flask, "institution", "admin", "1341245676", "--login-id", "honmachi-admin"], env=env, cwd=run_dir)
    _run([*flask, "demo", "load"], env=env, cwd=run_dir)

    log_path = run_dir / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            ["gunicorn", "-c", "python:web.gunicorn_conf", "--workers", "2", "--no-control-socket",
             "--bind", f"127.0.0.1:{port}", "app:create_app()"],
            env=env, cwd=run_dir, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    # As nginx sends them (deploy/nginx.conf): TLS ended there, the patient's address forwarded.
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(base + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        status, body = _call(base + "/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"
        status, page = _call(base + "/pharmacy/login", headers=proxied)
        assert status == 200 and "ログインID" in page and "この環境のデータは模擬データです" in page
        assert _call(base + "/static/app.css", headers=proxied)[0] == 200

        basic = base64.b64encode(b"demo-system:demo-system-secret").decode()
        status, body = _call(base + "/oauth/token", data=b"grant_type=client_credentials",
                             headers={**proxied, "Authorization": f"Basic {basic}",
                                      "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, body
        token = json.loads(body)["access_token"]
        today = (datetime.now(timezone.utc) + timedelta(hours=9)).date().isoformat()
        status, body = _call(f"{base}/api/v1/consents?date={today}",
                             headers={**proxied, "Authorization": f"Bearer {token}"})
        assert status == 200, body
        listed = json.loads(body)
        assert listed["date"] == today and isinstance(listed["consents"], list)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Nothing was written beside the code, and every line of the server's log is JSON.
    assert not (site_packages / "instance").exists()
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert any(e["logger"] == "app.request" and e["path"] == "/api/v1/consents" for e in entries)
    assert not any(e["logger"] == "gunicorn.access" for e in entries)
