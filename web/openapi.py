"""The OpenAPI 3.1 document of the pharmacy-system API, served at /api/openapi.json.

Kept true to the code by construction where it can be: the data schemas are derived from the OQS
result dataclasses (their field types), scopes and categories come from the domain modules, and
tests/test_api_schema.py runs schemathesis against this document and the real app.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from functools import lru_cache
from typing import Any

from flask import request

from consent.categories import CATEGORIES, CONSENT_FLAGS, EXPIRY_REASONS, INSTITUTION_REVOCATION_REASONS
from consent.grants import STATUS_LABELS
from consent.oauth_clients import CLIENT_CREDENTIALS_SCOPES, SCOPE_LABELS, SCOPES
from integrations.oqs.results import (
    BatchResult, CheckupRecord, DrugRecord, LimitInfo, Qualification, SpecificDiseaseCertificate,
)
from web.api import BATCH_ROW_KEYS, CONSENT_ID, MAX_BATCH_ROWS, YEAR_MONTH

REF = "#/components/schemas/"
_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _type_schema(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of what `to_dict()` makes of a value of type `tp`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_schema(arg, components) for arg in typing.get_args(tp)]
        if all(set(p) == {"type"} for p in parts):
            return {"type": [p["type"] for p in parts]}
        return {"anyOf": parts}
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return {"type": "array", "items": _type_schema(args[0], components) if args else {}}
    if tp is date:
        return {"type": "string", "format": "date"}
    if tp in _PRIMITIVES:
        return {"type": _PRIMITIVES[tp]}
    if dataclasses.is_dataclass(tp):
        return _ref(_dataclass_schema(tp, components))
    return {}


def _dataclass_schema(cls: type, components: dict[str, Any]) -> str:
    name = cls.__name__
    if name in components:
        return name
    components[name] = {}  # placeholder first: Qualification refers to itself (others)
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    components[name] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else name,
        "properties": {f.name: _type_schema(hints[f.name], components) for f in fields},
        "required": [f.name for f in fields],
    }
    return name


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


ERRORS = {
    "400": "本文がJSONオブジェクトとして読めない",
    "401": "アクセストークンがない・正しくない・期限切れ・取り消し済み（error: unauthorized / invalid_token）",
    "403": "権限または同意が閲覧を認めない。error は insufficient_scope, not_licensed, no_consent, "
           "category_not_consented, consent_expired, consent_revoked のいずれか",
    "404": "同意が見つからない（他の医療機関の同意も同じ答え）",
    "413": "本文が1MiBを超える",
    "415": "Content-Type が application/json でない",
    "422": "パラメーターの誤り（error: invalid_parameter）",
    "429": "短時間に要求が集中した",
    "409": "同意はすでに取り消されている（error: already_revoked）",
}


def _responses(ok: dict[str, Any], *codes: str) -> dict[str, Any]:
    out: dict[str, Any] = {"200": ok}
    for code in codes:
        out[code] = _error_response(ERRORS[code])
    return out


def _json_ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CONSENT_PARAM = {
    "name": "consent_id", "in": "path", "required": True,
    "description": "同意ID（一覧の id）。この同意に基づいて、要求の時点で閲覧の可否が判断されます。",
    "schema": {"type": "string", "pattern": CONSENT_ID.pattern},
}


def _data_read(category: str, scope: str, key: str, schema: dict[str, Any], summary: str,
               extra_params: list | None = None, extra_props: dict | None = None) -> dict[str, Any]:
    properties = {"consent_id": {"type": "string"}, "window_end": {"type": "string", "format": "date-time"},
                  key: schema, **(extra_props or {})}
    licensed = "（有資格者のみ）" if category in ("drug", "checkup", "clinical", "surgery") else ""
    return {"get": {
        "operationId": f"read_{category}",
        "summary": summary + licensed,
        "description": f"同意 consent_id に基づく「{SCOPE_LABELS[scope]}」の読み取り。読み取りのたびに同意の対象・閲覧期限・"
                       "取消・職員の資格が判断され、監査ログに記録されます。",
        "tags": ["data"],
        "security": [{"oauth2": [scope]}],
        "parameters": [CONSENT_PARAM, *(extra_params or [])],
        "responses": _responses(
            _json_ok(summary, {"type": "object", "properties": properties, "required": list(properties)}),
            "401", "403", "404", "422", "429"),
    }}


@lru_cache(maxsize=8)
def _build(base_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    for cls in (Qualification, DrugRecord, CheckupRecord, LimitInfo, SpecificDiseaseCertificate, BatchResult):
        _dataclass_schema(cls, components)
    del components["BatchResult"]  # the API answers its own shape of a batch row (below)
    components["Error"] = {
        "type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
        "required": ["error", "message"],
    }
    components["Person"] = {
        "type": "object",
        "properties": {"name": {"type": ["string", "null"]}, "kana": {"type": ["string", "null"]},
                       "birth_date": {"type": ["string", "null"], "format": "date"}},
        "required": ["name", "kana", "birth_date"],
    }
    components["Consent"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "person": _ref("Person"),
            "status": {"type": "string", "enum": list(STATUS_LABELS)},
            "status_label": {"type": "string", "enum": list(STATUS_LABELS.values())},
            "categories": {"type": "array", "items": {"type": "string", "enum": list(CATEGORIES)}},
            "consultation_date": {"type": "string", "format": "date"},
            "care_setting": {"type": "integer"},
            "consented_at": {"type": "string", "format": "date-time"},
            "window_end": {"type": "string", "format": "date-time",
                           "description": "閲覧期限（この時刻を含まない）。ISO 8601、日本時間の時差つき"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
            "reference_number": {"type": ["string", "null"], "description": "照会番号"},
            "house_call": {"type": "boolean", "description": "往診（現在は常に false）"},
            "category_states": {"type": "array", "items": _ref("CategoryState"), "minItems": len(CATEGORIES),
                                "maxItems": len(CATEGORIES), "description": "項目ごとの同意の状態（すべての項目）"},
        },
        "required": ["id", "person", "status", "status_label", "categories", "consultation_date", "care_setting",
                     "consented_at", "window_end", "revoked_at", "reference_number", "house_call",
                     "category_states"],
    }
    components["CategoryState"] = {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "flag": {"type": "integer", "enum": list(CONSENT_FLAGS),
                     "description": "同意フラグ: " + "、".join(f"{k} {v}" for k, v in CONSENT_FLAGS.items())},
            "consented_at": {"type": ["string", "null"], "format": "date-time"},
            "expires_at": {"type": ["string", "null"], "format": "date-time",
                           "description": "この時刻を含まない。期限のないもの（限度額など）は null"},
            "expiry_reason": {"type": ["integer", "null"], "enum": [*EXPIRY_REASONS, None],
                              "description": "同意有効期限切れ理由: "
                                             + "、".join(f"{k} {v}" for k, v in EXPIRY_REASONS.items())},
        },
        "required": ["category", "flag", "consented_at", "expires_at", "expiry_reason"],
    }
    components["BatchRow"] = {
        "type": "object",
        "properties": {k: {"type": ["string", "null"], "maxLength": 100} for k in BATCH_ROW_KEYS},
        "description": "保険者番号・記号・番号・枝番・生年月日（YYYY-MM-DD または YYYYMMDD）・照会番号",
    }
    components["BatchRowResult"] = {
        "type": "object",
        "properties": {
            "row": {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": ["有効", "無効", "エラー"]},
            "reason": {"type": "string"},
            "reference_number": {"type": ["string", "null"]},
            "error_fields": {"type": "array", "items": {"type": "string"}},
            "qualification": _ref("Qualification"),
        },
        "required": ["row", "status", "reason", "reference_number", "error_fields"],
    }
    scopes = {s: f"{SCOPE_LABELS[s]}" for s in SCOPES}
    month = {"type": "string", "pattern": YEAR_MONTH.pattern}
    paths = {
        "/api/v1/consents": {"get": {
            "operationId": "list_consents",
            "summary": "同意取得済み患者一覧（診療日ごと）",
            "tags": ["consents"],
            "security": [{"oauth2": ["consents"]}],
            "parameters": [{"name": "date", "in": "query", "required": False,
                            "description": "診療日 YYYY-MM-DD（省略時は日本時間の今日）",
                            "schema": {"type": "string", "format": "date"}}],
            "responses": _responses(_json_ok("同意の一覧", {
                "type": "object",
                "properties": {"date": {"type": "string", "format": "date"},
                               "consents": {"type": "array", "items": _ref("Consent")}},
                "required": ["date", "consents"]}), "401", "403", "422", "429"),
        }},
        "/api/v1/consents/{consent_id}": {"get": {
            "operationId": "get_consent",
            "summary": "同意の内容と状態",
            "tags": ["consents"],
            "security": [{"oauth2": ["consents"]}],
            "parameters": [CONSENT_PARAM],
            "responses": _responses(_json_ok("同意", _ref("Consent")), "401", "403", "404", "429"),
        }},
        "/api/v1/consents/{consent_id}/revocation": {"post": {
            "operationId": "revoke_consent",
            "summary": "医療機関等による同意の取消（1 医療機関等による取消、3 利用目的の変更）",
            "description": "限度額を含むすべての同意項目が同意フラグ 2 になり、同意有効期限切れ理由に reason が入ります。",
            "tags": ["consents"],
            "security": [{"oauth2": ["consents"]}],
            "parameters": [CONSENT_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"reason": {"type": "integer", "enum": sorted(INSTITUTION_REVOCATION_REASONS)}},
                "required": ["reason"]}}}},
            "responses": _responses(_json_ok("取り消した同意", _ref("Consent")),
                                    "400", "401", "403", "404", "409", "413", "415", "422", "429"),
        }},
        "/api/v1/consents/{consent_id}/qualification": _data_read(
            "qualification", "qualification", "qualification", _ref("Qualification"), "資格情報（受付時に確認したもの）",
            extra_props={"confirmed_at": {"type": "string", "format": "date-time"}}),
        "/api/v1/consents/{consent_id}/limit": _data_read(
            "limit", "limit", "limit", _nullable(_ref("LimitInfo")), "限度額適用認定証関連情報"),
        "/api/v1/consents/{consent_id}/drugs": _data_read(
            "drug", "drug", "drugs", {"type": "array", "items": _ref("DrugRecord")}, "薬剤情報",
            extra_params=[
                {"name": "from", "in": "query", "required": False, "description": "診療年月の始め YYYYMM", "schema": month},
                {"name": "to", "in": "query", "required": False, "description": "診療年月の終わり YYYYMM", "schema": month},
            ]),
        "/api/v1/consents/{consent_id}/checkups": _data_read(
            "checkup", "checkup", "checkups", {"type": "array", "items": _ref("CheckupRecord")}, "特定健診情報"),
        "/api/v1/consents/{consent_id}/clinical": _data_read(
            "clinical", "clinical", "clinical", {"type": "array", "items": {"type": "object"}}, "診療・アレルギー・検査"),
        "/api/v1/consents/{consent_id}/surgery": _data_read(
            "surgery", "surgery", "surgery", {"type": "array", "items": {"type": "object"}}, "手術・傷病名・感染症"),
        "/api/v1/consents/{consent_id}/specific-disease": _data_read(
            "specific_disease", "specific_disease", "specific_disease",
            {"type": "array", "items": _ref("SpecificDiseaseCertificate")}, "特定疾病療養受療証情報"),
        "/api/v1/batch-inquiries": {"post": {
            "operationId": "batch_inquiry",
            "summary": "一括照会（予約患者の資格の事前確認）",
            "description": "行ごとに 有効 / 無効 / エラー と理由を返します。1行の誤りは他の行を止めません。",
            "tags": ["batch"],
            "security": [{"oauth2": ["batch"]}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"rows": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_ROWS,
                                        "items": _ref("BatchRow")}},
                "required": ["rows"]}}}},
            "responses": _responses(_json_ok("行ごとの結果", {
                "type": "object", "properties": {"results": {"type": "array", "items": _ref("BatchRowResult")}},
                "required": ["results"]}), "400", "401", "403", "413", "415", "422", "429"),
        }},
    }
    token_url = base_url + "oauth/token"
    components_doc = {
        "schemas": dict(sorted(components.items())),
        "securitySchemes": {"oauth2": {
            "type": "oauth2",
            "description": "認可コード（PKCE S256 必須、職員がログインして許可。トークンはその職員として働く）と、"
                           "システム処理用のクライアントクレデンシャル。クライアント認証は HTTP Basic。"
                           "アクセストークンの有効期間は10分、リフレッシュトークンは使うたびに新しくなります。",
            "flows": {
                "authorizationCode": {"authorizationUrl": base_url + "oauth/authorize", "tokenUrl": token_url,
                                      "refreshUrl": token_url, "scopes": scopes},
                "clientCredentials": {"tokenUrl": token_url,
                                      "scopes": {s: scopes[s] for s in SCOPES if s in CLIENT_CREDENTIALS_SCOPES}},
            },
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "マイナ在宅受付 薬局システムAPI",
            "version": "1.0.0",
            "description": "薬局のシステム（レセコン・電子薬歴）が、患者さんの同意の範囲と閲覧期限の中で資格情報・薬剤情報などを"
                           "読み取るためのAPI。エラーは {\"error\": コード, \"message\": 説明}。"
                           "OAuth のエンドポイント: /oauth/authorize, /oauth/token, /oauth/introspect (RFC 7662), "
                           "/oauth/revoke (RFC 7009)。",
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "tags": [{"name": "consents"}, {"name": "data"}, {"name": "batch"}],
        "paths": paths,
        "components": components_doc,
    }


def document() -> dict[str, Any]:
    return _build(request.url_root)
