"""The API client: typed reads, retries on 429/503 honouring Retry-After, a token refreshed once
when the server calls it invalid, and the events feed as an iterator that resumes from a stored
cursor."""
from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from mynareception_client import auth
from mynareception_client.auth import AuthlibOAuthError, OAuth2Client
from mynareception_client._decode import decode
from mynareception_client.errors import ApiError, CursorExpired, OAuthError, RateLimited
from mynareception_client.models import (
    BatchInquiryResponse, Consent, Event, ListConsentsResponse, ListEventsResponse, ReadCheckupResponse,
    ReadClinicalResponse, ReadDrugResponse, ReadLimitResponse, ReadQualificationResponse, ReadSpecificDiseaseResponse,
    ReadSurgeryResponse, ReinquiryResponse,
)

JST = datetime.timezone(datetime.timedelta(hours=9), "JST")
RETRIED_STATUSES = (429, 503)  # both come with Retry-After


# The two envelopes a caller meets most, by shorter names.
ConsentList = ListConsentsResponse
EventPage = ListEventsResponse


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def today_jst() -> datetime.date:
    return datetime.datetime.now(JST).date()


class Client:
    """One institution's view of the API through an authlib session (see `auth`).

    Build it with `Client.client_credentials(...)`, `Client.authorize_in_browser(...)` or
    `Client(base_url, session)`. A 429 or 503 is retried up to `max_retries` times, each after the
    `Retry-After` the server sent (at most `max_retry_wait` seconds; a longer wait raises at once).
    """

    def __init__(self, base_url: str, session: OAuth2Client, *, max_retries: int = 3,
                 max_retry_wait: float = 120.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.sleep = sleep

    # --- construction ----------------------------------------------------------------------------

    @classmethod
    def client_credentials(cls, base_url: str, client_id: str, client_secret: str, *, scope: str | None = None,
                           on_token: auth.TokenCallback | None = None, **options: Any) -> "Client":
        """A system job's client (scopes: consents, qualification, limit, batch, events)."""
        return cls(base_url, auth.client_credentials_session(base_url, client_id, client_secret, scope=scope,
                                                             on_token=on_token), **options)

    @classmethod
    def authorize_in_browser(cls, base_url: str, client_id: str, client_secret: str, redirect_uri: str, *,
                             scope: str | None = None, on_token: auth.TokenCallback | None = None,
                             open_browser: Callable[[str], Any] | None = None, timeout: float = 300.0,
                             **options: Any) -> "Client":
        """A staff member's client: authorization code + PKCE through the loopback redirect helper."""
        kwargs: dict[str, Any] = {} if open_browser is None else {"open_browser": open_browser}
        session = auth.authorize_in_browser(base_url, client_id, client_secret, redirect_uri, scope=scope,
                                            on_token=on_token, timeout=timeout, **kwargs)
        return cls(base_url, session, **options)

    @classmethod
    def from_token(cls, base_url: str, client_id: str, client_secret: str, token: dict[str, Any], *,
                   on_token: auth.TokenCallback | None = None, **options: Any) -> "Client":
        """A client from a stored token (authorization code flow), refreshed as needed."""
        return cls(base_url, auth.token_session(base_url, client_id, client_secret, token, on_token=on_token),
                   **options)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def token(self) -> dict[str, Any]:
        return dict(self.session.token or {})

    # --- requests --------------------------------------------------------------------------------

    def _refresh(self) -> bool:
        """Get a new access token now (after a 401 invalid_token). False when there is no way to."""
        token = self.session.token or {}
        url = auth.endpoints(self.base_url)["token"]
        try:
            if token.get("refresh_token"):
                self.session.refresh_token(url, refresh_token=token["refresh_token"])
            elif self.session.metadata.get("grant_type") == "client_credentials":
                self.session.fetch_token(url, grant_type="client_credentials")
                if self.session.update_token:
                    self.session.update_token(self.session.token, access_token=token.get("access_token"))
            else:
                return False
        except AuthlibOAuthError as exc:  # the grant is gone (revoked, expired, a replay ended it)
            raise OAuthError(exc.error, exc.description) from None
        return True

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        """One API call with the retries; the response when 2xx/304, else ApiError (or a subclass)."""
        refreshed = False
        attempt = 0
        while True:
            try:
                # authlib refreshes an expired token first (and may fail doing so).
                response = self.session.request(method, path, params=params, json=json, headers=headers)
            except AuthlibOAuthError as exc:
                raise OAuthError(exc.error, exc.description) from None
            status = response.status_code
            if status < 400:
                return response
            body = _json_or_none(response)
            if status == 401 and not refreshed and (body or {}).get("error") == "invalid_token":
                # Expired or revoked early (the server's clock, a rotation elsewhere): one new token.
                refreshed = True
                if self._refresh():
                    continue
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if status in RETRIED_STATUSES and attempt < self.max_retries:
                wait = 1.0 * 2 ** attempt if wait is None else wait
                if wait <= self.max_retry_wait:
                    attempt += 1
                    self.sleep(wait)
                    continue
            raise _error(status, body, wait, params)

    def get_json(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean or None).json()

    # --- resources -------------------------------------------------------------------------------

    def consents(self, date: datetime.date | str | None = None) -> list[Consent]:
        """The consents of a consultation day (default: today in Japan) [consents]."""
        return self.consent_list(date).consents

    def consent_list(self, date: datetime.date | str | None = None) -> ConsentList:
        day = (date or today_jst())
        return decode(ConsentList, self.get_json("/api/v1/consents", date=str(day)))

    def consent(self, consent_id: str) -> Consent:
        return decode(Consent, self.get_json(f"/api/v1/consents/{consent_id}"))

    # Each data read answers its data beside `consent_id` and `window_end` (read them off the envelope).

    def qualification(self, consent_id: str) -> ReadQualificationResponse:
        """資格情報 [qualification]: `.qualification`, `.confirmed_at`, `.window_end`."""
        return decode(ReadQualificationResponse, self.get_json(f"/api/v1/consents/{consent_id}/qualification"))

    def limit(self, consent_id: str) -> ReadLimitResponse:
        return decode(ReadLimitResponse, self.get_json(f"/api/v1/consents/{consent_id}/limit"))

    def drugs(self, consent_id: str, *, from_month: str | None = None, to_month: str | None = None,
              limit: int | None = None, cursor: str | None = None) -> ReadDrugResponse:
        """The drug history [drug] (a pharmacist's token), months as YYYY-MM."""
        return decode(ReadDrugResponse, self.get_json(f"/api/v1/consents/{consent_id}/drugs", **{
            "from": from_month, "to": to_month, "limit": limit, "cursor": cursor}))

    def checkups(self, consent_id: str) -> ReadCheckupResponse:
        return decode(ReadCheckupResponse, self.get_json(f"/api/v1/consents/{consent_id}/checkups"))

    def clinical(self, consent_id: str) -> ReadClinicalResponse:
        return decode(ReadClinicalResponse, self.get_json(f"/api/v1/consents/{consent_id}/clinical"))

    def surgery(self, consent_id: str) -> ReadSurgeryResponse:
        return decode(ReadSurgeryResponse, self.get_json(f"/api/v1/consents/{consent_id}/surgery"))

    def specific_disease(self, consent_id: str) -> ReadSpecificDiseaseResponse:
        return decode(ReadSpecificDiseaseResponse, self.get_json(f"/api/v1/consents/{consent_id}/specific-disease"))

    def batch_inquiry(self, rows: list[dict[str, Any]]) -> BatchInquiryResponse:
        """一括照会 [batch]: rows of insurer_number, symbol, number, branch, birth_date, reference_number."""
        return decode(BatchInquiryResponse, self.request("POST", "/api/v1/batch-inquiries", json={"rows": rows}).json())

    def reinquiry(self, *, insurer_number: str, symbol: str, number: str, branch: str,
                  birth_date: str) -> ReinquiryResponse:
        """再照会 [qualification]: a home-visit patient's qualification by their numbers, no card."""
        return decode(ReinquiryResponse, self.request("POST", "/api/v1/reinquiries", json={
            "insurer_number": insurer_number, "symbol": symbol, "number": number, "branch": branch,
            "birth_date": birth_date}).json())

    def revoke_consent(self, consent_id: str, reason: int = 1) -> Consent:
        """The institution's revocation (reason 1 or 3) [consents; a pharmacist's or admin's token]."""
        body = self.request("POST", f"/api/v1/consents/{consent_id}/revocation", json={"reason": reason}).json()
        return decode(Consent, body)

    # --- the events feed -------------------------------------------------------------------------

    def events_page(self, after: str | None = None, limit: int | None = None) -> EventPage:
        """One page of GET /api/v1/events [events]; 410 raises CursorExpired (see its advice)."""
        try:
            body = self.get_json("/api/v1/events", after=after, limit=limit)
        except ApiError as error:
            if error.code == "cursor_expired":
                raise CursorExpired(error.status, error.body, cursor=after) from None
            raise
        return decode(EventPage, body)

    def iter_events(self, after: str | None = None, *, limit: int | None = None, follow: bool = False,
                    poll_interval: float = 5.0) -> "EventStream":
        """The feed from `after` (a cursor you stored; None: the oldest event kept), oldest first.

            stream = client.iter_events(after=load_cursor())
            for event in stream:
                handle(event)
                save_cursor(stream.cursor)   # after handling: resuming never skips an event

        Without `follow` it stops at the end of the feed; with it, it waits `poll_interval`
        seconds and asks again, for ever. Delivery is at least once: after a crash an event may
        come again (the same `id`).
        """
        return EventStream(self, after, limit=limit, follow=follow, poll_interval=poll_interval)


class EventStream(Iterator[Event]):
    """Iterates the feed; `cursor` is where to resume once the last event given has been handled.

    Inside a page the cursor stays where the page started (a resume reads the page again, at
    least once); with the page's last event it moves to the page's `next_cursor`. An empty page
    renews it too, so a client that keeps polling never meets the 30-day retention.
    """

    def __init__(self, client: Client, after: str | None, *, limit: int | None, follow: bool,
                 poll_interval: float) -> None:
        self.client = client
        self.cursor = after
        self.limit = limit
        self.follow = follow
        self.poll_interval = poll_interval
        self.pages = 0
        self._events = self._walk()

    def __next__(self) -> Event:
        return next(self._events)

    def _walk(self) -> Iterator[Event]:
        page_size = self.limit or 100
        while True:
            page = self.client.events_page(after=self.cursor, limit=self.limit)
            self.pages += 1
            for index, event in enumerate(page.events):
                if index == len(page.events) - 1:
                    self.cursor = page.next_cursor
                yield event
            if not page.events:
                self.cursor = page.next_cursor
            if len(page.events) < page_size:
                if not self.follow:
                    return
                self.client.sleep(self.poll_interval)


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error(status: int, body: dict[str, Any] | None, wait: float | None, params: dict[str, Any] | None) -> ApiError:
    if status == 429:
        return RateLimited(status, body, retry_after=wait)
    if status == 410 and (body or {}).get("error") == "cursor_expired":
        return CursorExpired(status, body, cursor=(params or {}).get("after"))
    return ApiError(status, body, retry_after=wait)
