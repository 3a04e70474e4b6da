"""The plumbing every feature relies on: health, errors, headers, limits, CSRF, logging."""
from __future__ import annotations

import json

import pytest
from flask import jsonify, request, session

from app import create_app
from web.config import Settings
from web.jsonio import json_object


def test_healthz_and_readyz(client):
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_answers_503_when_the_database_is_unreachable(tmp_path):
    settings = Settings.from_env(
        env={}, database_url="postgresql://nobody@127.0.0.1:1/none", secret_key="k" * 64, log_requests=False
    )
    client = create_app(settings).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_pages_are_japanese_mobile_and_locked_down(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert 'name="viewport"' in html
    assert "/static/app.css" in html
    assert "<script>" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_hsts_whenever_the_origins_are_https(make_app):
    https = make_app(rp_id="reception.example.jp", origins=["https://reception.example.jp"]).test_client()
    for path in ("/", "/healthz", "/pharmacy/login", "/nowhere"):
        assert https.get(path).headers["Strict-Transport-Security"] == "max-age=63072000", path
    plain = make_app().test_client()  # http://localhost: a browser would ignore it, and it is not sent
    assert "Strict-Transport-Security" not in plain.get("/").headers


def test_unknown_route_is_a_japanese_page_or_json(client):
    page = client.get("/nowhere")
    assert page.status_code == 404
    assert "ページが見つかりません" in page.get_data(as_text=True)
    assert 'role="alert"' in page.get_data(as_text=True)
    api = client.get("/api/nowhere")
    assert api.status_code == 404
    assert api.get_json()["error"] == "not_found"
    accept_json = client.get("/nowhere", headers={"Accept": "application/json"})
    assert accept_json.get_json()["error"] == "not_found"


def test_wrong_method_is_405(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


@pytest.fixture
def echo_app(app):
    @app.post("/api/test-echo")
    def echo():
        return jsonify(json_object(required=True))

    return app


def test_malformed_json_is_400(echo_app):
    client = echo_app.test_client()
    bad = client.post("/api/test-echo", data="{not json", content_type="application/json")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "invalid_json"
    not_object = client.post("/api/test-echo", json=[1, 2])
    assert not_object.status_code == 400
    ok = client.post("/api/test-echo", json={"a": "あ"})
    assert ok.status_code == 200 and ok.get_json() == {"a": "あ"}


def test_json_over_one_mebibyte_is_413(echo_app):
    client = echo_app.test_client()
    body = json.dumps({"x": "a" * (1024 * 1024)})
    response = client.post("/api/test-echo", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"


def test_upload_over_two_mebibytes_is_413_page(app):
    @app.post("/upload-test")
    def upload_test():
        return str(len(request.form.get("f", "")))

    response = app.test_client().post("/upload-test", data={"f": "a" * (2 * 1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "大きすぎます" in response.get_data(as_text=True)


def _chunked(client, path: str, body: bytes, content_type: str):
    """A body sent with Transfer-Encoding: chunked, as gunicorn hands it on: no Content-Length."""
    import io

    return client.post(path, input_stream=io.BytesIO(body), content_type=content_type,
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True})


@pytest.mark.parametrize("size, status", [(1024 * 1024, 200), (1024 * 1024 + 1, 413), (3 * 1024 * 1024, 413)])
def test_chunked_json_is_held_to_one_mebibyte(echo_app, size, status):
    """Before, a 1.43 MiB chunked JSON body was processed and a larger one was cut short (400)."""
    filler = size - len(json.dumps({"x": ""}))
    body = json.dumps({"x": "a" * filler}).encode()
    assert len(body) == size
    response = _chunked(echo_app.test_client(), "/api/test-echo", body, "application/json")
    assert response.status_code == status
    if status == 413:
        assert response.get_json() == {"type": "/problems/payload_too_large", "title": "Payload too large",
                                       "status": 413, "detail": "JSONは1MiB以下にしてください。",
                                       "error": "payload_too_large", "message": "JSONは1MiB以下にしてください。"}
    else:
        assert len(response.get_json()["x"]) == filler


@pytest.mark.parametrize("size, status", [(2 * 1024 * 1024, 200), (2 * 1024 * 1024 + 1, 413)])
def test_chunked_upload_is_held_to_two_mebibytes(app, size, status):
    @app.post("/api/upload-test")  # outside CSRF: the limit is what is tested
    def upload_test():
        return str(len(request.form.get("f", "")))

    body = b"f=" + b"a" * (size - 2)
    response = _chunked(app.test_client(), "/api/upload-test", body, "application/x-www-form-urlencoded")
    assert response.status_code == status
    if status == 413:
        assert "大きすぎます" in response.get_data(as_text=True)
    else:
        assert response.get_data(as_text=True) == str(size - 2)


def test_forms_need_the_csrf_token(app):
    @app.route("/form-test", methods=["GET", "POST"])
    def form_test():
        from web.security import csrf_token

        return {"token": csrf_token()}

    client = app.test_client()
    token = client.get("/form-test").get_json()["token"]
    refused = client.post("/form-test", data={"csrf_token": "wrong"})
    assert refused.status_code == 400
    assert "有効期限" in refused.get_data(as_text=True)
    assert client.post("/form-test", data={}).status_code == 400
    assert client.post("/form-test", data={"csrf_token": token}).status_code == 200


def test_sessions_live_in_the_database_and_are_shared_by_workers(make_app):
    worker_a, worker_b = make_app(), make_app()

    @worker_a.get("/set")
    def set_value():
        session["who"] = "a"
        return "ok"

    @worker_b.get("/get")
    def get_value():
        return session.get("who", "nobody")

    client_a = worker_a.test_client()
    client_a.get("/set")
    cookie = client_a.get_cookie("session")
    assert cookie is not None and cookie.http_only
    client_b = worker_b.test_client()
    client_b.set_cookie("session", cookie.value)
    assert client_b.get("/get").get_data(as_text=True) == "a"
    # A forged cookie gets a fresh, empty session.
    client_b.set_cookie("session", "forged")
    assert client_b.get("/get").get_data(as_text=True) == "nobody"


def test_session_rotation_issues_a_new_id_and_drops_the_old(app):
    @app.get("/login-like")
    def login_like():
        session["x"] = 1
        session.rotate()
        return "ok"

    @app.get("/peek")
    def peek():
        return str(session.get("x", "none"))

    client = app.test_client()
    client.get("/peek")
    client.get("/login-like")
    first = client.get_cookie("session").value
    client.get("/login-like")
    second = client.get_cookie("session").value
    assert first != second
    other = app.test_client()
    other.set_cookie("session", first)
    assert other.get("/peek").get_data(as_text=True) == "none"


def test_a_session_ended_on_the_server_mid_request_is_not_brought_back(app):
    """Logout elsewhere or a disabled account deletes the row while a request is running:
    that request's end must not write the session again."""
    from sqlalchemy import delete

    from store.models import WebSession

    @app.get("/sign-in-like")
    def sign_in_like():
        session["staff_like"] = 7
        return "ok"

    @app.get("/ended-meanwhile")
    def ended_meanwhile():
        with app.extensions["engine"].begin() as conn:
            conn.execute(delete(WebSession))
        session["touched"] = True  # would make the session write itself back
        return "ok"

    @app.get("/peek")
    def peek():
        return str(session.get("staff_like", "none"))

    client = app.test_client()
    client.get("/sign-in-like")
    assert client.get("/peek").get_data(as_text=True) == "7"
    client.get("/ended-meanwhile")
    assert client.get_cookie("session") is None
    assert client.get("/peek").get_data(as_text=True) == "none"


def test_request_log_is_one_json_line_without_personal_data(make_app, capsys):
    app = make_app(log_requests=True)
    capsys.readouterr()
    app.test_client().get("/nowhere/山田花子?name=山田", headers={"X-Request-Id": "req-42"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    requests = [entry for entry in lines if entry["logger"] == "app.request"]
    assert len(requests) == 1
    entry = requests[0]
    assert entry["method"] == "GET" and entry["status"] == 404 and entry["path"] == "<unmatched>"
    assert entry["request_id"] == "req-42"
    assert set(entry) == {"time", "level", "logger", "message", "method", "path", "status", "duration_ms",
                          "request_id"}
    assert "山田" not in json.dumps(lines, ensure_ascii=False)


def test_json_nested_too_deep_is_400(echo_app):
    # The parser's RecursionError went past get_json(silent=True): a 500.
    deep = echo_app.test_client().post("/api/test-echo", data="[" * 100_000 + "]" * 100_000,
                                       content_type="application/json")
    assert deep.status_code == 400 and deep.get_json()["error"] == "invalid_json"


def test_nul_in_a_path_query_or_form_is_400(app):
    # PostgreSQL refuses NUL in text, so one became a 500 wherever it met the database.
    @app.route("/nul-test/<value>", methods=["GET", "POST"])
    def nul_test(value):
        return "ok"

    client = app.test_client()
    assert client.get("/nul-test/a?q=b").status_code == 200
    page = client.get("/nul-test/a%00b")
    assert page.status_code == 400 and "NUL" in page.get_data(as_text=True)
    assert 'role="alert"' in page.get_data(as_text=True)
    as_json = {"Accept": "application/json"}
    for resp in (client.get("/nul-test/a?q=%00", headers=as_json), client.get("/nul-test/a?%00=q", headers=as_json),
                 client.post("/nul-test/a", data={"memo": "a\x00"}, headers=as_json)):
        assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"


def test_an_error_is_one_json_line_with_its_traceback_and_request_id_but_no_sql_values(make_app, capsys):
    app = make_app(log_requests=True)

    @app.route("/broken-lookup")
    def broken_lookup():
        from flask import request
        from sqlalchemy import text

        from web.db import db

        db().execute(text("SELECT * FROM no_such_table WHERE name = :name"), {"name": request.args["name"]})
        return "unreachable"

    capsys.readouterr()
    page = app.test_client().get("/broken-lookup?name=山田花子", headers={"X-Request-Id": "req-500"})
    assert page.status_code == 500 and "システムエラー" in page.get_data(as_text=True)
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]  # every line is JSON
    errors = [entry for entry in lines if entry["logger"] == "app.errors"]
    assert len(errors) == 1
    error = errors[0]
    assert error["level"] == "error" and error["request_id"] == "req-500"
    assert error["path"] == "/broken-lookup" and error["error"] in ("OperationalError", "ProgrammingError")
    assert "Traceback (most recent call last)" in error["traceback"] and "no_such_table" in error["traceback"]
    assert "SQL parameters hidden" in error["traceback"]
    assert "山田" not in out
    assert [e["status"] for e in lines if e["logger"] == "app.request"] == [500]
