"""Reading JSON request bodies without ever answering a malformed one with a 500."""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from web.errors import ApiError


def json_object(*, required: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; `{}` for an empty body unless `required`."""
    if request.content_length and request.content_length > current_app.config["MAX_JSON_BYTES"]:
        raise ApiError(413, "payload_too_large", "JSONは1MiB以下にしてください。")
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "invalid_json", "JSONオブジェクトを送ってください。")
        return {}
    if not request.mimetype == "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type: application/json で送ってください。")
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None  # nested deeper than the parser goes ([[[[...]]]]): not a 500 either
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "JSONオブジェクトとして読み取れません。")
    return data
