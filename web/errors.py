"""Errors: Japanese pages for people, RFC 9457 problem details for programs (web/problems.py:
`type`, `title`, `status`, `detail`, and the service's own `error` and `message`).

HTTP errors are answered by status (MESSAGES); every DomainError (ApiError included) by
web/error_messages.py, the one place that words them.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from consent.errors import DomainError
from web.error_messages import ApiError, describe
from web.problems import PROBLEM_JSON, problem
from web.unavailable import (
    MESSAGE, REGISTER_ENDPOINTS, REGISTER_MESSAGE, RETRY_AFTER_SECONDS, UNAVAILABLE, is_unavailable,
)
from web.unavailable import log as unavailable_log

__all__ = ["ApiError", "error_response", "wants_json", "init_app"]

log = logging.getLogger("app.errors")

# (JSON code, Japanese message) per status.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "リクエストの内容が正しくありません。入力内容をご確認ください。"),
    401: ("unauthorized", "ログインが必要です。"),
    403: ("forbidden", "この操作は許可されていません。"),
    404: ("not_found", "ページが見つかりません。URLをご確認ください。"),
    405: ("method_not_allowed", "この方法ではご利用いただけません。"),
    409: ("conflict", "ほかの操作と重なりました。もう一度お試しください。"),
    410: ("gone", "このURLは現在使用できません。"),
    413: ("payload_too_large", "送信されたデータが大きすぎます。"),
    415: ("unsupported_media_type", "この形式のデータは受け付けられません。"),
    422: ("unprocessable", "入力内容に誤りがあります。"),
    429: ("rate_limited", "短時間に操作が集中しました。しばらく待ってからもう一度お試しください。"),
    500: ("internal_error", "システムエラーが発生しました。時間をおいてもう一度お試しください。"),
    503: ("unavailable", "ただいまご利用いただけません。時間をおいてもう一度お試しください。"),
}
CSRF_MESSAGE = "画面の有効期限が切れたか、不正な操作です。もう一度最初からお試しください。"
JSON_PREFIXES = ("/api/", "/sandbox/", "/oauth/", "/.well-known/")
# Under /oauth/ but shown to a pharmacist in a browser: errors there are pages.
BROWSER_PATHS = ("/oauth/authorize",)


def wants_json() -> bool:
    if request.path in BROWSER_PATHS:
        pass
    elif request.path.startswith(JSON_PREFIXES) or request.path in ("/healthz", "/readyz"):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str | None = None, message: str | None = None):
    default_code, default_message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    code = code or default_code
    message = message or default_message
    if wants_json():
        response = jsonify(problem(status, code, message))
        response.status_code = status
        response.mimetype = PROBLEM_JSON
        return response
    return render_template("error.html", status=status, message=message), status


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if status == 400 and exc.description == "csrf":
        return error_response(400, "csrf_failed", CSRF_MESSAGE)
    response = error_response(status)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response = _with_header(response, "Allow", ", ".join(exc.valid_methods))
    return response


def _with_header(response, name, value):
    if isinstance(response, tuple):
        body, status = response
        return body, status, {name: value}
    response.headers[name] = value
    return response


def _domain_error(exc: DomainError):
    answer = describe(exc)
    error = answer.error
    if answer.status == 422 and request.path.startswith("/api/"):
        error = "invalid_parameter"  # the API names every bad parameter so (see its OpenAPI document)
    return error_response(answer.status, error, answer.message)


def unexpected_error(exc: Exception):
    # The database may have failed outside a view (opening or saving the session): a 500 wrapping it.
    answered = answer_if_unavailable(getattr(exc, "original_exception", None))
    if answered is not None:
        return answered
    # The traceback goes to the log (JSON, with the request id; SQL parameters hidden by the
    # engine), never to the client. The route template, not the concrete path.
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    log.exception("unhandled error", extra={"fields": {"method": request.method, "path": rule,
                                                      "error": type(exc).__name__}})
    return error_response(500)


# --- the database is slow, silent or full (web/unavailable.py): 503, never a 500 -----------------


def _answer(error: Exception):
    # The driver's message can quote SQL parameters: log the kind of failure only.
    cause = getattr(error, "orig", None) or error
    unavailable_log.warning("database unavailable: %s", type(cause).__name__)
    g.database_failed = True  # web/sessions.py: do not try to save the session again
    register_step = request.endpoint in REGISTER_ENDPOINTS
    message = REGISTER_MESSAGE if register_step else MESSAGE
    if wants_json():
        response = error_response(503, "unavailable", message)
    else:
        staff = g.get("staff")
        institution = g.get("place_name") or (staff.institution_name if staff else "")
        response = render_template("unavailable.html", message=MESSAGE, institution=institution,
                                   register_step=register_step), 503
    return _retry_after(response)


def answer_if_unavailable(error: BaseException | None):
    """The 503 answer when `error` is a database fault (one raised while opening or saving the
    session reaches Flask as a 500 wrapping it), else None."""
    return _answer(error) if error is not None and is_unavailable(error) else None


def _retry_after(response):
    if isinstance(response, tuple):
        body, status = response
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _database_error(error: Exception):
    if is_unavailable(error):
        return _answer(error)
    return unexpected_error(error)  # a broken statement: the ordinary 500, logged


def init_app(app: Flask) -> None:
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(InternalServerError, unexpected_error)
    app.register_error_handler(Exception, unexpected_error)
