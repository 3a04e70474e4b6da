"""OAuth 2.0 sessions on authlib's httpx client: client credentials (a system job) and
authorization code + PKCE (a staff member approves in a browser), with a loopback redirect helper
for a desktop レセコン (RFC 8252: the app listens on http://127.0.0.1:PORT/callback, which the
admin registered as the client's redirect URI; the service compares it exactly, port included).

The server speaks client_secret_basic only and requires PKCE with S256 (see the service's RFC 8414
metadata at /.well-known/oauth-authorization-server). Access tokens live 10 minutes; authlib
refreshes them before a request (client credentials: a new token; authorization code: the refresh
token, which the server rotates on every use - persist the new one with `on_token`).
"""
from __future__ import annotations

import html
import secrets
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import warnings

import authlib.deprecate  # noqa: F401 - installs its own "always" filter, which ours must follow

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 package and warns when it falls back to httpx, which it still
    # supports; this package depends on httpx (one HTTP client in a vendor's environment).
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError

from mynareception_client.errors import OAuthError

TokenCallback = Callable[[dict[str, Any]], None]
DEFAULT_TIMEOUT = 30.0


def endpoints(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {"authorize": base + "/oauth/authorize", "token": base + "/oauth/token",
            "revoke": base + "/oauth/revoke", "introspect": base + "/oauth/introspect"}


def _updater(on_token: TokenCallback | None):
    if on_token is None:
        return None

    def update(token, refresh_token=None, access_token=None):  # authlib's signature
        on_token(dict(token))
    return update


def client_credentials_session(base_url: str, client_id: str, client_secret: str, *, scope: str | None = None,
                               on_token: TokenCallback | None = None, timeout: float = DEFAULT_TIMEOUT,
                               **httpx_options: Any) -> OAuth2Client:
    """A session holding a client-credentials token (fetched now; fetched again when it expires)."""
    urls = endpoints(base_url)
    session = OAuth2Client(
        client_id, client_secret, token_endpoint_auth_method="client_secret_basic", scope=scope,
        token_endpoint=urls["token"], grant_type="client_credentials", update_token=_updater(on_token),
        base_url=base_url.rstrip("/"), timeout=timeout, **httpx_options)
    try:
        token = session.fetch_token(urls["token"], grant_type="client_credentials")
    except AuthlibOAuthError as exc:
        session.close()
        raise OAuthError(exc.error, exc.description) from None
    if on_token is not None:
        on_token(dict(token))
    return session


def token_session(base_url: str, client_id: str, client_secret: str, token: dict[str, Any], *,
                  on_token: TokenCallback | None = None, timeout: float = DEFAULT_TIMEOUT,
                  **httpx_options: Any) -> OAuth2Client:
    """A session from a token you stored (authorization code flow): refreshed with its refresh
    token when it expires; `on_token` receives each new token (the old refresh token stops working)."""
    return OAuth2Client(
        client_id, client_secret, token_endpoint_auth_method="client_secret_basic", token=token,
        token_endpoint=endpoints(base_url)["token"], update_token=_updater(on_token),
        base_url=base_url.rstrip("/"), timeout=timeout, **httpx_options)


class AuthorizationCodeFlow:
    """Authorization code + PKCE (S256), step by step, for any kind of app:

        flow = AuthorizationCodeFlow(base_url, client_id, client_secret, redirect_uri, scope="consents drug")
        send the user's browser to flow.authorization_url
        ... the browser comes back to redirect_uri?code=...&state=...
        session = flow.finish(callback_url)   # checks state, exchanges the code with the verifier
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str, redirect_uri: str, *,
                 scope: str | None = None, on_token: TokenCallback | None = None,
                 timeout: float = DEFAULT_TIMEOUT, **httpx_options: Any) -> None:
        self.urls = endpoints(base_url)
        self.on_token = on_token
        self.session = OAuth2Client(
            client_id, client_secret, token_endpoint_auth_method="client_secret_basic", scope=scope,
            redirect_uri=redirect_uri, code_challenge_method="S256", token_endpoint=self.urls["token"],
            update_token=_updater(on_token), base_url=base_url.rstrip("/"), timeout=timeout, **httpx_options)
        self.code_verifier = secrets.token_urlsafe(48)
        self.authorization_url, self.state = self.session.create_authorization_url(
            self.urls["authorize"], code_verifier=self.code_verifier)

    def finish(self, callback_url: str) -> OAuth2Client:
        """The session, from the URL the browser was sent back to (raises OAuthError when the
        staff member declined, the state does not match, or the code is refused)."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
        if params.get("state") != self.state:
            raise OAuthError("invalid_state", "The callback's state does not match this flow (a stale or forged redirect).")
        if "error" in params:
            raise OAuthError(params["error"], params.get("error_description"))
        if not params.get("code"):
            raise OAuthError("invalid_request", "The callback carries no code.")
        try:
            token = self.session.fetch_token(self.urls["token"], grant_type="authorization_code", code=params["code"],
                                             code_verifier=self.code_verifier)
        except AuthlibOAuthError as exc:
            raise OAuthError(exc.error, exc.description) from None
        if self.on_token is not None:
            self.on_token(dict(token))
        return self.session


# No favicon request: the listener stops after this page.
_DONE_PAGE = """<!doctype html><html lang="ja"><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,">
<body><h1>{title}</h1><p>{text}</p></body></html>"""


class LoopbackRedirect:
    """A one-shot HTTP listener on the redirect URI's host and port (127.0.0.1 / localhost only):
    it waits for the browser's redirect and keeps its URL. Start it before opening the browser."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1") or not parts.port:
            raise ValueError("a loopback redirect URI looks like http://127.0.0.1:8765/callback (port included)")
        self.path = parts.path or "/"
        self.callback_url: str | None = None
        self._done = threading.Event()
        helper = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if urlsplit(self.path).path != helper.path:
                    self.send_error(404)
                    return
                failed = "error" in parse_qs(urlsplit(self.path).query)
                title = "連携を許可しませんでした" if failed else "連携を許可しました"
                text = "この画面を閉じて、元のシステムに戻ってください。"
                body = _DONE_PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                helper.callback_url = f"http://{parts.netloc}{self.path}"
                helper._done.set()

            def log_message(self, *args: Any) -> None:
                pass

        host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        self.server = HTTPServer((host, parts.port), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, name="oauth-redirect", daemon=True)

    def __enter__(self) -> "LoopbackRedirect":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, timeout: float) -> str:
        if not self._done.wait(timeout):
            raise OAuthError("timeout", f"No redirect came back within {timeout:.0f} s.")
        assert self.callback_url is not None
        return self.callback_url


def authorize_in_browser(base_url: str, client_id: str, client_secret: str, redirect_uri: str, *,
                         scope: str | None = None, on_token: TokenCallback | None = None,
                         open_browser: Callable[[str], Any] = webbrowser.open, timeout: float = 300.0,
                         **httpx_options: Any) -> OAuth2Client:
    """The desktop flow: listen on the loopback `redirect_uri`, open the authorization page in the
    staff member's browser (they sign in to the console and press 「許可する」), take the code
    from the redirect and exchange it. Returns the session (its token acts for that staff member)."""
    flow = AuthorizationCodeFlow(base_url, client_id, client_secret, redirect_uri, scope=scope, on_token=on_token,
                                 **httpx_options)
    with LoopbackRedirect(redirect_uri) as listener:
        open_browser(flow.authorization_url)
        callback = listener.wait(timeout)
    return flow.finish(callback)
