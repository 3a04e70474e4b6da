"""再照会 by a stranger (an institution with no relationship to the person) learns nothing the keys
do not say: junk keys are 422 before any lookup, the answer holds no internal id, and the found
and not-found paths run the same statements (counted here; the time each takes is measured by
bench/reinquiry.py, not tested).
"""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from api_support import bearer, staff_token
from store.prepared import Prepared


@contextmanager
def statements(engine):
    """Every statement sent to the database meanwhile: through SQLAlchemy and store/prepared.py alike."""
    seen: list[str] = []

    def hook(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    original = Prepared.execute

    def counted(self, conn, params):
        seen.append((self._by_dialect.get(conn.dialect.name) or self._compile(conn.dialect)).sql)
        return original(self, conn, params)

    event.listen(engine, "before_cursor_execute", hook)
    Prepared.execute = counted
    try:
        yield seen
    finally:
        Prepared.execute = original
        event.remove(engine, "before_cursor_execute", hook)


def _shape(sql: str) -> str:
    """The statement without its literal values (a LIMIT or an IN list's length may differ)."""
    return re.sub(r"\s+", " ", sql).strip()


def keys_of(person, **changes) -> dict[str, str]:
    keys = {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat()}
    return {**keys, **changes}


def test_found_and_not_found_run_the_same_statements_through_the_api(world, monkeypatch):
    # The rate limiter sweeps old counters on 1 % of its hits: an extra DELETE in one probe's
    # statements would be noise, not a difference between the paths.
    monkeypatch.setattr("store.ratelimit.random.random", lambda: 1.0)
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    person = world.person
    probes = {
        "found": keys_of(person),
        "wrong birth date": keys_of(person, birth_date="1901-02-03"),
        "unknown number": keys_of(person, number="98765432"),
    }
    seen = {}
    for label, body in probes.items():
        with statements(app.extensions["engine"]) as sent:
            response = app.test_client().post("/api/v1/reinquiries", json=body, headers=bearer(token))
        assert response.status_code == (200 if label == "found" else 404), response.get_json()
        seen[label] = [_shape(s) for s in sent]
    assert seen["found"] == seen["wrong birth date"] == seen["unknown number"]


def test_the_answer_to_a_stranger_holds_no_internal_person_id(world):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    response = app.test_client().post("/api/v1/reinquiries", json=keys_of(world.person), headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["consent"] is None  # no relationship here
    assert response.get_json()["qualification"]["person_id"] is None
    assert world.person.person_id not in response.get_data(as_text=True)


@pytest.mark.parametrize("field, value", [
    ("symbol", "\x00"), ("symbol", "😀"), ("symbol", "12\x00"), ("branch", "\x00"), ("branch", "ＡＢ"),
    ("branch", "😀"), ("number", "\x00"),
])
def test_junk_keys_are_422_before_any_lookup_whatever_the_field(world, field, value):
    app = world.app
    token = staff_token(app, world.code_client, "pharmacist")
    with statements(app.extensions["engine"]) as sent:
        response = app.test_client().post("/api/v1/reinquiries", json=keys_of(world.person, **{field: value}),
                                          headers=bearer(token))
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_parameter"
    assert not any("oqs_" in s for s in sent)  # refused before the OQS was asked


def test_a_symbol_or_branch_for_a_late_elderly_card_is_422_not_a_match_on_the_empty_symbol(world, clock):
    """後期高齢者 cards have no 記号 and no 枝番: letters there were ignored and matched the person."""
    from conftest import TODAY
    from integrations.oqs.simulator import make_oqs

    with world.session() as s:
        elderly = make_oqs(s).create_person(today=TODAY, birth_date=TODAY.replace(year=1940), validity=1, seed=3)
        s.commit()
    assert elderly.insurer_number.startswith("39") and not elderly.symbol
    token = staff_token(world.app, world.code_client, "pharmacist")
    client = world.app.test_client()
    assert client.post("/api/v1/reinquiries", json=keys_of(elderly), headers=bearer(token)).status_code == 200
    for changes in ({"symbol": "ＡＢ"}, {"symbol": "12"}, {"branch": "01"}):
        response = client.post("/api/v1/reinquiries", json=keys_of(elderly, **changes), headers=bearer(token))
        assert response.status_code == 422 and response.get_json()["error"] == "invalid_parameter", changes
        assert "空欄にしてください" in response.get_json()["message"]
