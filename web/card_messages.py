"""What a patient is told when a card read fails: what happened and what to do next."""
from __future__ import annotations

RETRY = "もう一度「読み取り開始」を押してください。"

# code -> (HTTP status, message)
CARD_MESSAGES: dict[str, tuple[int, str]] = {
    "malformed": (400, "カードの読み取り結果を確認できませんでした。" + RETRY),
    "challenge_unknown": (400, "この読み取りは使用済みか無効です。画面を読み込み直して、" + RETRY),
    "challenge_expired": (400, "読み取りの受付時間（5分）が過ぎました。" + RETRY),
    "wrong_origin": (400, "カードの読み取り結果を確認できませんでした。受付のURLを開き直して、" + RETRY),
    "cross_origin": (400, "カードの読み取り結果を確認できませんでした。受付のURLを開き直して、" + RETRY),
    "wrong_rp": (400, "カードの読み取り結果を確認できませんでした。受付のURLを開き直して、" + RETRY),
    "not_present": (400, "カードを確認できませんでした。カードをスマートフォンの背面にあてたまま、" + RETRY),
    "not_verified": (400, "暗証番号を確認できませんでした。4桁の暗証番号を入力して、" + RETRY),
    "bad_signature": (400, "カードの読み取り結果を確認できませんでした。" + RETRY),
    "unknown_card": (
        403,
        "このカードは確認できないか、健康保険証としての利用登録がされていません。"
        "マイナポータルなどで利用登録をしてから、もう一度お試しください。",
    ),
    "synced_credential": (
        403,
        "この認証方法はマイナンバーカードとして使えません。マイナンバーカードをスマートフォンの背面にあててください。",
    ),
    "card_expired": (
        403,
        "マイナンバーカードの電子証明書の有効期限が切れています。お住まいの市区町村の窓口で更新してください。",
    ),
    "card_revoked": (
        403,
        "このマイナンバーカードの電子証明書は失効しています。お住まいの市区町村の窓口にお問い合わせください。",
    ),
    "card_locked": (
        403,
        "暗証番号を続けて間違えたため、カードがロックされています。"
        "お住まいの市区町村の窓口で暗証番号の初期化（再設定）をしてください。",
    ),
    "card_suspected_clone": (
        403,
        "安全のため、このカードでの受付を停止しています。お手数ですが、受付をした薬局・医療機関にご連絡ください。",
    ),
    # Two taps of one card crossed on the way: nothing is wrong with the card.
    "concurrent_read": (409, "読み取りが重なりました。もう一度お試しください。"),
    "clone_detected": (
        403,
        "安全のため、このカードでの受付を停止しました。お手数ですが、受付をした薬局・医療機関にご連絡ください。",
    ),
}


def card_message(code: str) -> tuple[int, str]:
    return CARD_MESSAGES.get(code, CARD_MESSAGES["malformed"])
