"""API clients of the pharmacy-system API and the OAuth 2.0 credentials issued to them: the
services (their tables are consent/oauth_models.py).

Everything lives in the database (several workers share it) and every secret is stored hashed:
client secrets, authorization codes, access and refresh tokens are SHA-256 digests here, so a
copy of these tables cannot be replayed. The values are 256-bit random strings, so a plain digest
is enough (no slow password hash, which would only slow every token request).

Pure domain code: no Flask. The OAuth protocol itself (authlib) is adapted in web/api/oauth.py.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from store.prepared import Prepared
from consent.errors import DomainError
from consent.oauth_models import ApiClient, OAuthCode, OAuthToken
from consent.vocabulary import CLIENT_CREDENTIALS_SCOPES, SCOPES
from consent.window import aware
from consent.institutions import Institution

# --- how a client is granted (its scopes: consent/vocabulary.py) --------------------------------

AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
GRANT_TYPES = (AUTHORIZATION_CODE, CLIENT_CREDENTIALS)
GRANT_TYPE_LABELS = {
    AUTHORIZATION_CODE: "認可コード（職員がログインして許可）",
    CLIENT_CREDENTIALS: "クライアントクレデンシャル（システム処理）",
}

# Lifetimes. Access tokens never outlive 10 minutes: every read re-checks the consent anyway, but
# a leaked token must die soon. Refresh tokens are rotated on every use.
ACCESS_TOKEN_TTL = timedelta(minutes=10)
REFRESH_TOKEN_TTL = timedelta(hours=12)
AUTHORIZATION_CODE_TTL = timedelta(minutes=5)
# Rows are kept this long after they stop working (so a replayed code or refresh token is still
# recognised as such for a while), then purged.
KEEP_AFTER_EXPIRY = timedelta(days=1)


class OAuthClientError(DomainError):
    """A client registration the admin must correct. `scope_beyond_client_credentials` carries
    the refused scopes in `detail`."""

    domain = "api_client"
    codes = frozenset({
        "redirect_uri_missing", "redirect_uri_too_long", "redirect_uri_malformed", "redirect_uri_fragment",
        "redirect_uri_not_https", "redirect_uri_not_allowed", "invalid_name", "invalid_grant_type", "no_scope",
        "invalid_scope", "scope_beyond_client_credentials",
    })


class TokenRefused(DomainError):
    """A bearer token that does not allow the request: missing, unknown, expired or revoked, or
    without the scope asked for (`detail` names the scope)."""

    domain = "token"
    codes = frozenset({"missing", "invalid", "expired", "revoked", "insufficient_scope"})


def digest(value: str) -> str:
    """SHA-256 hex of a secret value: how secrets, codes and tokens are stored and looked up."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# --- clients ------------------------------------------------------------------------------------


def check_redirect_uri(value: str) -> str:
    """An absolute https URI without fragment (http only for loopback, for development)."""
    value = (value or "").strip()
    if not value:
        raise OAuthClientError("redirect_uri_missing", field="redirect_uri")
    if len(value) > 500 or any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
        raise OAuthClientError("redirect_uri_too_long", field="redirect_uri")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        raise OAuthClientError("redirect_uri_malformed", field="redirect_uri") from None
    if parts.fragment or "#" in value:
        raise OAuthClientError("redirect_uri_fragment", field="redirect_uri")
    loopback = host in ("localhost", "127.0.0.1", "::1")
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise OAuthClientError("redirect_uri_not_https", field="redirect_uri")
    return value


def register_client(
    session: Session,
    *,
    institution_id: int,
    name: str,
    grant_type: str,
    scopes: list[str] | tuple[str, ...],
    now: datetime,
    redirect_uri: str | None = None,
    created_by_staff_id: int | None = None,
) -> tuple[ApiClient, str]:
    """Register a client; returns it and its secret (shown once, stored only as a digest)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise OAuthClientError("invalid_name", field="name")
    if grant_type not in GRANT_TYPES:
        raise OAuthClientError("invalid_grant_type", field="grant_type")
    chosen = set(scopes)
    if not chosen:
        raise OAuthClientError("no_scope", field="scopes")
    if chosen - set(SCOPES):
        raise OAuthClientError("invalid_scope", field="scopes")
    if grant_type == CLIENT_CREDENTIALS:
        beyond = chosen - CLIENT_CREDENTIALS_SCOPES
        if beyond:
            raise OAuthClientError("scope_beyond_client_credentials", field="scopes",
                                   detail=tuple(s for s in SCOPES if s in beyond))
        if redirect_uri:
            raise OAuthClientError("redirect_uri_not_allowed", field="redirect_uri")
        redirect_uri = None
    else:
        redirect_uri = check_redirect_uri(redirect_uri or "")
    secret = new_secret()
    client = ApiClient(
        client_id=f"mrc_{secrets.token_urlsafe(15)}",
        secret_hash=digest(secret),
        institution_id=institution_id,
        name=name,
        grant_type=grant_type,
        redirect_uri=redirect_uri,
        scopes=" ".join(s for s in SCOPES if s in chosen),
        created_at=aware(now),
        created_by_staff_id=created_by_staff_id,
    )
    session.add(client)
    session.flush()
    return client, secret


def check_secret(client: ApiClient, secret: str) -> bool:
    return hmac.compare_digest(client.secret_hash, digest(secret))


def clients_of(session: Session, institution_id: int) -> list[ApiClient]:
    return list(session.scalars(
        select(ApiClient).where(ApiClient.institution_id == institution_id).order_by(ApiClient.id)
    ))


def active_client(session: Session, client_id: str) -> ApiClient | None:
    """The client by its public id, or None when unknown or revoked."""
    if not client_id or len(client_id) > 64:
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or client.revoked_at is not None:
        return None
    return client


def revoke_client(session: Session, *, institution_id: int, client_pk: int, now: datetime) -> ApiClient | None:
    """Revoke a client of this institution and every token it holds; None when not found."""
    client = session.get(ApiClient, client_pk)
    if client is None or client.institution_id != institution_id:
        return None
    now = aware(now)
    if client.revoked_at is None:
        client.revoked_at = now
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.client_pk == client.id, OAuthToken.refresh_revoked_at.is_(None),
                   OAuthToken.refresh_hash.is_not(None))
            .values(refresh_revoked_at=now)
        )
        session.flush()
    return client


# --- authorization codes ------------------------------------------------------------------------


def save_code(
    session: Session,
    *,
    code: str,
    client: ApiClient,
    staff_id: int,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    now: datetime,
) -> OAuthCode:
    now = aware(now)
    row = OAuthCode(
        code_hash=digest(code), client_pk=client.id, staff_id=staff_id, redirect_uri=redirect_uri, scope=scope,
        code_challenge=code_challenge, code_challenge_method=code_challenge_method,
        family_id=secrets.token_hex(16), created_at=now, expires_at=now + AUTHORIZATION_CODE_TTL,
    )
    session.add(row)
    session.flush()
    return row


def find_code(session: Session, code: str) -> OAuthCode | None:
    """The code's row, locked (PostgreSQL): two exchanges of one code cannot both succeed."""
    if not code or len(code) > 256:
        return None
    return session.get(OAuthCode, digest(code), populate_existing=True, with_for_update=True)


def use_code(session: Session, row: OAuthCode, now: datetime) -> None:
    row.used_at = aware(now)
    session.flush()


# --- tokens -------------------------------------------------------------------------------------


def save_token(
    session: Session,
    *,
    client: ApiClient,
    staff_id: int | None,
    scope: str,
    family_id: str,
    access_token: str,
    refresh_token: str | None,
    expires_in: int,
    now: datetime,
) -> OAuthToken:
    now = aware(now)
    expires_at = now + min(timedelta(seconds=expires_in), ACCESS_TOKEN_TTL)
    refresh_expires_at = now + REFRESH_TOKEN_TTL if refresh_token else None
    row = OAuthToken(
        access_hash=digest(access_token),
        refresh_hash=digest(refresh_token) if refresh_token else None,
        client_pk=client.id, institution_id=client.institution_id, staff_id=staff_id, scope=scope,
        family_id=family_id, issued_at=now, expires_at=expires_at, refresh_expires_at=refresh_expires_at,
        purge_after=(refresh_expires_at or expires_at) + KEEP_AFTER_EXPIRY,
    )
    session.add(row)
    session.flush()
    return row


def find_token(session: Session, token: str, hint: str | None = None) -> OAuthToken | None:
    """A token row by its access or refresh token value (hint first), whatever its state."""
    if not token or len(token) > 256:
        return None
    value = digest(token)
    columns = [OAuthToken.access_hash, OAuthToken.refresh_hash]
    if hint == "refresh_token":
        columns.reverse()
    for column in columns:
        row = session.scalar(select(OAuthToken).where(column == value).execution_options(populate_existing=True))
        if row is not None:
            return row
    return None


def find_by_refresh(session: Session, refresh_token: str) -> OAuthToken | None:
    """The row of a refresh token, locked (PostgreSQL): one refresh token rotates once, even
    when two requests race with it (SQLite serializes writers anyway)."""
    if not refresh_token or len(refresh_token) > 256:
        return None
    return session.scalar(
        select(OAuthToken).where(OAuthToken.refresh_hash == digest(refresh_token))
        .with_for_update().execution_options(populate_existing=True)
    )


def revoke_token(session: Session, row: OAuthToken, now: datetime, *, refresh_too: bool) -> None:
    now = aware(now)
    if row.revoked_at is None:
        row.revoked_at = now
    if refresh_too and row.refresh_hash is not None and row.refresh_revoked_at is None:
        row.refresh_revoked_at = now
    session.flush()


def revoke_family(session: Session, family_id: str, now: datetime) -> None:
    """Revoke every access and refresh token descended from one authorization."""
    now = aware(now)
    session.execute(
        update(OAuthToken).where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.refresh_hash.is_not(None),
               OAuthToken.refresh_revoked_at.is_(None))
        .values(refresh_revoked_at=now)
    )


def purge_expired(session: Session, now: datetime) -> None:
    """Delete codes and tokens long past use (both indexed on their expiry)."""
    now = aware(now)
    session.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - KEEP_AFTER_EXPIRY))
    session.execute(delete(OAuthToken).where(OAuthToken.purge_after < now))


# --- the resource server's hot path -------------------------------------------------------------


@dataclass(frozen=True)
class AccessGrant:
    """What a presented access token allows, as looked up for one request."""

    client_id: str
    client_pk: int
    institution_id: int
    staff_id: int | None
    scopes: frozenset[str]
    expires_at: datetime
    institution_code: str


INVALID = "invalid"
EXPIRED = "expired"
REVOKED = "revoked"

_tokens = OAuthToken.__table__
_clients = ApiClient.__table__
_institutions = Institution.__table__
# One indexed lookup per API request, run through Prepared (see store/prepared.py for why).
_BY_ACCESS = Prepared(
    select(
        _clients.c.client_id, _clients.c.id, _tokens.c.institution_id, _tokens.c.staff_id, _tokens.c.scope,
        _tokens.c.expires_at, _tokens.c.revoked_at, _clients.c.revoked_at, _clients.c.institution_id,
        _institutions.c.institution_code,
    )
    .select_from(
        _tokens.join(_clients, _clients.c.id == _tokens.c.client_pk)
        .join(_institutions, _institutions.c.id == _tokens.c.institution_id)
    )
    .where(_tokens.c.access_hash == bindparam("access_hash"))
)


def institution_of_access_token(session: Session, token: str) -> int | None:
    """The institution an access token was issued for, valid or not (whose sandbox clock then
    judges it); None for an unknown token."""
    if not token or len(token) > 256:
        return None
    return session.scalar(select(OAuthToken.institution_id).where(OAuthToken.access_hash == digest(token)))


def institution_of_client(session: Session, client_id: str) -> int | None:
    """The institution of an API client (revoked or not); None for an unknown client id."""
    if not client_id or len(client_id) > 200:
        return None
    return session.scalar(select(ApiClient.institution_id).where(ApiClient.client_id == client_id))


def access_grant(session: Session, token: str, now: datetime) -> AccessGrant:
    """The grant of a bearer access token; TokenRefused (INVALID, EXPIRED, REVOKED) otherwise."""
    if not token or len(token) > 256:
        raise TokenRefused(INVALID)
    session.flush()
    rows = _BY_ACCESS.execute(session.connection(), {"access_hash": digest(token)})
    if not rows:
        raise TokenRefused(INVALID)
    client_id, client_pk, institution_id, staff_id, scope, expires_at, revoked_at, client_revoked_at, \
        client_institution, institution_code = rows[0]
    if revoked_at is not None or client_revoked_at is not None or client_institution != institution_id:
        raise TokenRefused(REVOKED)
    if aware(now) >= expires_at:
        raise TokenRefused(EXPIRED)
    return AccessGrant(client_id, client_pk, institution_id, staff_id, frozenset(scope.split()), expires_at,
                       institution_code)

