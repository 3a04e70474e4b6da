"""The typed models are generated from the service's OpenAPI document; this regenerates them from
the live server's /api/openapi.json and compares, so any change to the spec (a field added,
renamed, retyped, made nullable or required) fails here until models.py is generated again:
`python clients/python/tools/generate_models.py http://localhost:5000/api/openapi.json`."""
from __future__ import annotations

import dataclasses
import datetime
import importlib.util
import json
import typing
import urllib.request
from pathlib import Path

import pytest

from mynareception_client import Consent, decode, models
from mynareception_client.models import ListConsentsResponse

# What the database holds changes nothing here: CI runs it once, on SQLite.
pytestmark = pytest.mark.database_independent

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "generate_models.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_models", TOOLS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def openapi(live_server) -> dict:
    with urllib.request.urlopen(live_server.url + "/api/openapi.json", timeout=30) as response:
        return json.loads(response.read())


def test_models_are_what_the_served_spec_generates(openapi):
    generated = _generator().generate(openapi)
    assert Path(models.__file__).read_text(encoding="utf-8") == generated, (
        "models.py differs from /api/openapi.json: run clients/python/tools/generate_models.py")


def test_every_schema_and_property_of_the_spec_has_its_model_field(openapi):
    """Independent of the generator's text: each component schema is a model with exactly its
    properties; a required property has no default (the decoder insists on the key's value or
    null), an optional one defaults to None; enums list the spec's values."""
    for name, schema in openapi["components"]["schemas"].items():
        model = getattr(models, name)
        if "enum" in schema:
            assert list(typing.get_args(model)) == schema["enum"], name
            continue
        fields = {f.name: f for f in dataclasses.fields(model)}
        assert set(fields) == set(schema.get("properties", {})), name
        required = set(schema.get("required", []))
        for prop, field in fields.items():
            assert (field.default is dataclasses.MISSING) == (prop in required), (name, prop)


def test_a_consent_list_decodes_into_typed_objects():
    body = {"date": "2026-12-04", "consents": [{
        "id": "c1", "person": {"name": "山田 花子", "kana": "ヤマダ ハナコ", "birth_date": "1980-01-02"},
        "status": "active", "status_label": "有効", "categories": ["drug"], "consultation_date": "2026-12-04",
        "care_setting": 3, "consented_at": "2026-12-04T10:00:00+09:00", "window_end": "2026-12-06T00:00:00+09:00",
        "revoked_at": None, "reference_number": None, "house_call": False, "last_visit_date": None,
        "lapses_at": None, "updated_at": "2026-12-04T10:00:00+09:00", "a_field_from_a_newer_server": 1,
        "category_states": [{"category": "drug", "flag": 1, "consented_at": "2026-12-04T10:00:00+09:00",
                             "expires_at": "2026-12-06T00:00:00+09:00", "expiry_reason": None}]}]}
    listing = decode(ListConsentsResponse, body)
    assert listing.date == datetime.date(2026, 12, 4)
    [consent] = listing.consents
    assert isinstance(consent, Consent) and consent.person.name == "山田 花子"
    assert consent.window_end == datetime.datetime(2026, 12, 6, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    assert consent.category_states[0].flag == 1 and consent.revoked_at is None
