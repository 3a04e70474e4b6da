"""What the client raises. Every refusal of the API is an `ApiError` carrying the service's
problem details (RFC 9457): `status`, `code` (the `error` member, e.g. `consent_expired`),
`title`, `message` (Japanese, fit to show staff) and `type` (a page explaining the code)."""
from __future__ import annotations

from typing import Any


class MynaReceptionError(Exception):
    """Base class of everything this package raises."""


class ApiError(MynaReceptionError):
    """The API answered an error (4xx/5xx) that retrying does not cure, or retries ran out."""

    def __init__(self, status: int, body: dict[str, Any] | None, *, retry_after: float | None = None) -> None:
        body = body if isinstance(body, dict) else {}
        self.status = status
        self.body = body
        self.code: str = str(body.get("error") or f"http_{status}")
        self.title: str | None = body.get("title")
        self.message: str = str(body.get("message") or body.get("detail") or body.get("error_description") or "")
        self.type: str | None = body.get("type")
        self.retry_after = retry_after
        super().__init__(f"{status} {self.code}: {self.message}" if self.message else f"{status} {self.code}")


class RateLimited(ApiError):
    """429 after the client's retries (each waited `Retry-After`) ran out."""


class CursorExpired(ApiError):
    """410 `cursor_expired`: the stored cursor is older than the feed's retention (30 days).

    The events in between are gone from the feed, so resuming is impossible: `advice` says how to
    resynchronise - read the consent list again (`Client.consents(date=...)` for each day you keep),
    then read the feed from its start (`iter_events(after=None)`) and store the new cursors.
    """

    advice = ("The stored cursor is older than the events feed keeps (30 days): events were missed. "
              "Read the consent list again (GET /api/v1/consents?date=YYYY-MM-DD for each day you keep), "
              "then read the feed again without a cursor (iter_events(after=None)) and store its new cursors.")

    def __init__(self, status: int, body: dict[str, Any] | None, *, cursor: str | None = None) -> None:
        super().__init__(status, body)
        self.cursor = cursor

    def __str__(self) -> str:
        return f"{super().__str__()} - {self.advice}"


class OAuthError(MynaReceptionError):
    """The authorization server refused (RFC 6749 §5.2 / §4.1.2.1): `error` and `description`."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description or ""
        super().__init__(f"{error}: {description}" if description else error)


class WebhookVerificationError(MynaReceptionError):
    """A webhook whose signature, timestamp or body does not verify: refuse it (answer 400)."""
