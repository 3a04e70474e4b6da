"""The OpenAPI 3.1 document of the pharmacy-system API, served at /api/openapi.json.

Kept true to the code by construction: every data read's path comes from its entry in
web.api.DATA_READS (the same entry registers the route), the schemas are derived from dataclasses
(the OQS results, web.api.ApiConsent) by their field types, scopes, categories and labels come from
consent/vocabulary.py, and tests/web/api/test_api_schema.py runs schemathesis against this document and
the real app.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, jsonify, request

from consent.events import DEFAULT_LIMIT, MAX_LIMIT, RETENTION
from consent.vocabulary import (
    BATCH_SCOPE, BATCH_STATUSES, CATEGORY, CLIENT_CREDENTIALS_SCOPES, CONSENTS_SCOPE, EVENT_TYPES, EVENTS_SCOPE,
    INSTITUTION_REVOCATION_REASONS, QUALIFICATION, SCOPE_LABELS, SCOPES,
)
from integrations.oqs.results import EntrustedTicket, Qualification
from web.problems import API_CODES, PROBLEM_JSON
from web.api.events import EVENT_DATA, ApiEvent
from web.api import (
    BATCH_FIELD_LABELS, BATCH_ROW_KEYS, CONSENT_ID, DATA_READS, MAX_BATCH_ROWS, REINQUIRY_KEYS, YEAR_MONTH, ApiConsent,
    DataRead,
)

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
    if tp is datetime:
        return {"type": "string", "format": "date-time"}
    if tp is date:
        return {"type": "string", "format": "date"}
    if tp is dict:
        return {"type": "object"}
    if tp in _PRIMITIVES:
        return {"type": _PRIMITIVES[tp]}
    if dataclasses.is_dataclass(tp):
        return _ref(_dataclass_schema(tp, components))
    return {}


def _dataclass_schema(cls: type, components: dict[str, Any]) -> str:
    name = getattr(cls, "schema_name", cls.__name__)
    if name in components:
        return name
    components[name] = {}  # placeholder first: Qualification refers to itself (others)
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    components[name] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else name,
        # A field's metadata may make its schema more precise (an enum, a description).
        "properties": {f.name: {**_type_schema(hints[f.name], components), **f.metadata.get("schema", {})}
                       for f in fields},
        "required": [f.name for f in fields],
    }
    return name


def _object(fields: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """An object with every one of `fields` (name -> type) required."""
    return {"type": "object", "properties": {name: _type_schema(tp, components) for name, tp in fields.items()},
            "required": list(fields)}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _ref("Problem")}}}


ERRORS = {
    "400": "本文がJSONオブジェクトとして読めない",
    "401": "アクセストークンがない・正しくない・期限切れ・取り消し済み（error: unauthorized / invalid_token）",
    "403": "権限または同意が閲覧を認めない。error は insufficient_scope, not_licensed, no_consent, "
           "category_not_consented, consent_expired, consent_revoked, qualification_only"
           "（資格確認限定型の医療機関等では資格情報以外のすべて）, certificate_only（資格確認書で確認した受付"
           "（source: certificate）では資格情報以外のすべて）, not_permitted（その役割では行えない操作）のいずれか",
    "404": "同意が見つからない（他の医療機関の同意も同じ答え）",
    "413": "本文が1MiBを超える",
    "415": "Content-Type が application/json でない",
    "422": "パラメーターの誤り（error: invalid_parameter）。知らないクエリパラメーターや本文の項目、空のパラメーターも 422 で、"
           "message がその名前を挙げます",
    "429": "短時間に要求が集中した",
    "409": "同意はすでに取り消されている（error: already_revoked）、資格確認だけの記録（資格確認限定型、資格確認書）で取り消すものがない"
           "（error: confirmation_only）。訪問の記録では、訪問診療等の同意が終了している"
           "（error: relationship_ended）",
    "410": f"after の next_cursor が保存期間（{RETENTION.days}日）を過ぎている（error: cursor_expired）。"
           "GET /api/v1/consents で読み直してから、after なしで読み直す",
    "503": "データベースが応答しない（error: unavailable、Retry-After つき）",
}


RATE_LIMIT_HEADERS = {
    "Retry-After": {"required": True, "description": "待つ秒数", "schema": {"type": "integer", "minimum": 0}},
    **{name: {"description": text, "schema": {"type": "integer", "minimum": 0}} for name, text in (
        ("RateLimit-Limit", "その時間枠で認められる要求の数"),
        ("RateLimit-Remaining", "その時間枠の残り"),
        ("RateLimit-Reset", "時間枠が改まるまでの秒数"))},
}


def _responses(ok: dict[str, Any], *codes: str) -> dict[str, Any]:
    out: dict[str, Any] = {"200": ok}
    for code in (*codes, "503"):  # any operation may meet an unavailable database
        out[code] = _error_response(ERRORS[code])
    if "429" in out:
        out["429"]["headers"] = RATE_LIMIT_HEADERS
    return out


def _json_ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CONSENT_PARAM = {
    "name": "consent_id", "in": "path", "required": True,
    "description": "同意ID（一覧の id）。この同意に基づいて、要求の時点で閲覧の可否が判断されます。",
    "schema": {"type": "string", "pattern": CONSENT_ID.pattern},
}


WINDOW_END = "閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null"


def _data_read(read: DataRead, components: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI path item of one entry of web.api.DATA_READS."""
    category = CATEGORY[read.category]
    summary = category.heading + read.note + ("（有資格者のみ）" if category.licensed_only else "")
    params = [{"name": p.name, "in": "query", "required": False, "description": p.description,
               "schema": {"type": "string", "pattern": p.pattern.pattern}} for p in read.params]
    answer = _object({"consent_id": str, "window_end": datetime | None, **read.result}, components)
    # A home-visit (訪問診療等) consent has no window: its reads answer window_end null.
    answer["properties"]["window_end"]["description"] = WINDOW_END
    return {"get": {
        "operationId": read.endpoint,
        "summary": summary,
        "description": f"同意 consent_id に基づく「{category.heading}」の読み取り。読み取りのたびに同意の対象・閲覧期限・"
                       "取消・職員の資格が判断され、監査ログに記録されます。",
        "tags": ["data"],
        "security": [{"oauth2": [read.scope]}],
        "parameters": [CONSENT_PARAM, *params],
        "responses": _responses(_json_ok(summary, answer), "401", "403", "404", "422", "429"),
    }}


def _medical_aid_paths(components: dict[str, Any], month: dict[str, Any]) -> dict[str, Any]:
    """委託先資格情報の一括取得 (web.api.entrusted_tickets)."""
    _dataclass_schema(EntrustedTicket, components)
    return {"/api/v1/medical-aid/entrusted-tickets": {"get": {
        "operationId": "entrusted_tickets",
        "summary": "委託先資格情報の一括取得（医療券・調剤券とひも付く資格情報）",
        "description": "福祉事務所がこの医療機関・薬局を委託先とした、その月の医療券・調剤券と資格情報。"
                       "受診の後に福祉事務所が登録したものも含みます。今月より後の月は指定できません。",
        "tags": ["batch"],
        "security": [{"oauth2": [BATCH_SCOPE]}],
        "parameters": [{"name": "month", "in": "query", "required": True, "description": "診療年月 YYYY-MM（YYYYMM も受け付けますが非推奨）",
                        "schema": month}],
        "responses": _responses(_json_ok("その月の医療券・調剤券", {
            "type": "object",
            "properties": {"month": month, "tickets": {"type": "array", "items": _ref("EntrustedTicket")}},
            "required": ["month", "tickets"]}), "401", "403", "422", "429"),
    }}}


def _home_visit_paths(components: dict[str, Any]) -> dict[str, Any]:
    """再照会 and recorded visits (web.api.reinquiries, web.api.record_visit)."""
    keys = {key: {"type": "string", "maxLength": 100, "description": BATCH_FIELD_LABELS[key]}
            for key in REINQUIRY_KEYS}
    keys["birth_date"] = {"type": "string", "pattern": r"^[0-9]{4}-?[0-9]{2}-?[0-9]{2}$",
                          "description": "生年月日 YYYY-MM-DD（一括照会と同じ YYYYMMDD も受け付けますが非推奨）"}
    visited = _object({"visit_date": date, "consent": ApiConsent}, components)
    return {
        "/api/v1/reinquiries": {"post": {
            "operationId": "reinquiry",
            "summary": "再照会（カードなし、保険者番号・記号・番号・枝番・生年月日）",
            "description": "訪問診療等の2回目以降の訪問で、現在の資格情報と、この医療機関等の訪問診療等の同意（なければ null）を"
                           "返します。該当者がいない・生年月日が違う場合はどちらも 404 not_found です。",
            "tags": ["consents"],
            "security": [{"oauth2": [QUALIFICATION]}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": keys, "required": list(REINQUIRY_KEYS)}}}},
            "responses": _responses(_json_ok("資格情報と訪問診療等の同意", {
                "type": "object",
                "properties": {"qualification": _type_schema(Qualification, components),
                               "consent": {"oneOf": [_ref("Consent"), {"type": "null"}]}},
                "required": ["qualification", "consent"]}),
                "400", "401", "403", "404", "413", "415", "422", "429"),
        }},
        "/api/v1/consents/{consent_id}/visits": {"post": {
            "operationId": "record_visit",
            "summary": "訪問の記録（訪問診療等の同意）",
            "description": "201: 記録しました。200: その日の訪問は記録済みです（1日1回）。409 relationship_ended: 同意は終了しています。"
                           "422: 未来の日付、初回訪問より前の日付、訪問診療等の同意ではない同意。",
            "tags": ["consents"],
            "security": [{"oauth2": [CONSENTS_SCOPE]}],
            "parameters": [CONSENT_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"visit_date": {"type": "string", "format": "date"}},
                "required": ["visit_date"]}}}},
            "responses": {**_responses(_json_ok("記録済みの訪問", visited),
                                       "400", "401", "403", "404", "409", "413", "415", "422", "429"),
                          "201": _json_ok("記録した訪問", visited)},
        }},
    }


# Coded enums as named schemas, one per enum, with member names a generator can use
# (openapi-python-client and others read x-enum-varnames): property name -> (schema, member names).
NAMED_ENUMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "care_kind": ("CareKind", ("INPATIENT", "OUTPATIENT", "DENTAL", "DISPENSING", "HOME_NURSING")),  # 診療別 01-05
    "ticket_type_code": ("TicketType", ("MEDICAL_TICKET", "DISPENSING_TICKET")),
    "combination_code": ("AidCombination", ("ALONE", "COMBINED")),
    "designated_institution_check": ("DesignatedInstitutionCheck", ("MATCHES", "DIFFERS")),
    "ticket_type": ("LegacyTicketType", ("MEDICAL_TICKET", "DISPENSING_TICKET")),
    "combination": ("LegacyAidCombination", ("ALONE", "COMBINED")),
    "care_setting": ("CareSetting", ("OUTPATIENT", "HOME_VISIT", "ONLINE")),
    # 0-2 only: the code table's 3 (同意取得困難) is set by the real emergency interface, never here.
    "flag": ("ConsentFlag", ("NOT_CONSENTED", "CONSENTED", "ENDED")),
    "expiry_reason": ("ExpiryReason", ("EXPIRED", "BY_INSTITUTION", "BY_PATIENT", "USE_CHANGED")),
    "reason": ("InstitutionRevocationReason", ("BY_INSTITUTION", "USE_CHANGED")),
    "status_label": ("StatusLabel", ("ACTIVE", "EXPIRED", "REVOKED")),
    "status": ("ConsentStatus", ("ACTIVE", "EXPIRED", "REVOKED")),
    "source": ("DrugSource", ("CLAIMS", "PRESCRIPTION")),
}
# The batch result's status shares its name with the consent's: named by its schema.
# The consent's source shares its name with a drug row's.
_NAMED_BY_SCHEMA = {("BatchRowResult", "status"): ("BatchStatus", ("VALID", "INVALID", "ERROR")),
                    ("Consent", "source"): ("ConsentSource", ("CARD", "CERTIFICATE"))}


def _name_enums(schemas: dict[str, Any], container: dict[str, Any], owner: str) -> None:
    """Replace each coded enum under `container`'s properties by a reference to its one schema."""
    for name, prop in list(container.get("properties", {}).items()):
        if not isinstance(prop, dict) or "enum" not in prop:
            continue
        named = _NAMED_BY_SCHEMA.get((owner, name)) or NAMED_ENUMS.get(name)
        if named is None:
            continue
        schema_name, varnames = named
        values = [v for v in prop["enum"] if v is not None]
        assert len(values) == len(varnames), (schema_name, values)
        schemas[schema_name] = {"type": "integer" if isinstance(values[0], int) else "string", "enum": values,
                                "x-enum-varnames": list(varnames),
                                **({"deprecated": True} if prop.get("deprecated") else {})}
        rest = {k: v for k, v in prop.items() if k not in ("enum", "type")}
        ref = _ref(schema_name)
        container["properties"][name] = ({"anyOf": [ref, {"type": "null"}], **rest}
                                         if None in prop["enum"] else {**ref, **rest})


def _add_links(paths: dict[str, Any]) -> None:
    """OpenAPI links: a consent from the list or by id leads to its reads, its visits and its
    revocation (generators and schemathesis' stateful runs follow them)."""
    targets = {"get_consent": "/api/v1/consents/{consent_id}", "revoke_consent": "/api/v1/consents/{consent_id}/revocation",
               "record_visit": "/api/v1/consents/{consent_id}/visits",
               **{read.endpoint: _openapi_path(read.path) for read in DATA_READS}}
    for source, where in (("/api/v1/consents", "$response.body#/consents/0/id"),
                          ("/api/v1/consents/{consent_id}", "$response.body#/id")):
        operation = next(iter(paths[source].values()))
        operation["responses"]["200"]["links"] = {
            operation_id: {"operationId": operation_id, "parameters": {"consent_id": where}}
            for operation_id in targets if not (operation_id == "get_consent" and source.endswith("}"))}
def _event_paths(components: dict[str, Any]) -> dict[str, Any]:
    """The event feed (web.api.list_events)."""
    _dataclass_schema(ApiEvent, components)
    return {"/api/v1/events": {"get": {
        "operationId": "list_events",
        "summary": f"{SCOPE_LABELS[EVENTS_SCOPE]}（カーソルで続きを読む）",
        "description": "この医療機関等で起きた同意の変化を古い順に返します。next_cursor を次の after に渡すと、"
                       "どのイベントもちょうど1回ずつ読めます（イベントがなくても next_cursor は返ります）。"
                       f"イベントは{RETENTION.days}日間保存されます。同じイベントは webhooks でも送られます。",
        "tags": ["events"],
        "security": [{"oauth2": [EVENTS_SCOPE]}],
        "parameters": [
            {"name": "after", "in": "query", "required": False,
             "description": "前の応答の next_cursor（省略時は保存されている最も古いイベントから）",
             "schema": {"type": "string", "maxLength": 64}},
            {"name": "limit", "in": "query", "required": False,
             "description": f"最大件数（省略時 {DEFAULT_LIMIT}、1〜{MAX_LIMIT}）",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        ],
        "responses": _responses(_json_ok("イベントと次のカーソル", {
            "type": "object",
            "properties": {"events": {"type": "array", "items": _ref("Event")}, "next_cursor": {"type": "string"}},
            "required": ["events", "next_cursor"]}), "401", "403", "410", "422", "429"),
    }}}


WEBHOOK_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "イベントID（同じイベントの再送では同じ値。受け取り済みなら無視してよい）"},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "送った時刻（UNIX秒）"},
    {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "v1,<HMAC-SHA256 base64>（Standard Webhooks。署名用シークレット whsec_… で検証）"},
]


def _webhooks() -> dict[str, Any]:
    """The OpenAPI 3.1 `webhooks` section: what each event type POSTs to a registered endpoint."""
    section = {}
    for event_type, label in EVENT_TYPES.items():
        meaning, fields = EVENT_DATA[event_type]
        section[event_type] = {"post": {
            "operationId": "webhook_" + event_type.replace(".", "_"),
            "summary": label,
            "description": meaning + "。本文は GET /api/v1/events のイベントと同じ形。"
                           "受け取り側は署名を検証し、2xx を返すと配信完了（3xx を含むそれ以外は、間隔をあけて送り直す）。",
            "tags": ["events"],
            "parameters": WEBHOOK_HEADERS,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"allOf": [
                _ref("Event"),
                {"type": "object", "properties": {
                    "type": {"const": event_type},
                    "data": {"type": "object", "properties": fields, "required": list(fields)}}},
            ]}}}},
            "responses": {"2XX": {"description": "受け取った"}},
        }}
    return section


def _openapi_path(flask_path: str) -> str:
    return "/api" + flask_path.replace("<consent_id>", "{consent_id}")


@lru_cache(maxsize=8)
def _build(base_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    components["ErrorCode"] = {"type": "string", "enum": list(API_CODES),
                               "description": "エラーコード。意味は /problems/<code> と docs/integrator.md の表"}
    components["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details (application/problem+json)。error と message は従来どおり",
        "properties": {
            "type": {"type": "string", "description": "/problems/<code>: そのコードを説明するページ"},
            "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string", "description": "日本語の説明（message と同じ）"},
            "error": _ref("ErrorCode"), "message": {"type": "string", "description": "日本語の説明"},
        },
        "required": ["type", "title", "status", "detail", "error", "message"],
    }
    _dataclass_schema(ApiConsent, components)
    components["BatchRow"] = {
        "type": "object",
        "properties": {k: {"type": ["string", "null"], "maxLength": 100} for k in BATCH_ROW_KEYS},
        "description": "保険者番号・記号・番号・枝番・生年月日（YYYY-MM-DD。和暦 S29.2.1・昭和29年2月1日 も受け付けます。YYYYMMDD は非推奨）・照会番号",
    }
    components["BatchRowResult"] = {
        "type": "object",
        "properties": {
            "row": {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": list(BATCH_STATUSES)},
            "reason": {"type": "string"},
            "reference_number": {"type": ["string", "null"]},
            "error_fields": {"type": "array", "items": {"type": "string"}},
            "qualification": _type_schema(Qualification, components),
        },
        "required": ["row", "status", "reason", "reference_number", "error_fields"],
    }
    paths = {
        "/api/v1/consents": {"get": {
            "operationId": "list_consents",
            "summary": f"{SCOPE_LABELS[CONSENTS_SCOPE]}（診療日ごと）",
            "tags": ["consents"],
            "security": [{"oauth2": [CONSENTS_SCOPE]}],
            "parameters": [{"name": "date", "in": "query", "required": False,
                            "description": "診療日 YYYY-MM-DD（省略時は日本時間の今日）",
                            "schema": {"type": "string", "format": "date"}},
                           {"name": "If-None-Match", "in": "header", "required": False,
                            "description": "前の答えの ETag（変わっていなければ 304）", "schema": {"type": "string"}}],
            "responses": {**_responses({**_json_ok("同意の一覧", _object({"date": date, "consents": list[ApiConsent]},
                                                                         components)),
                                        "headers": {"ETag": {"required": True, "schema": {"type": "string"},
                                                             "description": "この答えの版。次は If-None-Match に"}}},
                                       "401", "403", "422", "429"),
                          "304": {"description": "If-None-Match の版から変わっていない（本文なし）"}},
        }},
        "/api/v1/consents/{consent_id}": {"get": {
            "operationId": "get_consent",
            "summary": "同意の内容と状態",
            "tags": ["consents"],
            "security": [{"oauth2": [CONSENTS_SCOPE]}],
            "parameters": [CONSENT_PARAM],
            "responses": _responses(_json_ok("同意", _type_schema(ApiConsent, components)),
                                    "401", "403", "404", "422", "429"),
        }},
        "/api/v1/consents/{consent_id}/revocation": {"post": {
            "operationId": "revoke_consent",
            "summary": "医療機関等による同意の取消（" + "、".join(
                f"{code} {label}" for code, label in INSTITUTION_REVOCATION_REASONS.items()) + "）",
            "description": "限度額を含むすべての同意項目が同意フラグ 2 になり、同意有効期限切れ理由に reason が入ります。"
                           "管理者か薬剤師（有資格者）の職員のトークンだけが行えます。事務の職員のトークンと"
                           "クライアントクレデンシャルのトークンには 403 not_permitted（記録されます）。",
            "tags": ["consents"],
            "security": [{"oauth2": [CONSENTS_SCOPE]}],
            "parameters": [CONSENT_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"reason": {"type": "integer", "enum": sorted(INSTITUTION_REVOCATION_REASONS)}},
                "required": ["reason"]}}}},
            "responses": _responses(_json_ok("取り消した同意", _ref("Consent")),
                                    "400", "401", "403", "404", "409", "413", "415", "422", "429"),
        }},
        **_home_visit_paths(components),
        **_event_paths(components),
        **{_openapi_path(read.path): _data_read(read, components) for read in DATA_READS},
        "/api/v1/batch-inquiries": {"post": {
            "operationId": "batch_inquiry",
            "summary": f"{SCOPE_LABELS[BATCH_SCOPE]}（予約患者の資格の事前確認）",
            "description": f"行ごとに {' / '.join(BATCH_STATUSES)} と理由を返します。1行の誤りは他の行を止めません。",
            "tags": ["batch"],
            "security": [{"oauth2": [BATCH_SCOPE]}],
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
    paths.update(_medical_aid_paths(components, {"type": "string", "pattern": YEAR_MONTH.pattern}))
    _add_links(paths)
    for owner, schema in list(components.items()):
        _name_enums(components, schema, owner)
    revocation_body = paths["/api/v1/consents/{consent_id}/revocation"]["post"]["requestBody"]
    _name_enums(components, revocation_body["content"]["application/json"]["schema"], "")
    scopes = {s: SCOPE_LABELS[s] for s in SCOPES}
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
            # ASCII: generators make the package name of it (the Japanese one is x-title-ja).
            "title": "MynaReception Pharmacy System API",
            "x-title-ja": "マイナ在宅受付 薬局システムAPI",
            "version": "1.0.0",
            "description": "薬局のシステム（レセコン・電子薬歴）が、患者さんの同意の範囲と閲覧期限の中で資格情報・薬剤情報などを"
                           "読み取るためのAPI。エラーは RFC 9457 の problem details（application/problem+json: type, title, status, "
                           "detail, error, message）。"
                           "OAuth のエンドポイント: /oauth/authorize, /oauth/token, /oauth/introspect (RFC 7662), "
                           "/oauth/revoke (RFC 7009)。",
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "tags": [{"name": "consents"}, {"name": "data"}, {"name": "batch"}, {"name": "events"}],
        "paths": paths,
        "webhooks": _webhooks(),
        "components": components_doc,
    }


def document() -> dict[str, Any]:
    return _build(request.url_root)


# Served here rather than by web/api/__init__.py: the document reads the API's declarations, so this module
# imports web.api and never the other way round.
bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())
