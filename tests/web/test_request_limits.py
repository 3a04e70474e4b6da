"""Requests gunicorn itself used to answer in English HTML - an over-long URL (414), a body whose
chunked encoding is broken (400) - answered in the project's format under the real server
(issue 31, finding 13): JSON under /api/, a Japanese page elsewhere. What gunicorn still answers
(request lines over its 8190-byte maximum) nginx stops first (deploy/README.md).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The app's limit on a URL (path and query), as deploy/README.md states it.
MAX_URL_BYTES = 4096


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], str]:
    """Send bytes as they are; (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "SECRET_KEY": "g" * 40, "INSTANCE_DIR": str(tmp_path), "PORT": str(port)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=120)
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf", "--no-control-socket",
         "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _raw(port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(port: int, target: str) -> tuple[int, dict[str, str], str]:
    return _raw(port, f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())


def test_an_over_long_url_is_414_in_json_under_the_api(gunicorn_port):
    status, headers, body = _get(gunicorn_port, "/api/v1/consents?date=" + "9" * 6000)
    assert status == 414 and headers["content-type"].startswith("application/problem+json")
    assert '"error":"uri_too_long"' in body.replace(" ", "") and "URLが長すぎます" in body


def test_an_over_long_url_is_414_as_a_japanese_page_elsewhere(gunicorn_port):
    status, headers, body = _get(gunicorn_port, "/pharmacy/" + "a" * 6000)
    assert status == 414 and headers["content-type"].startswith("text/html")
    assert 'lang="ja"' in body and "URLが長すぎます" in body


def test_a_url_at_the_limit_is_answered_as_usual(gunicorn_port):
    target = "/healthz?" + "a" * (MAX_URL_BYTES - len("/healthz?"))
    assert _get(gunicorn_port, target)[0] == 200


@pytest.mark.parametrize("chunks", [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhello0\r\n\r\n", b"5;\x01\r\nhello\r\n0\r\n\r\n"],
                         ids=["bad-size", "missing-crlf", "bad-extension"])
def test_a_broken_chunked_body_is_400_in_json(gunicorn_port, chunks):
    request = (b"POST /api/v1/batch-inquiries HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    status, headers, body = _raw(gunicorn_port, request)
    assert status == 400 and headers["content-type"].startswith("application/problem+json"), body
    assert '"error":"bad_request"' in body.replace(" ", "") and "チャンク転送" in body


def test_a_broken_chunked_form_is_a_japanese_page(gunicorn_port):
    request = (b"POST /pharmacy/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    status, headers, body = _raw(gunicorn_port, request)
    assert status == 400 and headers["content-type"].startswith("text/html")
    assert 'lang="ja"' in body and "チャンク転送" in body
