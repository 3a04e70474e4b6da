"""The shape of every error answer: a Japanese page for people, `{"error", "message"}` JSON for
programs (web/errors.py and web/unavailable.py answer through it)."""
from __future__ import annotations

from flask import jsonify, render_template, request

# (JSON code, Japanese message) per status.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "リクエストの内容が正しくありません。入力内容をご確認ください。"),
    401: ("unauthorized", "ログインが必要です。"),
    403: ("forbidden", "この操作は許可されていません。"),
    404: ("not_found", "ページが見つかりません。URLをご確認ください。"),
    405: ("method_not_allowed", "この方法ではご利用いただけません。"),
    409: ("conflict", "ほかの操作と重なりました。もう一度お試しください。"),
    410: ("gone", "このURLは現在使用できません。"),
    413: ("payload_too_large", "送信されたデータが大きすぎます。"),
    415: ("unsupported_media_type", "この形式のデータは受け付けられません。"),
    422: ("unprocessable", "入力内容に誤りがあります。"),
    429: ("rate_limited", "短時間に操作が集中しました。しばらく待ってからもう一度お試しください。"),
    500: ("internal_error", "システムエラーが発生しました。時間をおいてもう一度お試しください。"),
    503: ("unavailable", "ただいまご利用いただけません。時間をおいてもう一度お試しください。"),
}
JSON_PREFIXES = ("/api/", "/sandbox/", "/oauth/")
# Under /oauth/ but shown to a pharmacist in a browser: errors there are pages.
BROWSER_PATHS = ("/oauth/authorize",)


def wants_json() -> bool:
    if request.path in BROWSER_PATHS:
        pass
    elif request.path.startswith(JSON_PREFIXES) or request.path in ("/healthz", "/readyz"):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str | None = None, message: str | None = None):
    default_code, default_message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    code = code or default_code
    message = message or default_message
    if wants_json():
        response = jsonify(error=code, message=message)
        response.status_code = status
        return response
    return render_template("error.html", status=status, message=message), status
