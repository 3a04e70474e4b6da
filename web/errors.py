"""Errors: Japanese pages for people, `{"error", "message"}` JSON for programs.

HTTP errors are answered by status (web/responses.py MESSAGES); every DomainError (ApiError included) by
web/error_messages.py, the one place that words them.
"""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException, InternalServerError

from consent.errors import DomainError
from web.error_messages import ApiError, describe
from web.responses import error_response, wants_json
from web.unavailable import UNAVAILABLE, answer_if_unavailable

__all__ = ["ApiError", "error_response", "wants_json", "init_app"]

log = logging.getLogger("app.errors")

CSRF_MESSAGE = "画面の有効期限が切れたか、不正な操作です。もう一度最初からお試しください。"


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


def _database_error(exc: Exception):
    answered = answer_if_unavailable(exc)
    if answered is not None:
        return answered
    return unexpected_error(exc)  # a broken statement: the ordinary 500, logged


def init_app(app: Flask) -> None:
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(InternalServerError, unexpected_error)
    app.register_error_handler(Exception, unexpected_error)
