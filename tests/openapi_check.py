"""Every /api/v1/ response a test client sees is checked against /api/openapi.json (openapi-core):
a field the document says is a date-time answering null, a status it does not list, a body of
another shape, each fails the test that saw it, whatever that test asserts itself."""
from __future__ import annotations

from functools import lru_cache

from flask.testing import FlaskClient
import json

from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

# The test client's base URL (the document names its server from the request).
BASE_URL = "http://localhost/"
CHECKED_PREFIX = "/api/v1/"


class _SentRequest(WerkzeugOpenAPIRequest):
    """The request as the response's validation needs it: the body was read by the app already."""

    @property
    def body(self):
        return None


@lru_cache(maxsize=1)
def _openapi() -> OpenAPI:
    from web.api.openapi import _build

    # openapi-core reads application/json only unless told: problem details are JSON too.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(_build(BASE_URL), config=config)


def check_response(response) -> None:
    """Raise if `response` (a test client's answer under /api/v1/) is not what the document says."""
    request = response.request
    if not request.path.startswith(CHECKED_PREFIX) or request.host != "localhost":
        return
    try:
        _openapi().validate_response(_SentRequest(request), WerkzeugOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        return  # a method or path the document does not have: the 404/405 tests state what it answers
    except Exception as exc:
        raise AssertionError(f"{request.method} {request.full_path} -> {response.status_code} breaks the "
                             f"OpenAPI document: {exc!r} {getattr(exc, '__cause__', '')!r}\n"
                             f"{response.get_data(as_text=True)[:2000]}") from exc


_original_open = FlaskClient.open


def _checked_open(self, *args, **kwargs):
    response = _original_open(self, *args, **kwargs)
    check_response(response)
    return response


def install(monkeypatch) -> None:
    monkeypatch.setattr(FlaskClient, "open", _checked_open)
