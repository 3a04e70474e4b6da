"""GET /api/v1/events [events]: the institution's events after a cursor, oldest first.

The outbox and its cursor are consent/events.py's; this parses the two parameters and answers
(web/api/__init__.py routes and authenticates).
The event object (`ApiEvent`) and the data of each type (`EVENT_DATA`) are declared here once,
for the feed's schema and the OpenAPI document's `webhooks` section (a webhook sends the same
object).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, jsonify, request

from consent import events
from consent.vocabulary import (
    CATEGORIES, EVENT_CONSENT_EXPIRED, EVENT_CONSENT_REGISTERED, EVENT_CONSENT_REVOKED, EVENT_CONSENT_UPDATED,
    EVENT_MODE_CHANGED, EVENT_RELATIONSHIP_ENDED, EVENT_TYPES, EVENT_VISIT_RECORDED, EXPIRY_REASONS,
    REVOCATION_REASONS, SOURCES,
)
from web.context import now
from web.db import reader

LIMIT = re.compile(r"^[0-9]{1,4}$")


@dataclass(frozen=True)
class ApiEvent:
    """One change, as the feed lists it and a webhook sends it (webhook-id is its id)."""

    schema_name = "Event"

    id: str = field(metadata={"schema": {"pattern": r"^evt_[0-9]{16}$",
                                         "description": "イベントID（この医療機関等のイベントの中で発生順）"}})
    type: str = field(metadata={"schema": {"enum": list(EVENT_TYPES)}})
    occurred_at: datetime = field(metadata={"schema": {
        "description": "起きた時刻（日本時間、秒まで）。consent.expired は閲覧期限・訪問診療等の期限の時刻"}})
    consent_id: str | None = field(metadata={"schema": {"description": "同意ID。institution.mode_changed は null"}})
    patient_id: str | None = field(metadata={"schema": {
        "description": "この医療機関等での患者ID（医療機関等ごとに異なり、変わらない）。氏名などは API で読み取る"}})
    data: dict = field(metadata={"schema": {"description": "変わった項目（type ごとの形は webhooks を参照）"}})


_INSTANT = {"type": ["string", "null"], "format": "date-time"}
_DAY = {"type": "string", "format": "date"}
_CATEGORY_LIST = {"type": "array", "items": {"type": "string", "enum": list(CATEGORIES)}}
_COMMON = {
    "status": {"type": "string", "enum": ["active"]},
    "categories": _CATEGORY_LIST,
    "consultation_date": _DAY,
    "window_end": _INSTANT,
    "lapses_at": _INSTANT,
}
# Each type's `data`: its fields (all present) and what the type means.
EVENT_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    EVENT_CONSENT_REGISTERED: ("同意が登録された（訪問診療等では初回訪問。資格確認書で確認した受付は source: certificate、"
                               "項目なし）", {
        **_COMMON, "care_setting": {"type": "integer", "enum": [1, 2, 3]}, "house_call": {"type": "boolean"},
        "source": {"type": "string", "enum": list(SOURCES),
                   "description": "card（マイナンバーカード）、certificate（資格確認書。資格情報のほかは読めない）"}}),
    EVENT_CONSENT_UPDATED: ("同意の項目などが変わった（患者さんの同意照会・更新、取消後の再同意、資格確認限定型への切り替えで終わった項目、"
                            "訪問診療等の期限日数の変更）", {
        **_COMMON, "changed": {"type": "array", "items": {"type": "string", "enum": [
            "categories", "care_setting", "house_call", "consultation_date", "status", "qualification", "lapses_at",
            "source"]}},
        "categories_added": _CATEGORY_LIST, "categories_removed": _CATEGORY_LIST}),
    EVENT_CONSENT_REVOKED: ("同意が取り消された（患者さん、または医療機関等）", {
        "expiry_reason": {"type": "integer", "enum": sorted(REVOCATION_REASONS),
                          "description": "、".join(f"{k} {v}" for k, v in REVOCATION_REASONS.items())},
        "revoked_by": {"type": "string", "enum": ["patient", "institution"]},
        "revoked_at": {"type": "string", "format": "date-time"}}),
    EVENT_CONSENT_EXPIRED: ("閲覧期限が来た（訪問診療等の同意は、訪問の記録がないまま期限が来た）。同意ごと・期限ごとに1回", {
        "expired_at": {"type": "string", "format": "date-time"},
        "cause": {"type": "string", "enum": ["window_end", "lapse"]}}),
    EVENT_VISIT_RECORDED: ("訪問診療等の訪問が記録された（初回訪問を含む）", {
        "visit_date": _DAY, "last_visit_date": _DAY, "lapses_at": _INSTANT}),
    EVENT_RELATIONSHIP_ENDED: ("訪問診療等の同意が終わった（訪問終了、患者さんの取消、期限）", {
        "expiry_reason": {"type": "integer", "enum": sorted(EXPIRY_REASONS),
                          "description": "、".join(f"{k} {v}" for k, v in EXPIRY_REASONS.items())},
        "ended_at": {"type": "string", "format": "date-time"}}),
    EVENT_MODE_CHANGED: ("資格確認限定型が切り替わった（オンにすると、続いていた項目は consent.updated で終わる）", {
        "qualification_only": {"type": "boolean"}}),
}
assert set(EVENT_DATA) == set(EVENT_TYPES), "every event type describes its data"


def _limit() -> int | None:
    raw = request.args.get("limit")
    if raw is None:
        return None
    if not LIMIT.match(raw):
        raise events.EventFeedError("invalid_limit", field="limit", detail=events.MAX_LIMIT)
    return int(raw)


def _after() -> str | None:
    raw = request.args.get("after")
    if raw == "":
        raise events.EventFeedError("invalid_cursor", field="after")
    return raw


def feed(institution_id: int):
    """The answer of GET /api/v1/events for an authenticated caller of `institution_id` (web/api/__init__.py
    authenticates, with the scope events)."""
    page = events.read_feed(reader(), institution_id=institution_id, after=_after(), limit=_limit(), now=now(),
                            key=events.cursor_key(current_app.config["SECRET_KEY"]))
    return jsonify(events=page.events, next_cursor=page.next_cursor)
