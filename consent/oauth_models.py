"""Tables of the pharmacy-system API's clients and the OAuth 2.0 codes and tokens issued to them
(the services are consent/oauth_clients.py). Every secret is stored as a SHA-256 digest."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from consent.vocabulary import SCOPES
from store.base import Base
from store.types import UTCDateTime


def scope_list(text: str | None) -> tuple[str, ...]:
    """Space-separated scopes in SCOPES order (unknown ones dropped)."""
    chosen = set((text or "").split())
    return tuple(s for s in SCOPES if s in chosen)


class ApiClient(Base):
    """A pharmacy system (レセコン, 電子薬歴) registered by an institution's admin."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the secret; the secret itself is shown once at registration.
    secret_hash: Mapped[str] = mapped_column(String(64))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    grant_type: Mapped[str] = mapped_column(String(32))
    # Exactly one redirect URI for authorization_code clients (compared exactly); None otherwise.
    redirect_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Space-separated, in SCOPES order.
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def scope_tuple(self) -> tuple[str, ...]:
        return scope_list(self.scopes)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class OAuthCode(Base):
    """An authorization code: single use, short-lived, bound to client, redirect URI and PKCE."""

    __tablename__ = "oauth_codes"
    __table_args__ = (Index("ix_oauth_codes_expires_at", "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    # Every token issued from this code (and its refreshes) shares the family: a replayed code
    # or refresh token revokes the whole family (RFC 6749 section 4.1.2, RFC 9700 4.14).
    family_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OAuthToken(Base):
    """One access token and (authorization-code clients only) its refresh token."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (
        Index("ix_oauth_tokens_family_id", "family_id"),
        Index("ix_oauth_tokens_purge_after", "purge_after"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    # The staff member the token acts for (authorization code); None for client credentials.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), nullable=True)
    scope: Mapped[str] = mapped_column(String(200))
    family_id: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The access token stopped working (revocation, rotation, client revoked).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The refresh token was used (rotated) or revoked; presenting it again revokes the family.
    refresh_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    purge_after: Mapped[datetime] = mapped_column(UTCDateTime())
