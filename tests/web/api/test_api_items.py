"""Issue 39: each consent object's `items` (項目ごとの同意, 2025) beside `category_states`, and
限度額's flag 0/1 only - in the API, for every demo patient and after revocations."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from api_support import bearer, staff_token
from consent import grants
from consent.clock import JST
from consent.models import Consent
from consent.vocabulary import BY_PATIENT, CATEGORY_OF_ITEM, ITEMS
from web.api import ApiConsent

WINDOW_END = "2026-11-25T00:00:00+09:00"


def get(world, path, token):
    return world.app.test_client().get(path, headers=bearer(token))


def _consent(world, token):
    return get(world, f"/api/v1/consents/{world.consent}", token).get_json()


def _items(body):
    return {i["item"]: i for i in body["items"]}


def _change(world, categories, clock):
    with world.session() as s:
        grants.change_categories(s, institution_id=world.here, consent_id=world.consent,
                                 person_id=world.person.person_id, categories=categories, now=clock.now())
        s.commit()


def test_each_item_follows_the_category_that_covers_it(world, clock):
    token = staff_token(world.app, world.code_client, "pharmacist")
    items = _items(_consent(world, token))  # drug, checkup, limit
    assert list(items) == ["disease", "infection", "other_allergy", "drug_allergy", "lab", "prescription"]
    assert items["prescription"] == {"item": "prescription", "flag": 1, "consented_at": "2026-11-23T10:00:00+09:00",
                                     "available_until": WINDOW_END}
    for item in ("disease", "infection", "other_allergy", "drug_allergy", "lab"):
        assert items[item] == {"item": item, "flag": 0, "consented_at": None, "available_until": None}

    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=JST))
    token = staff_token(world.app, world.code_client, "pharmacist")  # a token lives minutes, not hours
    _change(world, ["drug", "clinical", "surgery"], clock)
    items = _items(_consent(world, token))
    for item in ("other_allergy", "drug_allergy", "lab", "disease", "infection"):
        assert (items[item]["flag"], items[item]["consented_at"], items[item]["available_until"]) == (
            1, "2026-11-23T11:00:00+09:00", WINDOW_END), item
    assert items["prescription"]["consented_at"] == "2026-11-23T10:00:00+09:00"  # drug kept its time

    _change(world, ["drug", "surgery"], clock)  # 診療・アレルギー・検査 left out: its three items go to 0
    items = _items(_consent(world, token))
    assert {i: items[i]["flag"] for i in ITEMS} == {"disease": 1, "infection": 1, "other_allergy": 0,
                                                    "drug_allergy": 0, "lab": 0, "prescription": 1}


def test_items_end_with_their_category_at_the_exact_expiry(world, clock):
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=JST) - timedelta(seconds=1))
    token = staff_token(world.app, world.code_client, "pharmacist")
    assert _items(_consent(world, token))["prescription"]["flag"] == 1
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=JST))
    token = staff_token(world.app, world.code_client, "pharmacist")
    body = _consent(world, token)
    assert _items(body)["prescription"] == {"item": "prescription", "flag": 2,
                                            "consented_at": "2026-11-23T10:00:00+09:00", "available_until": WINDOW_END}
    drug = next(s for s in body["category_states"] if s["category"] == "drug")
    assert (drug["flag"], drug["expiry_reason"], drug["ended_at"]) == (2, 0, WINDOW_END)


@pytest.mark.parametrize("reason", [1, 3])
def test_a_revoked_limit_reads_flag_0_with_its_consent_time_end_and_reason(world, clock, reason):
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=JST))
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = world.app.test_client().post(f"/api/v1/consents/{world.consent}/revocation", json={"reason": reason},
                                        headers=bearer(token))
    assert resp.status_code == 200
    states = {s["category"]: s for s in resp.get_json()["category_states"]}
    assert states["limit"] == {"category": "limit", "flag": 0, "consented_at": "2026-11-23T10:00:00+09:00",
                               "expires_at": None, "expiry_reason": reason,
                               "ended_at": "2026-11-23T12:00:00+09:00"}
    # One never consented reads 0 too, with nothing else: that is how the two are told apart.
    assert states["clinical"] == {"category": "clinical", "flag": 0, "consented_at": None, "expires_at": None,
                                  "expiry_reason": None, "ended_at": None}
    assert (states["drug"]["flag"], states["drug"]["expiry_reason"]) == (2, reason)
    assert _items(resp.get_json())["prescription"]["flag"] == 2
    refused = get(world, f"/api/v1/consents/{world.consent}/limit", token)
    assert refused.status_code == 403 and refused.get_json()["error"] == "consent_revoked"


def _api_objects(app, now):
    from integrations.oqs.simulator import make_oqs
    with app.extensions["sessionmaker"]() as s:
        oqs = make_oqs(s)
        consents = s.scalars(select(Consent)).all()
        people = oqs.identities([c.person_id for c in consents])
        return [(c, ApiConsent.of(c, people.get(c.person_id), None, now).to_dict()) for c in consents]


def _check(consent, body):
    chosen = set(consent.categories)
    states = {s["category"]: s for s in body["category_states"]}
    assert states["limit"]["flag"] in (0, 1), (consent.id, states["limit"])
    for item in body["items"]:
        category = states[CATEGORY_OF_ITEM[item["item"]]]
        assert (item["flag"], item["consented_at"], item["available_until"]) == (
            category["flag"], category["consented_at"], category["expires_at"]), (consent.id, item)
        if CATEGORY_OF_ITEM[item["item"]] not in chosen:
            assert item["flag"] == 0 and item["consented_at"] is None, (consent.id, item)


def test_every_demo_patients_items_match_their_categories_and_limit_is_never_flag_2(make_app, clock):
    from ops.demo import load_demo
    app = make_app("sandbox")
    load_demo(app)
    now = clock.now()
    objects = _api_objects(app, now)
    assert len(objects) >= 5 and any(c.categories for c, _ in objects)
    assert any("limit" in c.categories for c, _ in objects)
    # The demo shows a revoked 限度額 (田中 美咲): flag 0 with its consent time, end and reason.
    tanaka = next(body for c, body in objects if c.person_id == "demo-tanaka-misaki")
    limit = next(s for s in tanaka["category_states"] if s["category"] == "limit")
    assert (limit["flag"], limit["expiry_reason"], tanaka["status"]) == (0, BY_PATIENT, "revoked")
    assert limit["consented_at"] and limit["ended_at"]
    for when in (now, now + timedelta(days=3), now + timedelta(days=400)):  # within, past windows and lapses
        for consent, body in _api_objects(app, when):
            _check(consent, body)
    # Revoked, each of them: still no 限度額 flag 2, and a revoked one keeps its consent time.
    with app.extensions["sessionmaker"]() as s:
        for consent in s.scalars(select(Consent).where(Consent.revoked_at.is_(None))):
            grants.revoke_consent(s, institution_id=consent.institution_id, consent_id=consent.id, by="patient",
                                  reason=BY_PATIENT, now=now)
        s.commit()
    for consent, body in _api_objects(app, now + timedelta(minutes=1)):
        _check(consent, body)
        limit = next(s for s in body["category_states"] if s["category"] == "limit")
        if "limit" in consent.categories:
            assert limit["flag"] == 0 and limit["consented_at"] and limit["expiry_reason"] is not None, consent.id
