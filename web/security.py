"""Security headers and CSRF protection for every form."""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, current_app, request, session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

# JSON APIs authenticate with bearer tokens or are sandbox-only machine interfaces that
# insist on a JSON body (which a cross-site form cannot send); forms everywhere else need a token.
CSRF_EXEMPT_PREFIXES = ("/api/", "/oauth/", "/sandbox/")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def session_secret(key: str, nbytes: int) -> str:
    """A random value kept in the browser's server-side session under `key`, made on first use."""
    value = session.get(key)
    if not value:
        value = secrets.token_urlsafe(nbytes)
        session[key] = value
    return value


def csrf_token() -> str:
    return session_secret("_csrf", 32)


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    if request.path.startswith(CSRF_EXEMPT_PREFIXES) or request.routing_exception is not None:
        # Unknown routes and wrong methods answer 404/405, not a CSRF refusal.
        return
    expected = session.get("_csrf")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        abort(400, description="csrf")


# Two years; no includeSubDomains: other services may live under the same parent domain.
HSTS = "max-age=63072000"


def _headers(response):
    if current_app.config["HSTS"]:
        # Browsers ignore it over plain http, so it is safe on every response of an https site.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.path.startswith(("/api/", "/oauth/", "/sandbox/")) or response.mimetype in ("text/html", "text/csv"):
        # Personal data must not linger in shared caches or on a shared phone's back button (the
        # console's CSV downloads name patients too).
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    origins = app.config["SETTINGS"].origins
    app.config["HSTS"] = any(origin.startswith("https://") for origin in origins)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
