"""Issue 39 at the domain: 項目ごとの同意 derived from the categories (vocabulary.CONSENT_ITEMS, defined
once), 限度額's flag 0/1 only at its boundaries, and the disaster consent kinds."""
from __future__ import annotations

from datetime import datetime, timedelta

from consent.category_states import (
    CategoryState, consented, ended, item_states, state_at, states_at,
)
from consent.clock import JST
from consent.vocabulary import (
    BINARY_FLAG, CATEGORY_OF_ITEM, CONSENT_FLAGS, DISASTER_CONSENT_KINDS, ITEMS, disaster_consent_kind,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
END = datetime(2026, 11, 25, 0, 0, tzinfo=JST)


def test_the_items_and_the_categories_that_cover_them():
    assert ITEMS == ("disease", "infection", "other_allergy", "drug_allergy", "lab", "prescription")
    assert CATEGORY_OF_ITEM == {"disease": "surgery", "infection": "surgery", "other_allergy": "clinical",
                                "drug_allergy": "clinical", "lab": "clinical", "prescription": "drug"}


def test_each_item_takes_its_categorys_flag_consent_time_and_expiry():
    states = states_at([consented("clinical", now=NOW, window_end=END), consented("limit", now=NOW, window_end=END)],
                       NOW)
    items = {i.item: i for i in item_states(states)}
    for item in ("other_allergy", "drug_allergy", "lab"):
        assert (items[item].flag, items[item].consented_at, items[item].available_until) == (1, NOW, END)
    for item in ("disease", "infection", "prescription"):
        assert (items[item].flag, items[item].consented_at, items[item].available_until) == (0, None, None)
    # An item whose category is missing altogether reads flag 0.
    assert {i.item: i.flag for i in item_states([])} == dict.fromkeys(ITEMS, 0)


def test_items_end_at_the_exact_expiry():
    stored = [consented("surgery", now=NOW, window_end=END)]
    before = {i.item: i.flag for i in item_states(states_at(stored, END - timedelta(microseconds=1)))}
    at = {i.item: i.flag for i in item_states(states_at(stored, END))}
    assert (before["disease"], before["infection"]) == (1, 1)
    assert (at["disease"], at["infection"]) == (2, 2)


def test_limit_flag_is_0_or_1_only():
    assert BINARY_FLAG == frozenset({"limit"})
    assert 3 not in CONSENT_FLAGS  # 同意取得困難 is the emergency interface's, never reported here
    limit = consented("limit", now=NOW, window_end=END)
    assert state_at(limit, END + timedelta(days=365)).flag == 1  # no expiry
    revoked = ended([limit, consented("drug", now=NOW, window_end=END)], reason=2, now=NOW + timedelta(hours=1))
    by = {s.category: s for s in revoked}
    assert (by["limit"].flag, by["limit"].consented_at, by["limit"].expiry_reason, by["limit"].ended_at) == (
        0, NOW, 2, NOW + timedelta(hours=1))
    assert by["limit"].ended and not CategoryState("limit").ended
    assert (by["drug"].flag, by["drug"].expiry_reason) == (2, 2)


def test_a_limit_in_a_lapsing_relationship_reads_flag_0_from_the_exact_lapse():
    lapse = datetime(2027, 3, 1, 0, 0, tzinfo=JST)
    limit = consented("limit", now=NOW, window_end=None)
    assert state_at(limit, lapse - timedelta(microseconds=1), lapses_at=lapse).flag == 1
    at = state_at(limit, lapse, lapses_at=lapse)
    assert (at.flag, at.consented_at, at.expiry_reason, at.ended_at) == (0, NOW, 0, lapse)
    drug = state_at(consented("drug", now=NOW, window_end=None), lapse, lapses_at=lapse)
    assert (drug.flag, drug.expiry_reason) == (2, 0)


def test_disaster_consent_kinds_are_oral_or_none_and_old_difficult_reads_none():
    assert DISASTER_CONSENT_KINDS == {"oral": "口頭で同意を得た", "none": "同意なし"}
    assert [disaster_consent_kind(k) for k in ("oral", "none", "difficult", None)] == ["oral", "none", "none", None]
