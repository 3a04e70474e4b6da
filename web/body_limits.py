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
_READ_SIZE = 64 * 1024


class ChunkedBodyLimit:
    def __init__(self, wsgi_app, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        # Chunked wins over any Content-Length sent beside it (RFC 9112 6.3), as in Werkzeug.
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body, too_large = self._read(environ["wsgi.input"])
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


def refuse_oversized_stream() -> None:
    """before_request: answer 413 for a chunked body that went past the upload limit."""
    if request.environ.get(TOO_LARGE):
        if request.is_json:
            raise ApiError(413, "payload_too_large", "JSONは1MiB以下にしてください。")
        raise ApiError(413, "payload_too_large", "送信されたデータが大きすぎます（2MiBまで）。")
