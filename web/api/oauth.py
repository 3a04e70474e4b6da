"""The OAuth 2.0 authorization server of the pharmacy-system API (authlib), under /oauth.

- authorization_code with PKCE (S256, required) for a signed-in staff member: the code and every
  token from it act for that person, so clinical categories need a licensed one (the decision
  function judges each read); refresh tokens are rotated, and a replayed code or refresh token
  revokes everything issued from that authorization.
- client_credentials for system jobs (consent list, qualification, limit, batch inquiry only).
- No implicit grant, no password grant. Access tokens live ACCESS_TOKEN_TTL (10 minutes) on the
  app's clock (the sandbox clock moves them too).
- /oauth/introspect (RFC 7662) and /oauth/revoke (RFC 7009); clients authenticate with HTTP Basic.

Errors here are RFC 6749 style `{"error", "error_description"}`, not the app's `{"error", "message"}`.
Codes, tokens and secrets are never logged and are stored only as digests (consent/oauth_clients.py).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import secrets
from urllib.parse import unquote, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, TokenMixin
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import (
    Blueprint, Flask, current_app, json, jsonify, redirect, render_template, request, session, url_for,
)

from consent import oauth_clients, permissions
from consent.oauth_clients import ACCESS_TOKEN_TTL, AUTHORIZATION_CODE
from consent.oauth_models import ApiClient, OAuthCode, OAuthToken
from consent.staff_auth import StaffIdentity, load_identity
from consent.vocabulary import CLIENT_CREDENTIALS_SCOPES, SCOPE_LABELS, SCOPES
from store.engine import begin_write
from web.context import client_address, enforce_rate_limits, now
from web.problems import PROBLEM_JSON, problem
from web.db import db
from web.security import CSP
from web.staff_session import current_staff, reception_mode_redirect

bp = Blueprint("oauth", __name__, url_prefix="/oauth", template_folder="templates")

ACCESS_TOKEN_SECONDS = int(ACCESS_TOKEN_TTL.total_seconds())
# Token, introspection and revocation requests per client address and minute (generous: a
# pharmacy's systems share one address; a client needs a token every 10 minutes).
TOKEN_ENDPOINT_LIMIT = 300
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# --- authlib's view of our rows -------------------------------------------------------------------


class OAuthClient(ClientMixin):
    """An ApiClient row as authlib asks about it. Confidential clients, HTTP Basic only."""

    def __init__(self, row: ApiClient) -> None:
        self.row = row

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return self.row.redirect_uri

    def get_allowed_scope(self, scope):
        allowed = set(self.row.scope_tuple)
        if self.row.grant_type != AUTHORIZATION_CODE:
            allowed &= CLIENT_CREDENTIALS_SCOPES  # whatever was stored, a system job never gets more
        if not scope:
            return " ".join(s for s in SCOPES if s in allowed)
        requested = set(scope.split())
        if not requested <= allowed:
            return None  # authlib answers invalid_scope: asking beyond the registration is an error
        return " ".join(s for s in SCOPES if s in requested)

    def check_redirect_uri(self, redirect_uri):
        # Exact string comparison with the one registered URI (no prefix or wildcard matching).
        return self.row.redirect_uri is not None and hmac.compare_digest(
            redirect_uri.encode("utf-8", "replace"), self.row.redirect_uri.encode())

    def check_client_secret(self, client_secret):
        return oauth_clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return response_type == "code" and self.row.grant_type == AUTHORIZATION_CODE

    def check_grant_type(self, grant_type):
        if self.row.grant_type == AUTHORIZATION_CODE:
            return grant_type in ("authorization_code", "refresh_token")
        return grant_type == "client_credentials"


class OAuthCodeView(AuthorizationCodeMixin):
    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri or None

    def get_scope(self):
        return self.row.scope


class OAuthTokenView(TokenMixin):
    """A token row, seen as the access token or as the refresh token that was presented."""

    def __init__(self, row: OAuthToken, kind: str) -> None:
        self.row = row
        self.kind = kind  # "access" or "refresh"

    def check_client(self, client):
        return self.row.client_pk == client.row.id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def get_expires_at(self):
        if self.kind == "refresh":
            return self.row.refresh_expires_at
        return self.row.expires_at

    def is_expired(self):
        expires_at = self.get_expires_at()
        return expires_at is None or now() >= expires_at

    def is_revoked(self):
        revoked = self.row.refresh_revoked_at if self.kind == "refresh" else self.row.revoked_at
        if revoked is not None:
            return True
        # A disabled staff member's tokens stop at once; so do a revoked client's.
        return not _still_allowed(self.row)

    def get_user(self):
        return load_identity(db(), self.row.staff_id) if self.row.staff_id else None

    def get_client(self):
        row = db().get(ApiClient, self.row.client_pk)
        return OAuthClient(row) if row is not None else None


def _still_allowed(row: OAuthToken) -> bool:
    client = db().get(ApiClient, row.client_pk)
    if client is None or client.revoked_at is not None:
        return False
    if row.staff_id is not None:
        staff = load_identity(db(), row.staff_id)
        return staff is not None and staff.institution_id == row.institution_id
    return True


def _staff_for(staff_id: int | None, client: OAuthClient) -> StaffIdentity | None:
    """The staff member a code or refresh token acts for, if still enabled and of the client's institution."""
    if staff_id is None:
        return None
    identity = load_identity(db(), staff_id)
    if identity is None or identity.institution_id != client.row.institution_id:
        return None
    return identity


# --- grants ----------------------------------------------------------------------------------------


class S256Required(CodeChallenge):
    """PKCE for every authorization-code client, S256 only (authlib alone would let a confidential
    client skip it, and would accept "plain")."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge' with 'code_challenge_method=S256'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        # Only what the approving staff member's role can use: the code, and every token from it.
        scope, _ = permissions.narrow_scope(request.scope or "", request.user.role)
        oauth_clients.save_code(
            db(), code=code, client=request.client.row, staff_id=request.user.staff_id,
            redirect_uri=request.payload.redirect_uri or "", scope=scope,
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"),
            now=now(),
        )

    def query_authorization_code(self, code, client):
        row = oauth_clients.find_code(db(), code)
        if row is None or row.client_pk != client.row.id:
            return None
        if row.used_at is not None:
            # A code used twice: someone else holds a copy. Revoke what it gave (RFC 6749 4.1.2).
            oauth_clients.revoke_family(db(), row.family_id, now())
            return None
        if now() >= row.expires_at:
            return None
        return OAuthCodeView(row)

    def delete_authorization_code(self, authorization_code):
        # Kept (marked used) until it expires, so a replay is recognised.
        oauth_clients.use_code(db(), authorization_code.row, now())

    def authenticate_user(self, authorization_code):
        return _staff_for(authorization_code.row.staff_id, self.request.client)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh token works once

    def authenticate_refresh_token(self, refresh_token):
        row = oauth_clients.find_by_refresh(db(), refresh_token)
        if row is None:
            return None
        if row.refresh_revoked_at is not None:
            # Used before (rotated) or revoked: a copy is in someone's hands. End the whole family.
            oauth_clients.revoke_family(db(), row.family_id, now())
            return None
        if row.refresh_expires_at is None or now() >= row.refresh_expires_at:
            return None
        client = self.request.client
        if client is None or client.row.id != row.client_pk or _staff_for(row.staff_id, client) is None:
            return None  # answered invalid_grant
        return OAuthTokenView(row, "refresh")

    def authenticate_user(self, refresh_token):
        return _staff_for(refresh_token.row.staff_id, self.request.client)

    def revoke_old_credential(self, refresh_token):
        oauth_clients.revoke_token(db(), refresh_token.row, now(), refresh_too=True)


class CredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]


def _query_token(token_string: str, hint: str | None) -> OAuthTokenView | None:
    if not isinstance(token_string, str):
        return None
    row = oauth_clients.find_token(db(), token_string, hint)
    if row is None:
        return None
    kind = "refresh" if row.refresh_hash is not None and row.refresh_hash == oauth_clients.digest(token_string) else "access"
    return OAuthTokenView(row, kind)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic"]

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        # A client may introspect its own tokens only; anything else is simply "active": false.
        return token.row.client_pk == client.row.id

    def introspect_token(self, token):
        row = token.row
        client = token.get_client()
        staff = token.get_user()
        payload = {
            "active": True,
            "client_id": client.row.client_id,
            "scope": row.scope,
            "exp": int(token.get_expires_at().timestamp()),
            "iat": int(row.issued_at.timestamp()),
            "sub": f"staff:{row.staff_id}" if row.staff_id else f"client:{client.row.client_id}",
            "token_use": token.kind,
        }
        if token.kind == "access":
            payload["token_type"] = "Bearer"
        if staff is not None:
            payload["username"] = staff.login_id
            payload["role"] = staff.role
            payload["licensed"] = staff.licensed
            payload["institution_code"] = staff.institution_code
        return payload


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic"]

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        if token.kind == "refresh":
            # RFC 7009 2.1: revoking a refresh token also ends the access tokens of that grant.
            oauth_clients.revoke_family(db(), token.row.family_id, now())
        else:
            oauth_clients.revoke_token(db(), token.row, now(), refresh_too=False)


# --- the server ------------------------------------------------------------------------------------


def _basic_client(query_client, request):
    """HTTP Basic client authentication that never fails with a 500 on a malformed header."""
    header = request.headers.get("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    client_id, secret = unquote(client_id), unquote(secret)
    if not sep or not secret or not _CLIENT_ID.match(client_id):
        return None
    client = query_client(client_id)
    if client is not None and client.check_client_secret(secret):
        return client
    return None


class Server(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__()
        self.scopes_supported = list(SCOPES)
        self.register_token_generator("default", BearerTokenGenerator(
            lambda **_: secrets.token_urlsafe(32),
            lambda **_: secrets.token_urlsafe(48),
            lambda client, grant_type: ACCESS_TOKEN_SECONDS,
        ))
        self.register_client_auth_method("client_secret_basic", _basic_client)
        self.register_grant(CodeGrant, [S256Required(required=True)])
        self.register_grant(RefreshGrant)
        self.register_grant(CredentialsGrant)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)

    def query_client(self, client_id):
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            return None
        row = oauth_clients.active_client(db(), client_id)
        return OAuthClient(row) if row is not None else None

    def save_token(self, token, request):
        grant_type = request.payload.grant_type
        if grant_type == "authorization_code":
            family = request.authorization_code.row.family_id
        elif grant_type == "refresh_token":
            family = request.refresh_token.row.family_id
        else:
            family = secrets.token_hex(16)
        user = request.user
        oauth_clients.save_token(
            db(), client=request.client.row, staff_id=user.staff_id if user is not None else None,
            scope=token.get("scope", ""), family_id=family, access_token=token["access_token"],
            refresh_token=token.get("refresh_token"), expires_in=token["expires_in"], now=now(),
        )

    def send_signal(self, name, *args, **kwargs):
        pass  # no listeners; skip blinker

    def handle_response(self, status_code, payload, headers):
        response = super().handle_response(status_code, payload, headers)
        response.headers["Cache-Control"] = "no-store"
        return response


def server() -> Server:
    return current_app.extensions["oauth_server"]


# --- endpoints -------------------------------------------------------------------------------------


def _unprintable_input(exc: ValueError) -> bool:
    """authlib refuses to build an error whose description quotes a client's odd characters
    (a redirect_uri or response_type with quotes or non-ASCII): that is bad input, not a 500."""
    return str(exc).startswith("Error description contains forbidden characters")


def _bad_request_json():
    response = current_app.response_class(
        json.dumps({"error": "invalid_request", "error_description": "Malformed request parameters."}),
        status=400, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _guarded(respond):
    """Run an authlib endpoint; odd characters in what the client sent make a 400, never a 500."""
    try:
        return respond()
    except ValueError as exc:
        if not _unprintable_input(exc):
            raise
        db().rollback()
        return _bad_request_json()


def _limit_endpoint(name: str) -> None:
    enforce_rate_limits([(f"oauth:{name}", client_address(), TOKEN_ENDPOINT_LIMIT)])
    # The (sandbox) clock has its own connection: read it now, before this request's transaction
    # may hold SQLite's write lock.
    now()


@bp.post("/token")
def token():
    _limit_endpoint("token")
    begin_write(db())  # codes and refresh tokens are read, then marked used: take SQLite's lock first
    oauth_clients.purge_expired(db(), now())
    response = _guarded(server().create_token_response)
    # Commit on errors too: a replayed code or refresh token has just revoked its family.
    db().commit()
    return response


@bp.post("/introspect")
def introspect():
    _limit_endpoint("introspect")
    return _guarded(lambda: server().create_endpoint_response(Introspection.ENDPOINT_NAME))


@bp.post("/revoke")
def revoke():
    _limit_endpoint("revoke")
    begin_write(db())
    response = _guarded(lambda: server().create_endpoint_response(Revocation.ENDPOINT_NAME))
    db().commit()
    return response


def _page_error(message: str, status: int = 400):
    return render_template("oauth_authorize.html", error=message), status


def _csp_allowing(redirect_uri: str | None) -> str:
    """The app's CSP, with the client's origin added to form-action: browsers apply form-action
    to the redirect that follows the approval form, and would otherwise block it."""
    if not redirect_uri:
        return CSP
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return CSP.replace("form-action 'self'", f"form-action 'self' {origin}")


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    now()  # before any transaction of ours (see _limit_endpoint)
    if (back := reception_mode_redirect()) is not None:
        return back  # a tablet in 「受付モード」: no staff page, not even this one
    staff = current_staff()
    if staff is None:
        if request.method == "POST":
            return _page_error("ログインの有効期限が切れました。連携元のシステムからもう一度やり直してください。", 401)
        return redirect(url_for("console.login", next=request.full_path), code=302)
    if request.method == "POST":
        expected, sent = session.get("_csrf"), request.form.get("csrf_token", "")
        if not expected or not sent or not hmac.compare_digest(expected, sent):
            return _page_error("画面の有効期限が切れたか、不正な操作です。連携元のシステムからもう一度やり直してください。")
        begin_write(db())
    try:
        grant = server().get_consent_grant(end_user=staff)
    except ValueError as exc:
        if not _unprintable_input(exc):
            raise
        return _page_error(_AUTHORIZE_ERRORS["invalid_request"])
    except OAuth2Error as error:
        if error.redirect_uri:
            # The client and its redirect URI are verified: tell the client (RFC 6749 4.1.2.1).
            return server().handle_error_response(None, error)
        return _page_error(_AUTHORIZE_ERRORS.get(error.error, "連携の要求が正しくありません。") + f"（{error.error}）")
    client = grant.client
    if client.row.institution_id != staff.institution_id:
        return _page_error("この連携システムは、ログイン中の薬局に登録されていません。", 403)
    granted, left_out = permissions.narrow_scope(grant.request.scope or "", staff.role)
    if request.method == "POST" and not granted and request.form.get("decision") == "approve":
        # Nothing the client asked for is this role's to grant: no code at all.
        return server().handle_error_response(None, InvalidScopeError(
            state=grant.request.payload.state, redirect_uri=grant.redirect_uri))
    if request.method == "GET":
        page = render_template(
            "oauth_authorize.html", staff=staff, client=client.row,
            scopes=[(s, SCOPE_LABELS[s]) for s in granted.split()],
            left_out=[SCOPE_LABELS[s] for s in left_out],
            action=request.full_path,
        )
        response = current_app.make_response(page)
        response.headers["Content-Security-Policy"] = _csp_allowing(grant.redirect_uri)
        return response
    approved = request.form.get("decision") == "approve"
    response = server().create_authorization_response(grant_user=staff if approved else None, grant=grant)
    db().commit()
    return response


_AUTHORIZE_ERRORS = {
    "invalid_client": "連携システムが登録されていないか、利用停止されています。",
    "invalid_request": "連携の要求に不足または誤りがあります（リダイレクトURIなど）。",
    "unauthorized_client": "この連携システムには、この方式での認可が許可されていません。",
    "unsupported_response_type": "この連携方式には対応していません。",
    "invalid_scope": "要求された範囲が、この連携システムに許可された範囲を超えています。",
}


# Japanese words for authlib's errors (its descriptions are English, some missing).
_OAUTH_MESSAGES = {**_AUTHORIZE_ERRORS,
                   "invalid_client": "クライアントの認証に失敗しました。",
                   "invalid_grant": "認可コードまたはリフレッシュトークンが正しくないか、使用済みか、期限切れです。",
                   "unsupported_grant_type": "この grant_type には対応していません。",
                   "unsupported_token_type": "この種類のトークンは取り消せません。",
                   "access_denied": "職員が連携を許可しませんでした。"}


def _rfc_error_bodies(response):
    """/oauth/* answers errors as RFC 6749 says, and as RFC 9457 problem details besides: every
    error body has `error` and `error_description` (authlib's, or the app's Japanese message) and
    the problem members (`type`, `title`, `status`, `detail`, `message`). /oauth/token keeps
    `application/json` (RFC 6749 §5.2); the others answer `application/problem+json`."""
    if not request.path.startswith("/oauth/") or response.status_code < 400 or not response.is_json:
        return response
    body = response.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return response
    code = body["error"]
    message = body.get("message") or _OAUTH_MESSAGES.get(code) or body.get("error_description") or code
    description = body.get("error_description") or message
    body = {**problem(response.status_code, code, message), "error_description": description,
            **{k: v for k, v in body.items() if k not in ("error_description", "message")}}
    response.set_data(json.dumps(body, ensure_ascii=False))
    response.mimetype = "application/json" if request.path == "/oauth/token" else PROBLEM_JSON
    return response


# RFC 8414 metadata, at the well-known URL a client library (authlib's, for one) discovers.
well_known = Blueprint("oauth_metadata", __name__)


@well_known.get("/.well-known/oauth-authorization-server")
def metadata():
    """What a client needs to talk to this server: endpoints, grants, PKCE, client authentication
    (HTTP Basic only: the token, introspection and revocation endpoints refuse client_secret_post)."""
    base = request.url_root.rstrip("/")
    basic_only = ["client_secret_basic"]
    response = jsonify({
        "issuer": base,
        "authorization_endpoint": base + "/oauth/authorize",
        "token_endpoint": base + "/oauth/token",
        "introspection_endpoint": base + "/oauth/introspect",
        "revocation_endpoint": base + "/oauth/revoke",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE, "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": basic_only,
        "introspection_endpoint_auth_methods_supported": basic_only,
        "revocation_endpoint_auth_methods_supported": basic_only,
        "service_documentation": base + "/api/openapi.json",
        "ui_locales_supported": ["ja"],
    })
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def init_app(app: Flask) -> None:
    # authlib logs issued tokens at DEBUG; they must never reach a log, whatever the root level.
    logging.getLogger("authlib").setLevel(logging.INFO)
    app.extensions["oauth_server"] = Server()
    app.register_blueprint(bp)
    app.register_blueprint(well_known)
    app.after_request(_rfc_error_bodies)
