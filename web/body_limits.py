"""Body limits that hold for chunked requests too.

Werkzeug checks `Content-Length` against the limits; a chunked body has none, and its stream
was cut at the upload limit without a word (a 1.43 MiB JSON batch was processed, a larger one
answered 400). This middleware reads a chunked body before the app sees it, up to the upload
limit: within it, the body gets a `Content-Length` and the usual checks (1 MiB JSON, 2 MiB
upload) apply; past it, the request is marked and answered 413 by `refuse_oversized_stream`.
"""
from __future__ import annotations

import io

from flask import request

from web.errors import ApiError

TOO_LARGE = "app.body_too_large"
MALFORMED = "app.body_malformed"
_READ_SIZE = 64 * 1024
# The longest URL (path and query) the app answers; gunicorn reads request lines up to 8190 bytes
# (web/gunicorn_conf.py), so a longer URL is refused here, in the app's words, not gunicorn's.
MAX_URL_BYTES = 4096


class ChunkedBodyLimit:
    def __init__(self, wsgi_app, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        # Chunked wins over any Content-Length sent beside it (RFC 9112 6.3), as in Werkzeug.
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            try:
                body, too_large = self._read(environ["wsgi.input"])
            except Exception:  # noqa: BLE001 - the server's parse error (a bad chunk size, a missing CRLF)
                # Raised here it reached gunicorn, which answered its own English 400 page: the
                # body is the client's fault, answered by the app (refuse_unreadable_request).
                body, too_large = b"", False
                environ[MALFORMED] = True
            # From here on the body has a length, as if the client had sent one.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            if too_large:
                environ[TOO_LARGE] = True
        return self.wsgi_app(environ, start_response)

    def _read(self, stream) -> tuple[bytes, bool]:
        chunks, size = [], 0
        while True:
            chunk = stream.read(_READ_SIZE)
            if not chunk:
                return b"".join(chunks), False
            size += len(chunk)
            if size > self.limit:
                # Stop reading: the rest is never looked at (the server closes the connection).
                return b"", True
            chunks.append(chunk)


def refuse_unreadable_request() -> None:
    """before_request: 414 for a URL over MAX_URL_BYTES, 400 for a chunked body that could not be
    read - in the app's format (JSON under /api/ and the like, a Japanese page elsewhere)."""
    uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    if len(uri.encode("utf-8", "surrogateescape")) > MAX_URL_BYTES:
        raise ApiError(414, "uri_too_long", f"URLが長すぎます（{MAX_URL_BYTES}バイトまで）。")
    if request.environ.get(MALFORMED):
        raise ApiError(400, "bad_request", "送信されたデータの形式（チャンク転送）が正しくありません。")


def refuse_oversized_stream() -> None:
    """before_request: answer 413 for a chunked body that went past the upload limit."""
    if request.environ.get(TOO_LARGE):
        if request.is_json:
            raise ApiError(413, "payload_too_large", "JSONは1MiB以下にしてください。")
        raise ApiError(413, "payload_too_large", "送信されたデータが大きすぎます（2MiBまで）。")
