"""What people are told about every error: (domain, code) -> HTTP status and Japanese message.

The one place errors are worded. The domain raises DomainError subclasses with a stable code
(consent/errors.py); web/errors.py answers any that reaches it with `describe()`: a Japanese page
for people, `{"error", "message"}` JSON for programs. A view that shows the error inside the form
it re-renders takes the same words from `describe()`. /oauth/* keeps its RFC 6749 bodies
(web/api/oauth.py). Errors of the web layer itself (request validation) are ApiError: the same model,
carrying their own status and message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from consent.audit import AuditError
from consent import decision
from consent.decision import ReadRefused
from consent.disasters import DisasterError
from consent.events import EventFeedError
from consent.institution_removal import RemovalError
from consent.institutions import MIN_LAPSE_DAYS
from consent.webhooks import WebhookError
from consent.login_throttle import LoginThrottled
from consent.tablet_leave import LeaveThrottled
from consent.errors import ConsentError, DomainError
from consent.institutions import InstitutionError
from consent.oauth_clients import OAuthClientError, TokenRefused
from consent.staff_auth import PasswordChangeError
from consent.staff_passkeys import PasskeyError
from consent.institutions import InstitutionError, StaffChangeError
from consent.insurance_keys import MAX_LENGTH as MAX_KEY_LENGTH, KeysRefused
from consent.vocabulary import (
    CARE_SETTINGS, CATEGORY_LABELS, DISASTER_CONSENT_KINDS, EXPIRY_REASONS, FUNCTIONS,
    INSTITUTION_KINDS, INSURANCE_KEY_LABELS, KIND_PHARMACY, NOT_CONSENTED_LABEL, SCOPE_LABELS,
    CERTIFICATE_NO_DATA, CERTIFICATE_NO_DATA_WHY, PHOTO_CONFIRMED_LABEL,
)
from consent.window import deadline_text, format_jst
from integrations.card.interface import UnknownCard
from consent.webauthn import RegistrationError
from integrations.card.relying_party import CardSignInError
from integrations.oqs import codes as oqs_codes
from integrations.oqs.inputs import KEY_PROBLEMS
from integrations.oqs.errors import OQSError


class ApiError(DomainError):
    """An error of the web layer itself (a malformed request, a rate limit), worded where raised."""

    domain = "web"

    def __init__(self, status: int, code: str, message: str) -> None:
        Exception.__init__(self, message)  # any code: these are not the domain's
        self.code, self.field, self.detail = code, None, None
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Answer:
    status: int
    error: str  # the JSON "error" value
    message: str


# A message is fixed text, or made from the error (its detail or field).
Message = str | Callable[[DomainError], str]
# code -> (status, message) or (status, message, the JSON "error" when it is not the code).
Table = dict[str, tuple]

CARD_RETRY = "もう一度「読み取り開始」を押してください。"
CARD: Table = {
    "malformed": (400, "カードの読み取り結果を確認できませんでした。" + CARD_RETRY),
    "challenge_unknown": (400, "この読み取りは使用済みか無効です。画面を読み込み直して、" + CARD_RETRY),
    "challenge_expired": (400, "読み取りの受付時間（5分）が過ぎました。" + CARD_RETRY),
    "wrong_origin": (400, "カードの読み取り結果を確認できませんでした。受付のURLを開き直して、" + CARD_RETRY),
    "cross_origin": (400, "カードの読み取り結果を確認できませんでした。受付のURLを開き直して、" + CARD_RETRY),
    "wrong_rp": (400, "カードの読み取り結果を確認できませんでした。受付のURLを開き直して、" + CARD_RETRY),
    "not_present": (400, "カードを確認できませんでした。カードをスマートフォンの背面にあてたまま、" + CARD_RETRY),
    "not_verified": (400, "暗証番号を確認できませんでした。4桁の暗証番号を入力して、" + CARD_RETRY),
    "bad_signature": (400, "カードの読み取り結果を確認できませんでした。" + CARD_RETRY),
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
    # The card is not registered for health insurance use: since the reform, a 資格確認書 stands in.
    "card_unlinked": (
        403,
        "このマイナンバーカードは健康保険証としての利用登録がされていません。"
        # Said on the patient's own phone too, where no staff member stands by: tell the place.
        "資格確認書をお持ちの場合は、医療機関や薬局にお伝えください。資格確認書で資格を確認できます。",
    ),
    "card_suspected_clone": (
        403,
        "安全のため、このカードでの受付を停止しています。お手数ですが、受付をした薬局・医療機関にご連絡ください。",
    ),
    # Two taps of one card racing: the stale one is refused, the card is not flagged.
    "concurrent_read": (409, "読み取りが重なりました。もう一度お試しください。"),
    "clone_detected": (
        403,
        "安全のため、このカードでの受付を停止しました。お手数ですが、受付をした薬局・医療機関にご連絡ください。",
    ),
}

# The tablet's photo check (目視確認): the birth date printed on the card, as the staff member types it.
PHOTO_BIRTH_DATE = "生年月日を、カードに書かれているとおりに入力してください（例: 昭和29年2月1日）。"

# Staff sign-in with a password, in the console and on the tablet alike.
LOGIN_MISSING = "ログインIDとパスワードを入力してください。"
LOGIN_WRONG = "ログインIDまたはパスワードが正しくありません。"

PASSKEY_RETRY = "パスキーを確認できませんでした。もう一度お試しください。"
PASSKEY: Table = {
    "malformed": (400, PASSKEY_RETRY),
    "challenge_unknown": (400, PASSKEY_RETRY),
    "challenge_expired": (400, "時間が経ちすぎました。もう一度お試しください。"),
    "bad_registration": (400, PASSKEY_RETRY),
    "bad_assertion": (400, PASSKEY_RETRY),
    "duplicate": (400, "このパスキーは登録済みです。"),
    "unknown": (403, "このパスキーは登録されていません。ログインIDとパスワードでログインしてください。"),
    "disabled": (403, "このアカウントは利用停止されています。管理者にお問い合わせください。"),
}

# A bare RegistrationError reaches people only on 「デモ用カードを登録」 (sandbox).
DEMO_CARD_RETRY = "登録できませんでした。もう一度「デモ用カードを登録」を押してください。"
REGISTRATION: Table = {
    "malformed": (400, DEMO_CARD_RETRY),
    "challenge_unknown": (400, DEMO_CARD_RETRY),
    "challenge_expired": (400, "時間が経ちすぎました。もう一度「デモ用カードを登録」を押してください。"),
    "bad_registration": (400, DEMO_CARD_RETRY),
    "duplicate": (409, "この認証器はデモ用カードとして登録済みです。"),
}

CONSENT: Table = {
    "invalid_care_setting": (400, "診療区分が正しくありません。"),
    "care_setting_unsupported": (400, lambda e: f"{CARE_SETTINGS[e.detail]}の同意はここでは登録できません。"),
    "date_in_past": (400, "診療日に過去の日付は指定できません。"),
    "date_too_far": (400, lambda e: f"診療日は本日から{e.detail}日後までの日付を指定してください。"),
    "no_categories": (400, "同意する項目を1つ以上選んでください。"),
    "unknown_category": (400, "選択された項目が正しくありません。"),
    "consent_revoked": (409, "取り消された同意は変更できません。もう一度同意するには、同意登録をしてください。"),
    "consent_expired": (400, "閲覧期限を過ぎた同意は変更できません。"),
    "not_found": (404, "同意が見つかりません。"),
    "invalid_reason": (422, "取消理由が正しくありません。1（医療機関等による取消）か3（利用目的の変更）を指定してください。",
                       "invalid_parameter"),
    "already_revoked": (409, "この同意はすでに取り消されています。"),
    "not_a_relationship": (422, "訪問診療等（訪問患者）の同意ではないため、訪問を記録できません。", "invalid_parameter"),
    "visit_in_future": (422, "訪問日に未来の日付は指定できません。", "invalid_parameter"),
    "visit_before_first_visit": (422, "訪問日は初回訪問日以降の日付にしてください。", "invalid_parameter"),
    "relationship_ended": (409, "この訪問患者の同意は終了しています。訪問を記録するには、初回訪問として同意を取り直してください。"),
    "invalid_lapse_days": (422, lambda e: lapse_days_range("home_visit_lapse_days", MIN_LAPSE_DAYS, e.detail),
                           "invalid_parameter"),
    "certificate_record": (
        409, "資格確認書で確認した受付は、同意の内容を変えられません。「同意登録をする」からマイナンバーカードで登録してください。"),
    "card_consent_exists": (
        409, "この患者さんは本日すでにマイナンバーカードで受付をしています。資格情報は患者一覧の患者ページで確認できます。"),
    "qualification_only": (
        403, "こちらの医療機関等では、健康保険の資格確認だけを行います。薬剤情報などの提供に同意することはできません。"),
    "photo_check_unavailable": (403, "カードの顔写真での確認（目視確認）は、訪問診療等・往診の受付でだけ行えます。"),
    "photo_not_confirmed": (400, f"カードの顔写真とご本人を見比べて、「{PHOTO_CONFIRMED_LABEL}」にチェックを入れてください。"),
    "photo_card_not_found": (404, "この生年月日の方のマイナンバーカードが見つかりません。カードに書かれている生年月日をご確認ください。"),
    "photo_too_many_cards": (
        409, "同じ生年月日の方が多いため、顔写真での確認ができません。暗証番号でカードを読み取ってください。"),
    "confirmation_only": (409, "資格確認の記録です。同意はないため、取り消すものはありません。"),
    "not_permitted": (
        403, "この操作は、管理者か有資格者（薬剤師）の職員だけが行えます。システム処理の連携（クライアントクレデンシャル）では"
             "行えません。"),
}

PASSWORD: Table = {
    "account_unavailable": (400, "このアカウントは利用できません。"),
    "wrong_current": (400, "現在のパスワードが正しくありません。"),
    "mismatch": (400, "新しいパスワードが確認用と一致しません。"),
    "too_short": (400, lambda e: f"新しいパスワードは{e.detail}文字以上にしてください。"),
    "unchanged": (400, "今と同じパスワードは使えません。"),
}


def _beyond_client_credentials(exc: DomainError) -> str:
    labels = "・".join(SCOPE_LABELS[s] for s in exc.detail)
    return (f"システム処理（クライアントクレデンシャル）には{labels}を許可できません。"
            "患者情報は職員がログインして許可する方式（認可コード）で連携してください。")


API_CLIENT: Table = {
    "redirect_uri_missing": (400, "リダイレクトURIを入力してください。", "invalid_redirect_uri"),
    "redirect_uri_too_long": (400, "リダイレクトURIは500文字以内の半角文字で入力してください。", "invalid_redirect_uri"),
    "redirect_uri_malformed": (400, "リダイレクトURIの形式が正しくありません。", "invalid_redirect_uri"),
    "redirect_uri_fragment": (400, "リダイレクトURIに # 以降（フラグメント）は使えません。", "invalid_redirect_uri"),
    "redirect_uri_not_https": (
        400, "リダイレクトURIは https:// で始まるURLにしてください（http は localhost のみ）。", "invalid_redirect_uri"),
    "redirect_uri_not_allowed": (400, "システム処理の連携にはリダイレクトURIを指定しません。", "invalid_redirect_uri"),
    "invalid_name": (400, "連携システム名を100文字以内で入力してください。"),
    "invalid_grant_type": (400, "連携方式を選んでください。"),
    "no_scope": (400, "許可する範囲を1つ以上選んでください。", "invalid_scope"),
    "invalid_scope": (400, "許可する範囲が正しくありません。"),
    "scope_beyond_client_credentials": (400, _beyond_client_credentials, "invalid_scope"),
}

TOKEN: Table = {
    "missing": (401, "アクセストークンを Authorization: Bearer ヘッダーで送ってください。", "unauthorized"),
    "invalid": (401, "アクセストークンが正しくありません。", "invalid_token"),
    "expired": (401, "アクセストークンの有効期限が切れています。トークンを取り直してください。", "invalid_token"),
    "revoked": (401, "アクセストークンは無効になっています。", "invalid_token"),
    "insufficient_scope": (403, lambda e: f"このトークンには「{SCOPE_LABELS[e.detail]}」（{e.detail}）の権限がありません。"),
}

# The medical-aid ticket fetch at a 資格確認限定型 institution (consent/ticket_reads.py), console and API.
TICKETS_QUALIFICATION_ONLY = "資格確認限定型の医療機関等では、医療券・調剤券（氏名・生年月日・傷病名を含む）の一括取得はできません。"

# A read the decision refused, answered by the API. Another institution's consent and an id
# never issued get the same 404 as an unknown one (no hint which).
CONSENT_NOT_FOUND = "該当する同意が見つかりません。"


# A refused read, by reason (consent/decision.py's codes); the state-dependent ones are made below.
DECISION_WORDS = {
    decision.NO_CONSENT: "同意がありません",
    decision.NOT_LICENSED: "有資格者のみ閲覧できます",
    decision.OTHER_INSTITUTION: "該当する同意が見つかりません",
    decision.NOT_FOUND: "該当する同意が見つかりません",
    decision.INSUFFICIENT_SCOPE: "この連携では閲覧できない情報です",
    decision.QUALIFICATION_ONLY: "資格確認限定型の医療機関等では、資格情報以外の情報（薬剤情報・特定健診情報など）は閲覧できません",
    decision.CERTIFICATE_ONLY: f"{CERTIFICATE_NO_DATA}（{CERTIFICATE_NO_DATA_WHY}）",
    decision.DISASTER_NOT_IN_EFFECT: "災害時特別措置の期間外です",
    decision.DISASTER_OUT_OF_AREA: "災害時特別措置の対象地域外の医療機関です",
    decision.DISASTER_NO_CONSENT_KIND: "か".join(f"「{kind}」" for kind in DISASTER_CONSENT_KINDS.values()) + "かを記録してください",
    decision.DISASTER_CATEGORY_EXCLUDED: "災害時特別措置では閲覧できない情報です",
}


def decision_message(decided: decision.Decision, kind: str | None = None) -> str:
    """Why a read was refused, naming the category's own state (e.g. 「薬剤・処方の同意有効期限切れ
    （2026年12月4日 23:59まで）」); "" when it was allowed. Pages say 閲覧できません：<this>.
    `kind`: the reader's institution kind, naming its licensed role (「有資格者（医師）のみ…」)."""
    reason, consent, state = decided.reason, decided.consent, decided.state
    if reason == decision.NOT_LICENSED and kind not in (None, KIND_PHARMACY):  # a pharmacy's words stay as they were
        return f"有資格者（{INSTITUTION_KINDS[kind].licensed_label}）のみ閲覧できます"
    label = CATEGORY_LABELS.get(decided.category, "")
    ended = state is not None and state.ended  # flag 2, or 限度額 flag 0 with its reason
    if reason is None:
        return ""
    if reason == decision.CONSENT_EXPIRED and consent is not None and consent.relationship:
        return f"訪問診療等の同意が終了しています（{format_jst(decided.since)}、最後の訪問から期間が空いたため）"
    if reason == decision.CONSENT_EXPIRED and ended:
        return f"{label}の同意有効期限切れ（{deadline_text(state.expires_at)}まで）"
    if reason == decision.CONSENT_EXPIRED:
        return f"閲覧期限（{deadline_text(consent.window_end)}）を過ぎています"
    if reason == decision.CONSENT_REVOKED and ended:
        return f"{label}の同意が取り消されました（{format_jst(state.ended_at)}、{EXPIRY_REASONS[state.expiry_reason]}）"
    if reason == decision.CONSENT_REVOKED:
        return f"同意が取り消されました（{format_jst(consent.revoked_at)}）"
    if reason == decision.CATEGORY_NOT_CONSENTED:
        return f"{label}は{NOT_CONSENTED_LABEL}です"
    return DECISION_WORDS[reason]


def _refused(exc: DomainError) -> str:
    return f"閲覧できません：{decision_message(exc.detail)}。"


READ: Table = {
    "not_found": (404, CONSENT_NOT_FOUND),
    "other_institution": (404, CONSENT_NOT_FOUND, "not_found"),
    **{code: (403, _refused) for code in ReadRefused.codes - {"not_found", "other_institution"}},
}

NO_SUCH_CARD = "そのカードはありません。"
BIRTH_DATE_RANGE = "birth_date は1900年以降、今日以前の日付にしてください。"
CARD_AUTHORITY: Table = {
    "not_found": (404, NO_SUCH_CARD),
}

_CARE_SETTING_CHOICES = "、".join(f"{code}（{label}）" for code, label in oqs_codes.CARE_SETTINGS.items())
OQS: Table = {
    "invalid_care_setting": (422, f"診療区分は{_CARE_SETTING_CHOICES}のいずれかです。", "invalid_field"),
    "invalid_institution_code": (422, "医療機関コードは10桁の数字です。", "invalid_field"),
    "invalid_validity": (422, "validity は1から6の整数で指定してください。", "invalid_field"),
    "validity_with_medical_aid": (
        422, "医療扶助の受給者には validity 3・4・5 を指定できません（5は医療保険だけに起こります）。", "invalid_field"),
    "birth_date_out_of_range": (422, BIRTH_DATE_RANGE, "invalid_field"),
    "born_today_lost": (422, "今日生まれの人には validity 2・3（資格の喪失）を指定できません。", "invalid_field"),
    "entrusted_without_medical_aid": (
        422, "entrusted_institution_codes は medical_aid のときだけ指定できます。", "invalid_field"),
    "rows_not_list": (422, "rows は行の配列で指定してください。", "invalid_field"),
    "invalid_month": (422, lambda e: f"{e.detail} は YYYYMM 形式の年月で指定してください。", "invalid_field"),
    "month_order": (422, "from は to より前の年月にしてください。", "invalid_field"),
    "future_month": (422, lambda e: f"{e.detail} に今月より後の年月は指定できません。", "invalid_field"),
    "insured_without_medical_aid": (
        422, "insured は medical_aid のときだけ指定できます（医療保険と医療扶助の併用）。", "invalid_field"),
    "validity_with_insured": (422, "併用（insured）の受給者には validity 1 か 6 だけを指定できます。", "invalid_field"),
    "insured_age_out_of_range": (
        422, "併用（insured）の受給者は18歳以上75歳未満です（被用者保険の本人）。", "invalid_field"),
    "not_medical_aid": (422, "医療扶助の受給者ではありません。", "invalid_field"),
    # Malformed insurance keys: the words 一括照会 answers for the same problem.
    **{code: (422, text, "invalid_field") for code, text in KEY_PROBLEMS.items()},
    "person_not_found": (404, "該当する患者が見つかりません。", "not_found"),
}

# The audit log failing under a request is the service's fault, never the caller's: a 500.
AUDIT: Table = {code: (500, "システムエラーが発生しました。時間をおいてもう一度お試しください。", "internal_error")
                for code in AuditError.codes}

# The tablet's 「受付モードの終了」 (consent/tablet_leave.py): the tablet waits, the console login does not.
TABLET_LEAVE: Table = {
    "leave_throttled": (429, "パスワードを続けて間違えたため、この端末ではしばらく受付モードを終了できません。"
                             "5分ほど待ってからお試しください（職員のログインには影響しません）。"),
}

LOGIN: Table = {
    "login_throttled": (429, "ログインに続けて失敗したため、しばらくログインできません。15分ほど待ってからお試しください。"),
}

# Declaring or ending a disaster (sandbox 422; operators' commands word them in English).
DISASTER: Table = {
    "invalid_name": (422, "name は100文字以内の文字列で指定してください。", "invalid_field"),
    "empty_area": (422, "対象地域（prefectures か institution_codes）を1つ以上指定してください。", "invalid_field"),
    "unknown_prefecture": (422, lambda e: f"{e.detail} は都道府県コード（01〜47の2桁）ではありません。", "invalid_field"),
    "unknown_institution": (422, lambda e: f"医療機関コード {e.detail} の医療機関は登録されていません。", "invalid_field"),
    "invalid_period": (422, "until は from より後の日時（時差つき）にしてください。", "invalid_field"),
    "intersects_active": (
        422, lambda e: f"実施中・予定の災害（ID {e.detail}）と対象地域と期間が重なります。", "intersects_active"),
    "not_found": (404, "その災害はありません。"),
    "already_over": (409, "その災害はすでに終了しています。"),
}

def _key_labels(exc: DomainError) -> str:
    """The keys at fault, by their labels (保険者番号・番号), in card order."""
    fields = exc.detail if isinstance(exc.detail, tuple) else (exc.field,)
    return "・".join(INSURANCE_KEY_LABELS.get(f or "", "保険証の記号・番号等") for f in fields)


# The insurance keys as a form or a body holds them (consent/insurance_keys.py): the same words for
# the console's 再照会, 災害時閲覧 and the API; the API's JSON error stays invalid_parameter.
INSURANCE_KEYS: Table = {
    "missing": (422, lambda e: f"{_key_labels(e)}を入力してください。", "invalid_parameter"),
    "not_text": (422, lambda e: f"{_key_labels(e)}は{MAX_KEY_LENGTH}文字以内の文字列で入力してください。",
                 "invalid_parameter"),
    "birth_date_format": (422, "生年月日を正しく入力してください（例: 1940-04-01）。", "invalid_parameter"),
}
# 「資格確認書で確認」's birth date, typed off the document (和暦 accepted).
CERTIFICATE_BIRTH_DATE = "生年月日を正しく入力してください（例: 昭和29年2月1日、S29.2.1、1954-02-01）。"
CERTIFICATE_NOT_FOUND = "該当する方が見つかりませんでした。資格確認書の番号と生年月日をもう一度確認してください。"
CERTIFICATE_SEVERAL = "複数の方が該当しました。資格確認書の枝番も入力してください。"


def fields_at_fault(exc: DomainError) -> tuple[str, ...]:
    """The form fields a refusal names (every missing one for `missing`), for aria-invalid."""
    if exc.code == "missing" and isinstance(exc.detail, tuple):
        return exc.detail
    return (exc.field,) if exc.field else ()


def certificate_refusal(exc: DomainError) -> str:
    """Why 「資格確認書で確認」's keys were refused (the birth date's words with 和暦 examples)."""
    if exc.domain == KeysRefused.domain and exc.code == "birth_date_format":
        return CERTIFICATE_BIRTH_DATE
    return describe(exc).message

# GET /api/v1/events (consent/events.py).
EVENT_FEED: Table = {
    "invalid_cursor": (422, "after には、GET /api/v1/events が返した next_cursor をそのまま指定してください"
                            "（ほかの医療機関等のものや、書き換えたものは使えません）。", "invalid_parameter"),
    "cursor_expired": (410, lambda e: f"この next_cursor は保存期間（{e.detail}日）を過ぎています。"
                                      "GET /api/v1/consents で同意を読み直してから、after を付けずに最初から読み直してください。"),
    "invalid_limit": (422, lambda e: f"limit は1から{e.detail}までの整数で指定してください。", "invalid_parameter"),
}

# Webhook endpoints registered in 「API連携」 (consent/webhooks.py).
WEBHOOK: Table = {
    "url_missing": (400, "通知先のURLを入力してください。"),
    "url_too_long": (400, lambda e: f"通知先のURLは{e.detail}文字以内にしてください。"),
    "url_malformed": (400, "通知先のURLの形式が正しくありません（http:// か https:// で始まるURL。# 以降やユーザー名は使えません）。"),
    "url_not_https": (400, "通知先のURLは https:// で始まるURLにしてください。"),
    "url_private_address": (400, "通知先のURLが、社内・ローカルのアドレス（プライベート、ループバック、リンクローカル）を指しています。"
                                 "インターネットから届く https のURLにしてください。"),
    "url_unresolvable": (400, "通知先のURLのホスト名が見つかりません。URLを確かめてください。"),
    "no_event_types": (400, "通知するイベントを1つ以上選んでください。"),
    "unknown_event_type": (400, "通知するイベントが正しくありません。"),
    "too_many_endpoints": (400, lambda e: f"通知先は{e.detail}件まで登録できます。使わないものを削除してください。"),
    "not_found": (404, "その通知先はありません。"),
}

# The sandbox's clean-up (DELETE /sandbox/institutions/<code>).
REMOVAL: Table = {
    "not_sandbox_made": (409, "サンドボックスで作成した医療機関だけ削除できます。デモの医療機関は "
                              "flask --app app demo reset で元に戻せます。"),
}

# 「管理」's 職員 (consent/app/staff_admin.py): said at the top of the page, the form kept.
STAFF: Table = {
    "not_found": (404, "その職員は登録されていません。"),
    "own_account": (400, "ご自身のアカウントはここでは変更できません。ほかの管理者に依頼してください。"),
    "no_role": (400, "役割を選んでください。"),
    "login_id_taken": (400, "そのログインIDは使われています。"),
    "invalid_login_id": (400, "ログインIDは3〜64文字の半角英数字（- と _ も可）で入力してください。"),
    "already_disabled": (409, "その職員はすでに利用停止中です。"),
    "not_disabled": (409, "その職員は利用停止中ではありません。"),
    "same_role": (400, "今と同じ役割です。変更する役割を選んでください。"),
}

# An institution's contact settings (consent/institutions.py): sandbox 422; operators' commands
# word them in English.
INSTITUTION: Table = {
    "invalid_phone": (422, "phone は 03-1234-5678 のような電話番号（0で始まる10桁か11桁、区切りはハイフン）で指定してください。",
                      "invalid_field"),
    "invalid_privacy_url": (422, "privacy_url は https:// で始まるURL（500文字以内）で指定してください。", "invalid_field"),
}

# The same checks as 「管理」's 環境設定 form words them (its fields, not the API's names).
INSTITUTION_FORM: dict[str, str] = {
    "invalid_phone": "電話番号は 03-1234-5678 のように、0で始まる10桁か11桁の数字をハイフンで区切って入力してください。",
    "invalid_privacy_url": "プライバシーポリシーのURLは https:// で始まるURL（500文字以内）を入力してください。",
}

# The patient's 「閲覧できなかった記録」 (同意照会・更新): why a read was refused, in plain words
# (the decision's reason codes, consent/decision.py; the staff's wording is its message).
_NOT_CONSENTED_PLAIN = "同意していない項目のため"
PATIENT_READ_REFUSALS: dict[str, str] = {
    decision.NO_CONSENT: _NOT_CONSENTED_PLAIN,
    decision.CATEGORY_NOT_CONSENTED: _NOT_CONSENTED_PLAIN,
    decision.CONSENT_EXPIRED: "閲覧期限後のため",
    decision.CONSENT_REVOKED: "同意を取り消した後のため",
    decision.NOT_LICENSED: "薬剤師など資格のある人だけが見られる情報のため",
    decision.INSUFFICIENT_SCOPE: "その仕組みには見ることが許されていない情報のため",
    decision.QUALIFICATION_ONLY: "資格情報のほかは見られない受付のため",
    decision.CERTIFICATE_ONLY: "資格確認書での受付で、お薬などの情報の提供には同意していないため",
}
PATIENT_READ_REFUSAL_OTHER = "閲覧できる条件に当てはまらなかったため"


def patient_read_refusal(reason: str | None) -> str:
    """A refused read's reason as the patient's read log words it."""
    return PATIENT_READ_REFUSALS.get(reason or "", PATIENT_READ_REFUSAL_OTHER)


TABLES: dict[str, Table] = {
    RemovalError.domain: REMOVAL,
    InstitutionError.domain: INSTITUTION,
    StaffChangeError.domain: STAFF,
    KeysRefused.domain: INSURANCE_KEYS,
    LoginThrottled.domain: LOGIN,
    LeaveThrottled.domain: TABLET_LEAVE,
    AuditError.domain: AUDIT,
    CardSignInError.domain: CARD,
    PasskeyError.domain: PASSKEY,
    RegistrationError.domain: REGISTRATION,
    ConsentError.domain: CONSENT,
    PasswordChangeError.domain: PASSWORD,
    OAuthClientError.domain: API_CLIENT,
    TokenRefused.domain: TOKEN,
    ReadRefused.domain: READ,
    DisasterError.domain: DISASTER,
    EventFeedError.domain: EVENT_FEED,
    WebhookError.domain: WEBHOOK,
    UnknownCard.domain: CARD_AUTHORITY,
    OQSError.domain: OQS,
}


def describe(exc: DomainError) -> Answer:
    """The status, JSON error code and Japanese message for `exc`."""
    if isinstance(exc, ApiError):
        return Answer(exc.status, exc.code, exc.message)
    status, message, *public = TABLES[exc.domain][exc.code]
    return Answer(status, public[0] if public else exc.code, message(exc) if callable(message) else message)


# --- the pharmacy-system API's request checks (web/api/): 422 invalid_parameter and its kin ---------
# Each names the parameter or field at fault, so a vendor's log says what to change.

def unknown_parameter(name: str, allowed: tuple[str, ...]) -> str:
    return f"{name[:40]} というパラメーターはありません。" + (f"使えるのは {', '.join(allowed)} です。" if allowed else "")


def empty_parameter(name: str) -> str:
    return f"{name} が空です。値を指定するか、パラメーターごと省いてください。"


def unknown_field(name: object, allowed: tuple[str, ...]) -> str:
    return f"{str(name)[:40]} という項目はありません。使えるのは {', '.join(allowed)} です。"


def date_format(name: str) -> str:
    return f"{name} は YYYY-MM-DD 形式の日付で指定してください。"


def month_format(name: str) -> str:
    return f"{name} は YYYY-MM 形式の年月で指定してください。"


def written_as(name: str, hint: str) -> str:
    """A query parameter that does not match its pattern; `hint` says how to write it."""
    return f"{name} は {hint}で指定してください。"


def page_limit(maximum: int) -> str:
    return f"limit は1〜{maximum}の整数で指定してください。"


def too_many_rows(maximum: int) -> str:
    return f"一度に照会できるのは{maximum}行までです。"


REVOCATION_REASON = "reason は 1（医療機関等による取消）か 3（利用目的の変更）で指定してください。"
HOME_VISITS_OFF = "訪問診療等の機能は環境設定で停止中です。"
MEDICAL_AID_OFF = "医療扶助の機能は環境設定で停止中です。"
# A 再照会 that matched nobody: no consent was looked for, so the message speaks of the person.
REINQUIRY_NOBODY = "該当する方が見つかりません。保険者番号・記号・番号・枝番・生年月日をご確認ください。"
STALE_CURSOR = "cursor が古いか正しくありません。最初のページから読み直してください。"
MONTHS_OUT_OF_ORDER = "from は to 以前の年月にしてください。"
ROWS_REQUIRED = "rows は照会する行の配列（1行以上）で指定してください。"


# --- the sandbox's request checks (web/sandbox/): QA's test worlds ---------------------------------
# Field checks name the field, as the API's do; the fixed sentences a QA log shows are here too.

def text_field(name: str, max_len: int) -> str:
    return f"{name} は{max_len}文字以内の文字列で指定してください。"


def bad_characters(name: str) -> str:
    return f"{name} に使えない文字が含まれています。"


def integer_range(name: str, low: int, high: int) -> str:
    return f"{name} は{low}から{high}までの整数で指定してください。"


def lapse_days_range(name: str, low: int, high: int) -> str:
    """The lapse days: null (no lapse, the default) or a whole number in range (0 is no "never")."""
    return f"{name} は null（訪問の記録がなくても終了しない）か、{low}から{high}までの整数で指定してください。"


def boolean_field(name: str) -> str:
    return f"{name} は true か false で指定してください。"


def field_not_allowed(name: str) -> str:
    return f"{name} は指定できません。"


def field_required(name: str) -> str:
    return f"{name} を指定してください。"


def timestamp_field(name: str, example: str = "2026-12-04T09:00:00+09:00") -> str:
    return f"{name} は時差つきのISO 8601（例: {example}）で指定してください。"


def string_list(name: str) -> str:
    return f"{name} は文字列の配列で指定してください。"


def functions_object(functions: tuple[str, ...]) -> str:
    return f"functions は {', '.join(functions)} を true か false で指定するオブジェクトにしてください。"


def institution_not_registered(code: str) -> str:
    return f"医療機関コード {code} の医療機関は登録されていません。"


def clock_years(first: int, last: int) -> str:
    return f"now は{first}年から{last}年までの日時で指定してください。"


JSON_BODY_ONLY = "Content-Type: application/json で送ってください。"
CODE_NOT_ASSIGNED = "医療機関コードを割り当てられませんでした。もう一度お試しください。"
PREFECTURE_CODE = "prefecture は01から47までの2桁の都道府県コード（文字列）で指定してください。"
NO_SUCH_INSTITUTION = "その医療機関コードの医療機関はありません。"
BIRTH_DATE_FORMAT = "birth_date は YYYY-MM-DD 形式で指定してください。"
ENTRUSTED_CODES = "entrusted_institution_codes は10桁の医療機関コードの配列で指定してください。"
ENTRUSTED_NEEDS_MEDICAL_AID = "entrusted_institution_codes は medical_aid が true のときだけ指定できます。"
SEED_FIELD = "seed は0以上の整数で指定してください。"
NO_SUCH_PERSON = "その person_id の患者はいません。"
CARD_STATUS_CHOICES = "status は active, expired, revoked, locked のいずれかです。"
CLOCK_NOT_SETTABLE = "この環境では時計を動かせません。"


def function_not_allowed(kind: str, function: str) -> str:
    """A function (環境設定) a kind may not run: a visiting-nurse station runs 訪問診療等 only."""
    allowed = "・".join(f"「{FUNCTIONS[name]}」" for name in FUNCTIONS if name in INSTITUTION_KINDS[kind].functions)
    return f"{INSTITUTION_KINDS[kind].name}では「{FUNCTIONS[function]}」は使えません（使える機能: {allowed}）。"
