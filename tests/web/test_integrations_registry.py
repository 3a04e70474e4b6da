"""create_app picks the OQS and the card authority by the names in Settings, and views use that choice."""
from __future__ import annotations

from dataclasses import replace

import pytest

from integrations.card.local_authority import LocalCardAuthority
from integrations.oqs.simulator.oqs import SimulatedOQS
from integrations.registry import CARD_AUTHORITIES, OQS_BACKENDS, register_card_authority, register_oqs
from web.config import ConfigError, Settings

STAND_IN_NAME = "差替 花子"


class StandInOQS(SimulatedOQS):
    """A second OQS: the simulator's people under another name, so a response shows who answered."""

    def create_person(self, **kwargs):
        return replace(super().create_person(**kwargs), name=STAND_IN_NAME)

    def person(self, person_id):
        found = super().person(person_id)
        return found and replace(found, name=STAND_IN_NAME)


class CountingAuthority(LocalCardAuthority):
    """A second card authority that remembers the cards it issued."""

    issued: list[str] = []

    def issue_card(self, **kwargs):
        issued = super().issue_card(**kwargs)
        CountingAuthority.issued.append(issued.card.card_id)
        return issued


@pytest.fixture
def stand_ins():
    register_oqs("stand-in", StandInOQS)
    register_card_authority("counting", CountingAuthority)
    CountingAuthority.issued = []
    yield
    OQS_BACKENDS.pop("stand-in")
    CARD_AUTHORITIES.pop("counting")


def test_views_use_the_implementations_settings_name(stand_ins, make_app):
    app = make_app("sandbox", oqs_backend="stand-in", card_authority="counting")
    client = app.test_client()

    person = client.post("/sandbox/patients", json={"validity": 1})
    assert person.status_code == 201
    assert person.get_json()["name"] == STAND_IN_NAME

    card = client.post("/sandbox/cards", json={"person_id": person.get_json()["person_id"]})
    assert card.status_code == 201
    assert CountingAuthority.issued == [card.get_json()["card_id"]]


def test_the_default_app_keeps_the_embedded_implementations(stand_ins, make_app):
    client = make_app("sandbox").test_client()

    person = client.post("/sandbox/patients", json={"validity": 1})
    assert person.status_code == 201
    assert person.get_json()["name"] != STAND_IN_NAME
    assert client.post("/sandbox/cards", json={"person_id": person.get_json()["person_id"]}).status_code == 201
    assert CountingAuthority.issued == []


def test_a_name_nobody_registered_refuses_to_start():
    with pytest.raises(ConfigError, match="OQS_BACKEND must be one of"):
        Settings.from_env(env={}, oqs_backend="stand-in")
    with pytest.raises(ConfigError, match="CARD_AUTHORITY must be one of"):
        Settings.from_env(env={}, card_authority="counting")
