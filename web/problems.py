"""RFC 9457 problem details: every JSON error the service answers, and the page each `type` names.

A JSON error is `{"type": "/problems/<code>", "title", "status", "detail", "error", "message"}`
(`error` and `message` as before, so existing clients keep working; `detail` is the Japanese
message too) with `Content-Type: application/problem+json`. The OAuth endpoints add RFC 6749's
`error_description` (web/api/oauth.py), and /oauth/token keeps `application/json` (RFC 6749 §5.2).
PROBLEMS is the one list of the codes: the OpenAPI document's enum, /problems/<code> and the table
in docs/integrator.md come from it.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Blueprint, abort, render_template_string

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "/problems/"

# code -> (title, what it means and what to do). Titles are per code and never change between
# occurrences (RFC 9457 §3.1.3); the occurrence's own words are in `detail`/`message`.
PROBLEMS: dict[str, tuple[str, str]] = {
    "bad_request": ("Bad request", "要求の形式が正しくありません。送った内容を確認してください。"),
    "invalid_json": ("Invalid JSON", "本文がJSONオブジェクトとして読めません。"),
    "unsupported_media_type": ("Unsupported media type", "本文は Content-Type: application/json で送ってください。"),
    "payload_too_large": ("Payload too large", "本文が1MiBを超えています。"),
    "uri_too_long": ("URI too long", "URLが4KiBを超えています。"),
    "invalid_parameter": ("Invalid parameter",
                          "パラメーターの誤り: 形式の違う値、空の値、知らないパラメーターや項目。message がどれかを名指しします。"),
    "unauthorized": ("Unauthorized", "アクセストークンがありません。Authorization: Bearer で送ってください。"),
    "invalid_token": ("Invalid token", "アクセストークンが正しくないか、期限切れか、取り消されています。取り直してください。"),
    "insufficient_scope": ("Insufficient scope", "トークンにこの操作のスコープがありません。"),
    "not_licensed": ("Not licensed", "この情報は有資格者（薬剤師など）の職員のトークンでだけ読めます。"),
    "no_consent": ("No consent", "この同意では読めません（同意がない）。"),
    "category_not_consented": ("Category not consented", "患者さんはこの項目の閲覧に同意していません。"),
    "consent_expired": ("Consent expired", "同意の閲覧期限が過ぎています。"),
    "consent_revoked": ("Consent revoked", "同意は取り消されています。"),
    "qualification_only": ("Qualification only", "資格確認限定型の医療機関等は資格情報だけを読めます。"),
    "certificate_only": ("Certificate only",
                         "資格確認書で資格を確認した受付です。資格情報のほか（薬剤情報など）は読めません。"),
    "not_permitted": ("Not permitted", "その役割の職員のトークン、またはクライアントクレデンシャルのトークンでは行えない操作です。"),
    "function_off": ("Function switched off", "その機能（訪問診療等、医療扶助）は環境設定で停止中です。"),
    "not_found": ("Not found", "見つかりません（他の医療機関等の同意も、該当者のいない再照会も同じ答えです）。"),
    "method_not_allowed": ("Method not allowed", "このURLはその方法（HTTPメソッド）では使えません。Allow を見てください。"),
    "already_revoked": ("Already revoked", "同意はすでに取り消されています。"),
    "confirmation_only": ("Confirmation only", "資格確認だけの記録（資格確認限定型、資格確認書）です。同意はないため、取り消すものはありません。"),
    "relationship_ended": ("Relationship ended", "訪問診療等の同意は終了しています。初回訪問として同意を取り直してください。"),
    "conflict": ("Conflict", "ほかの操作と重なりました。もう一度お試しください。"),
    "cursor_expired": ("Cursor expired", "カーソルが保存期間を過ぎています。最初から読み直してください。"),
    "rate_limited": ("Too many requests", "短時間に要求が集中しました。Retry-After の秒数だけ待ってください。"),
    "internal_error": ("Internal error", "サービスの誤りです。時間をおいてもう一度お試しください。"),
    "unavailable": ("Service unavailable", "データベースが応答しません。Retry-After の秒数だけ待ってください。"),
    # The OAuth endpoints' codes (RFC 6749 §5.2, RFC 7009, RFC 7662).
    "invalid_request": ("Invalid request", "OAuth の要求に不足または誤りがあります。"),
    "invalid_client": ("Invalid client", "クライアントの認証に失敗しました（client_secret_basic で送ってください）。"),
    "invalid_grant": ("Invalid grant", "認可コードまたはリフレッシュトークンが正しくないか、使用済みか、期限切れです。"),
    "unauthorized_client": ("Unauthorized client", "このクライアントには、この方式が許可されていません。"),
    "unsupported_grant_type": ("Unsupported grant type", "この grant_type には対応していません。"),
    "unsupported_token_type": ("Unsupported token type", "この種類のトークンは取り消せません。"),
    "invalid_scope": ("Invalid scope", "要求されたスコープが、このクライアントに許可された範囲を超えています。"),
    "access_denied": ("Access denied", "職員が連携を許可しませんでした。"),
}
# The codes of /oauth/*: their bodies keep RFC 6749's error_description beside the problem members.
OAUTH_CODES = ("invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
               "unsupported_grant_type", "unsupported_token_type", "invalid_scope", "access_denied")
# What the pharmacy-system API (/api/v1/) may answer in `error` (the OpenAPI document's enum).
API_CODES = tuple(code for code in PROBLEMS if code not in OAUTH_CODES)


def problem(status: int, code: str, message: str) -> dict[str, Any]:
    """The body of a JSON error: RFC 9457 members and the service's own `error` and `message`."""
    title = PROBLEMS[code][0] if code in PROBLEMS else _phrase(status)
    return {"type": TYPE_PREFIX + code, "title": title, "status": status, "detail": message,
            "error": code, "message": message}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


bp = Blueprint("problems", __name__)

_PAGE = """{% extends "base.html" %}
{% block title %}{{ code }}｜マイナ在宅受付{% endblock %}
{% block content %}
<h1>{{ title }} <code>{{ code }}</code></h1>
<p>{{ text }}</p>
<p class="muted">エラーの本文は RFC 9457 の problem details です: type は <code>/problems/{{ code }}</code>、
error はこのコード、message と detail は日本語の説明です。</p>
{% endblock %}"""


@bp.get("/problems/<code>")
def problem_page(code: str):
    """The page a problem's `type` names: what the code means."""
    if code not in PROBLEMS:
        abort(404)
    title, text = PROBLEMS[code]
    return render_template_string(_PAGE, code=code, title=title, text=text)
