"""The service's vocabulary, defined once: what can be read and consented to, the OAuth scopes
that open it, care settings, and the codes of validity, consent status and revocation.

Everything else derives from here: the reception and console pages, the decision function, the
API and its OpenAPI document, the sandbox and the OQS simulator. Codes are the glossary's English
names and the real interface's numbers; the Japanese labels are public contracts (QA automation
and pharmacy systems match on them: docs/layout.md, "Where the vocabulary lives") and must stay exactly as written.
"""
from __future__ import annotations

from dataclasses import dataclass

# --- categories: what a reader may ask for ----------------------------------------------------


@dataclass(frozen=True)
class Category:
    """Something `decide` can be asked about: a consent category, or the qualification."""

    code: str
    # The console's section heading, and the category's name in the API and OAuth scopes.
    heading: str
    # The OAuth scope a token needs to read it (see SCOPE_OF_CATEGORY).
    scope: str
    # What the patient consents to on the reception pages; None: not a consent category.
    consent_label: str | None = None
    # Only 有資格者 (licensed staff) may view it (docs/sources.md [003], slide 12).
    licensed_only: bool = False
    # A client-credentials token (a system job, no person behind it) may read it.
    system_job: bool = False
    # Its consent ends with the window (flag 1 -> 2, reason 0); False: billing data with a flag and
    # a consent time but no expiry (限度額).
    expires: bool = True
    # Its flag takes 0 (未同意) and 1 (同意) only, as OQSCD001 (限度額適用認定証同意フラグ) numbers it:
    # once ended it reads 0 again, keeping its consent time, end and expiry reason.
    binary_flag: bool = False
    # One plain line for the patient before choosing (the reception's consent page): what it is,
    # and why a pharmacy or clinic wants it.
    patient_note: str = ""

    @property
    def consentable(self) -> bool:
        return self.consent_label is not None


# Not a consent category: the qualification confirmed at reception is the institution's billing
# record, readable by every role while any consent of that person exists there, even after the
# window (consent/decision.py).
QUALIFICATION = "qualification"

_CATEGORY_TABLE: tuple[Category, ...] = (
    Category(QUALIFICATION, heading="資格情報", scope="qualification", system_job=True),
    Category("drug", heading="薬剤情報", consent_label="薬剤・処方", scope="drug", licensed_only=True,
             patient_note="これまでに出されたお薬の記録です。飲み合わせや、同じお薬が重なっていないかを確かめるのに使います。"),
    Category("checkup", heading="特定健診情報", consent_label="特定健診", scope="checkup", licensed_only=True,
             patient_note="40歳から受ける健康診断（特定健診）の結果です。血圧や血液検査の値などです。"),
    Category("clinical", heading="診療・アレルギー・検査", consent_label="診療・アレルギー・検査", scope="clinical",
             licensed_only=True,
             patient_note="病院で受けた診療、お薬や食べ物のアレルギー、検査の結果の記録です。"),
    Category("surgery", heading="手術・傷病名・感染症", consent_label="手術・傷病名・感染症", scope="surgery",
             licensed_only=True, patient_note="受けた手術、病気の名前、感染症の記録です。"),
    # Certificate and limit data are for billing: clerks may see them.
    Category("specific_disease", heading="特定疾病療養受療証", consent_label="特定疾病療養受療証",
             scope="specific_disease",
             patient_note="人工透析などで長く治療を続ける方の、支払いを軽くする証明書の情報です。"),
    Category("limit", heading="限度額", consent_label="限度額", scope="limit", system_job=True, expires=False,
             binary_flag=True,
             patient_note="1か月の医療費の支払いを、上限の額（限度額）までにするための情報です。窓口での支払いが軽くなります。"),
)

CATEGORY: dict[str, Category] = {c.code: c for c in _CATEGORY_TABLE}
# Everything `decide` can be asked about, qualification first.
READ_CATEGORIES: tuple[str, ...] = tuple(CATEGORY)
# What a patient can consent to, in the order the pages list them.
CATEGORIES: tuple[str, ...] = tuple(c.code for c in _CATEGORY_TABLE if c.consentable)
CATEGORY_LABELS: dict[str, str] = {c.code: c.consent_label for c in _CATEGORY_TABLE if c.consent_label}
CATEGORY_NOTES: dict[str, str] = {c.code: c.patient_note for c in _CATEGORY_TABLE if c.consent_label}
HEADINGS: dict[str, str] = {c.code: c.heading for c in _CATEGORY_TABLE}
CLINICAL_CATEGORIES: frozenset[str] = frozenset(c.code for c in _CATEGORY_TABLE if c.licensed_only)
# What a client-credentials token may read at most.
LIMITED_CLIENT_CATEGORIES: frozenset[str] = frozenset(c.code for c in _CATEGORY_TABLE if c.system_job)
# Consent categories without expiry (限度額): readable, by every role it allows, until revoked.
NOT_EXPIRING: frozenset[str] = frozenset(c.code for c in _CATEGORY_TABLE if c.consentable and not c.expires)
# Consent categories whose flag is 0 or 1 only (限度額, OQSCD001): never 2, not even once ended.
BINARY_FLAG: frozenset[str] = frozenset(c.code for c in _CATEGORY_TABLE if c.consentable and c.binary_flag)
# The scope a token needs for each read category (today each scope is named as its category, but
# `decide` goes through this mapping rather than relying on it).
SCOPE_OF_CATEGORY: dict[str, str] = {c.code: c.scope for c in _CATEGORY_TABLE}
# What each part of a category's data is called where it is shown (the real interface's item
# names): the console's sub-headings of 診療・アレルギー・検査, 手術・傷病名・感染症 and 薬剤情報's two sources.
PART_HEADINGS: dict[str, str] = {
    "drug_allergies": "薬剤アレルギー等", "other_allergies": "その他アレルギー等", "labs": "検査",
    "diagnoses": "傷病名", "procedures": "手術", "infections": "感染症",
    "prescription": "電子処方箋の処方・調剤情報", "claims": "レセプトによる薬剤情報",
}


def label(category: str) -> str:
    """The patient's word for a read category (their read log): the consent label, 資格情報."""
    found = CATEGORY[category]
    return found.consent_label or found.heading


# --- OAuth scopes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    name: str
    label: str
    # The read category it opens; None for the consent list and the batch inquiry.
    category: str | None = None
    # A client-credentials token may be granted it.
    system_job: bool = False


CONSENTS_SCOPE = "consents"
BATCH_SCOPE = "batch"
# The event feed (GET /api/v1/events): what changed, never personal data, so a system job may hold it.
EVENTS_SCOPE = "events"


def _category_scope(code: str) -> Scope:
    category = CATEGORY[code]
    return Scope(category.scope, category.heading, category.code, category.system_job)


# In the order clients, tokens and the OpenAPI document list them.
_SCOPE_TABLE: tuple[Scope, ...] = (
    Scope(CONSENTS_SCOPE, "同意取得済み患者一覧", system_job=True),
    *(_category_scope(code) for code in (QUALIFICATION, "limit", "specific_disease", "drug", "checkup", "clinical",
                                         "surgery")),
    Scope(BATCH_SCOPE, "一括照会", system_job=True),
    Scope(EVENTS_SCOPE, "変更の通知（イベント）", system_job=True),
)

SCOPE: dict[str, Scope] = {s.name: s for s in _SCOPE_TABLE}
SCOPES: tuple[str, ...] = tuple(SCOPE)
SCOPE_LABELS: dict[str, str] = {s.name: s.label for s in _SCOPE_TABLE}
# Scopes whose data only licensed staff may read, whatever the token says.
CLINICAL_SCOPES: frozenset[str] = frozenset(SCOPE_OF_CATEGORY[c] for c in CLINICAL_CATEGORIES)
# A system job has no person behind it: never clinical data, never billing certificates beyond
# the qualification and limit.
CLIENT_CREDENTIALS_SCOPES: frozenset[str] = frozenset(s.name for s in _SCOPE_TABLE if s.system_job)


# --- care settings (診療区分), as the real interface numbers them --------------------------------

OUTPATIENT, HOME_VISIT, ONLINE_CARE = 1, 2, 3
CARE_SETTINGS: dict[int, str] = {OUTPATIENT: "外来", HOME_VISIT: "訪問診療等", ONLINE_CARE: "オンライン診療等"}
# Settings whose window is "consent time until the end of the day after the consultation date":
# online consultations and the outpatient alternative flow. Home visits carry the first visit's
# consent over while the relationship lasts; they are refused until their rules are built.
WINDOWED_CARE_SETTINGS: frozenset[int] = frozenset({OUTPATIENT, ONLINE_CARE})
# A house call (往診) is recorded as care setting 2 with house_call true, but windowed like 1 and 3:
# qualification and consent at every visit, until the end of the day after it (docs/sources.md [000]).
HOUSE_CALL_LABEL = "往診"


def care_setting_label(care_setting: int, house_call: bool = False) -> str:
    """What the console shows for a consent's setting: 外来, 訪問診療等, 往診 or オンライン診療等."""
    return HOUSE_CALL_LABEL if house_call else CARE_SETTINGS[care_setting]


# --- institution functions (環境設定) and reception URLs (one per entry point) -------------------

# Which functions an institution has switched on, as the real system's 環境設定 names them.
FUNCTION_HOME_VISIT, FUNCTION_ONLINE, FUNCTION_MEDICAL_AID = "home_visit", "online", "medical_aid"
FUNCTIONS: dict[str, str] = {
    FUNCTION_HOME_VISIT: "訪問診療等", FUNCTION_ONLINE: "オンライン診療等・外来診療等", FUNCTION_MEDICAL_AID: "医療扶助",
}


@dataclass(frozen=True)
class ReceptionSetting:
    """One entry point of the reception: its own URL and QR (reception_urls in the sandbox)."""

    name: str
    label: str
    care_setting: int
    # The function (環境設定) that must be on for the URL to answer.
    function: str
    house_call: bool = False
    # On the institution's own tablet (a staff member signs in, 「受付モード」), not the patient's phone.
    tablet: bool = True


RECEPTION_ONLINE = "online"
_RECEPTION_TABLE: tuple[ReceptionSetting, ...] = (
    ReceptionSetting(RECEPTION_ONLINE, "オンライン診療等（患者さんのスマートフォン）", ONLINE_CARE, FUNCTION_ONLINE,
                     tablet=False),
    ReceptionSetting("outpatient", "外来（医療機関等のタブレット）", OUTPATIENT, FUNCTION_ONLINE),
    ReceptionSetting("home_visit", "訪問診療等（医療機関等のタブレット）", HOME_VISIT, FUNCTION_HOME_VISIT),
    ReceptionSetting("house_call", "往診（医療機関等のタブレット）", HOME_VISIT, FUNCTION_HOME_VISIT, house_call=True),
)
RECEPTION_SETTINGS: dict[str, ReceptionSetting] = {s.name: s for s in _RECEPTION_TABLE}


# --- 資格有効性 (OQSCD006), the validity a qualification inquiry answers ---------------------------

VALID = 1
INVALID = 2
INVALID_NEWER = 3  # the card's qualification is lost, and a newer one exists
NO_QUALIFICATION = 4
SEVERAL_MATCH = 5  # health insurance only
VALID_UNREGISTERED = 6  # medical aid only: valid, but this institution holds no ticket (未委託)
# The real table's punctuation (integrations/oqs/codes.py).
VALIDITY: dict[int, str] = {
    VALID: "有効",
    INVALID: "無効",
    INVALID_NEWER: "無効（新しい資格あり）",
    NO_QUALIFICATION: "該当資格なし",
    SEVERAL_MATCH: "複数該当",
    VALID_UNREGISTERED: "有効（未登録）",
}
VALID_CODES: frozenset[int] = frozenset({VALID, VALID_UNREGISTERED})


# --- consent status and revocation --------------------------------------------------------------

# Only active and revoked are stored; expired is computed from now.
STATUS_ACTIVE = "active"
STATUS_EXPIRED = "expired"
STATUS_REVOKED = "revoked"
# What the pharmacy and the patient see.
STATUS_LABELS: dict[str, str] = {STATUS_ACTIVE: "有効", STATUS_EXPIRED: "同意有効期限切れ", STATUS_REVOKED: "取消"}
# The console list's 「同意」 column: worded apart from the 「資格」 column's 有効/無効 (issue 33), so
# a glance cannot mistake a valid consent for a valid qualification.
CONSENT_LIST_LABELS: dict[str, str] = {STATUS_ACTIVE: "同意あり", STATUS_EXPIRED: "同意期限切れ",
                                       STATUS_REVOKED: "同意取消"}

# 取消 reasons as the real system numbers them.
BY_INSTITUTION, BY_PATIENT, USE_CHANGED = 1, 2, 3
REVOCATION_REASONS: dict[int, str] = {
    BY_INSTITUTION: "医療機関等による取消", BY_PATIENT: "患者による取消", USE_CHANGED: "利用目的の変更",
}


# --- per-category consent state, as the real interface reports it ------------------------------

# 同意フラグ per category, as the real interface's code table (OQSCD016) numbers them. Its 3
# (同意取得困難) is set by the real emergency interface (救急時) only, which this service does not
# have: no consent here ever reports it, so it is neither a code nor a label of this service.
FLAG_NONE, FLAG_CONSENTED, FLAG_ENDED = 0, 1, 2
CONSENT_FLAGS: dict[int, str] = {
    FLAG_NONE: "同意なし", FLAG_CONSENTED: "同意あり", FLAG_ENDED: "同意有効期限切れ",
}
# The same flags in the patient's plain words (同意照会・更新).
CONSENT_FLAGS_PLAIN: dict[int, str] = {
    FLAG_NONE: "同意していません", FLAG_CONSENTED: "同意しています", FLAG_ENDED: "終了しました",
}
# 同意有効期限切れ理由: 0 the window or relationship ended; 1-3 are the revocation reasons.
REASON_EXPIRY = 0
EXPIRY_REASONS: dict[int, str] = {REASON_EXPIRY: "期限到来", **REVOCATION_REASONS}
# What an institution may give when it ends a consent (1 e.g. 訪問終了; 3 利用目的の変更).
INSTITUTION_REVOCATION_REASONS: dict[int, str] = {
    code: REVOCATION_REASONS[code] for code in (BY_INSTITUTION, USE_CHANGED)
}
# A category outside the consent (never consented to): the console's words, and the read decision's.
NOT_CONSENTED_LABEL = "同意の対象外"
# How pages word a category that ended by someone's act (expiry reasons 1-3), e.g. a revoked 限度額
# (flag 0): 「取消（患者による取消）」.
REVOKED_LABEL = "取消"

# 項目ごとの同意 (2025): the items the real consent result reports beside the categories, each with
# its flag, consent time and available-until time, and the category the patient chose that covers
# it (docs/domain.md, "Per-item consent"). In the order the console lists them.
CONSENT_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("disease", "傷病名", "surgery"),
    ("infection", "感染症", "surgery"),
    ("other_allergy", "その他アレルギー等", "clinical"),
    ("drug_allergy", "薬剤アレルギー等", "clinical"),
    ("lab", "検査", "clinical"),
    ("prescription", "処方情報", "drug"),
)
ITEMS: tuple[str, ...] = tuple(code for code, _, _ in CONSENT_ITEMS)
ITEM_LABELS: dict[str, str] = {code: label for code, label, _ in CONSENT_ITEMS}
CATEGORY_OF_ITEM: dict[str, str] = {code: category for code, _, category in CONSENT_ITEMS}
# 閲覧期限 of a category without expiry.
NO_EXPIRY_LABEL = "期限なし"


# --- institution kinds (医療機関等の種別), from the institution code's 点数表番号 ------------------


@dataclass(frozen=True)
class InstitutionKind:
    """What an institution is: it fixes the words its pages use and the functions it may run."""

    code: str
    # The 点数表番号, the code's third digit (1 医科, 3 歯科, 4 調剤, 6 訪問看護).
    table: int
    # The operator's word for the kind (`institution list`).
    label: str
    # How the patient's pages and the refusals name the place: 「薬局」 or 「医療機関」.
    place: str
    # The console's title.
    console_title: str
    # The licensed role's label (its code stays `pharmacist` for compatibility).
    licensed_label: str
    # The functions (環境設定) this kind may run; a visiting-nurse station only visits.
    functions: frozenset[str]
    # What refusals call an institution of this kind (「訪問看護ステーションでは…」).
    name: str


KIND_PHARMACY, KIND_CLINIC, KIND_DENTAL, KIND_VISITING_NURSE = "pharmacy", "clinic", "dental", "visiting_nurse"
_ALL = frozenset({FUNCTION_HOME_VISIT, FUNCTION_ONLINE, FUNCTION_MEDICAL_AID})
_KIND_TABLE: tuple[InstitutionKind, ...] = (
    InstitutionKind(KIND_PHARMACY, 4, "調剤", "薬局", "薬局コンソール", "薬剤師", _ALL, "薬局"),
    InstitutionKind(KIND_CLINIC, 1, "医科", "医療機関", "医療機関コンソール", "医師", _ALL, "医科の医療機関"),
    InstitutionKind(KIND_DENTAL, 3, "歯科", "医療機関", "医療機関コンソール", "歯科医師", _ALL, "歯科の医療機関"),
    # 居宅同意取得型 at the patient's home (docs/domain.md); medical aid's 訪問看護 tickets (診療別 05).
    InstitutionKind(KIND_VISITING_NURSE, 6, "訪問看護", "医療機関", "医療機関コンソール", "看護師",
                    frozenset({FUNCTION_HOME_VISIT, FUNCTION_MEDICAL_AID}), "訪問看護ステーション"),
)
INSTITUTION_KINDS: dict[str, InstitutionKind] = {k.code: k for k in _KIND_TABLE}
KIND_OF_TABLE: dict[int, str] = {k.table: k.code for k in _KIND_TABLE}
DEFAULT_KIND = KIND_PHARMACY
# The console's title before anyone signs in (the sign-in page serves every kind).
CONSOLE_TITLE_ANY = "医療機関等コンソール"


def kind_of_code(institution_code: str) -> str:
    """The kind an institution code names by its 点数表番号 (third digit); ValueError for another digit."""
    try:
        return KIND_OF_TABLE[int(institution_code[2])]
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"{institution_code!r} has no known table digit (1, 3, 4 or 6)") from None


# --- staff roles, as the patient's read log and the console name them ---------------------------
ROLE_LABELS: dict[str, str] = {"pharmacist": "薬剤師", "clerk": "事務", "admin": "管理者"}


def role_label(role: str, kind: str = DEFAULT_KIND) -> str:
    """A role's label at an institution of this kind: the licensed role is 薬剤師, 医師, 歯科医師 or 看護師."""
    if role == "pharmacist":
        return INSTITUTION_KINDS[kind].licensed_label
    return ROLE_LABELS[role]
# Said after a licensed role where a role is chosen (「管理」's staff list): who may read clinical data.
LICENSED_NOTE = "（有資格者）"
# What each role may do, said where an admin chooses one (「管理」's 職員: there is no default role).
ROLE_HELP: dict[str, str] = {
    "pharmacist": "有資格者です。同意を得た患者さんの資格情報に加え、薬剤情報・特定健診情報・診療情報などを閲覧できます。",
    "clerk": "受付の事務です。資格情報・特定疾病療養受療証・限度額を閲覧できます。薬剤情報などの診療に関する情報は閲覧できません。",
    "admin": "「管理」（受付URL・職員・予約・API連携・環境設定・監査ログ）を使えます。閲覧できる情報は事務と同じです（薬剤情報などは閲覧できません）。",
}


# --- insurance keys (保険証の記号・番号等), in the order staff read them off the card -------------
INSURANCE_KEY_LABELS: dict[str, str] = {
    "insurer_number": "保険者番号", "symbol": "記号", "number": "番号", "branch": "枝番", "birth_date": "生年月日",
}
REFERENCE_NUMBER_LABEL = "照会番号"


# --- 一括照会 (batch inquiry): one result per row ------------------------------------------------

BATCH_VALID, BATCH_INVALID, BATCH_ERROR = "有効", "無効", "エラー"
BATCH_STATUSES: tuple[str, ...] = (BATCH_VALID, BATCH_INVALID, BATCH_ERROR)


# --- 災害時特別措置 (the disaster measure) ------------------------------------------------------

# What staff read of a person found without the card (docs/sources.md [003], slide 13: 薬剤情報・特定健診情報,
# with the qualification that identifies them), in the order the page shows them.
DISASTER_CATEGORIES: tuple[str, ...] = (QUALIFICATION, "drug", "checkup")
# The consent kind staff record before such a read, as the real 災害時 screen offers it. (The
# interface's flag 3 同意取得困難 is the emergency interface's, not this screen's.)
DISASTER_ORAL, DISASTER_NONE = "oral", "none"
DISASTER_CONSENT_KINDS: dict[str, str] = {
    DISASTER_ORAL: "口頭で同意を得た", DISASTER_NONE: "同意なし",
}
# Kinds recorded before the depth release, read as today's: audit entries are hash-chained and
# never rewritten, so an entry's "difficult" stays as written and is shown as 「同意なし」.
DISASTER_LEGACY_KINDS: dict[str, str] = {"difficult": DISASTER_NONE}


def disaster_consent_kind(recorded: str | None) -> str | None:
    """The consent kind of a disaster read as recorded in its audit entry, in today's codes."""
    return DISASTER_LEGACY_KINDS.get(recorded or "", recorded)


# The console page's name (and its menu entry), and how the patient's read log names such a read.
DISASTER_READ_HEADING = "災害時閲覧"
DISASTER_READ_LABEL = "災害時特別措置による閲覧"


# --- what the patient is told at reception (plain words, one place) ----------------------------

# How long the institution may look, stated on every page of an entry point before and after the
# card (issue 36): each care setting its own. {days}: the institution's home_visit_lapse_days, when
# it sets any; without (the default) a relationship lasts until 訪問終了 or the patient's 取消.
PERIOD_WINDOWED = "同意した時から、診療日の翌日の終わり（23時59分）までです。"
PERIOD_HOME_VISIT = ("訪問診療等が続くあいだです。訪問の記録がないまま{days}日たつと終わります。"
                     "訪問診療等が終わったときや、同意を取り消したときも終わります。")
PERIOD_HOME_VISIT_NO_LAPSE = ("訪問診療等が続くあいだです。訪問診療等が終わったときや、"
                              "同意を取り消したときに終わります。")
PERIOD_QUALIFICATION_ONLY = "提供するのは健康保険の資格情報だけです。お薬などの情報は提供しません。"
# The lapse rule in staff words (「管理」→「環境設定」, 「訪問患者」): the project's own rule, off unless set.
LAPSE_RULE_NONE = "訪問が途絶えても同意は失効しません。訪問終了を記録するか、患者さんが取り消すまで続きます。"
LAPSE_RULE_DAYS = ("最後の訪問日から{days}日間、訪問の記録がないと同意は終了します"
                   "（このサービス独自の決まりです）。")


def lapse_rule_text(days: int | None) -> str:
    """What the institution's home_visit_lapse_days means, in staff words."""
    return LAPSE_RULE_NONE if days is None else LAPSE_RULE_DAYS.format(days=days)


def home_visit_period(days: int | None) -> str:
    """How long a home-visit relationship lets the institution look, in the patient's words."""
    return PERIOD_HOME_VISIT_NO_LAPSE if days is None else PERIOD_HOME_VISIT.format(days=days)


# Where the card goes (the card-read pages): the patient's phone, or the institution's tablet.
CARD_POSITION_PHONE = "スマートフォンの背面"
CARD_POSITION_TABLET = "タブレットの背面（読み取り位置）"
# ... or, at a 資格確認限定型 institution, its own device at the counter (a PC's card reader, a
# tablet's or smartphone's reading spot; docs/sources.md [000] 「マイナ資格確認アプリ」).
CARD_POSITION_COUNTER = "この端末の読み取り位置（カードリーダー）"
# After 「同意登録が完了しました」 when no appointment time is known.
NEXT_STEP_WAIT = "薬局・医療機関からの連絡をお待ちください。"
# ... on the institution's tablet, where the patient stands at its counter.
NEXT_STEP_TABLET = "このあとは、職員がご案内します。"


# --- how the patient was identified at the card read (the consent's `verification`) -----------

# The card's PIN (user verification), or 目視確認: since October 2024 the institution's device
# (マイナ資格確認アプリ（居宅同意取得型）) may compare the card's face photo with the patient instead
# of the PIN - on the tablet for 訪問診療等 and 往診 only (web/patient/reception_photo.py).
VERIFICATION_PIN, VERIFICATION_PHOTO = "pin", "photo"
VERIFICATIONS: dict[str, str] = {VERIFICATION_PIN: "暗証番号", VERIFICATION_PHOTO: "目視確認"}
# The tablet's way into the photo check, and the staff member's confirmation (docs/domain.md, 「The photo check」).
PHOTO_CHECK_LABEL = "暗証番号を使わずに確認（目視確認）"
PHOTO_CONFIRMED_LABEL = "本人であることを確認しました"


# --- 資格確認限定型 (qualification-only institutions) ------------------------------------------

# The mode's name, as docs/sources.md [000] and [001] write it (console, operator output).
QUALIFICATION_ONLY_LABEL = "資格確認限定型"
# What a qualification-only confirmation shared, where a consent would list its categories.
CONFIRMATION_ONLY_LABEL = "資格確認のみ"
# The console's name for such a confirmation where a consent names its 診療区分 (it has none to show:
# the institution's device at the counter read the card, issue 38).
CONFIRMATION_LABEL = "資格確認"
# A confirmation is stored as a windowed consent of this care setting (the counter); no page shows it.
CONFIRMATION_CARE_SETTING = OUTPATIENT


# --- 資格確認書 (the qualification certificate): how a consent's qualification was confirmed ------

# A consent's `source`: the card read (マイナンバーカード), or a 資格確認書's numbers typed by staff.
# A 資格確認書 confirms the qualification and grants no data (docs/domain.md).
SOURCE_CARD, SOURCE_CERTIFICATE = "card", "certificate"
SOURCES: dict[str, str] = {SOURCE_CARD: "マイナンバーカード", SOURCE_CERTIFICATE: "資格確認書"}
# The staff's button on the tablet and in 「訪問患者」.
CERTIFICATE_ACTION = "資格確認書で確認"
# How the console's lists name such a confirmation where a consent lists its categories.
CERTIFICATE_LABEL = "資格確認書で確認（資格情報のみ）"
# What a 資格確認書 confirmation shows instead of data (its heading: the drug section's and more), and why.
CERTIFICATE_NO_DATA_HEADING = f"{HEADINGS['drug']}など"
CERTIFICATE_NO_DATA = "資格確認書での確認では薬剤情報などは閲覧できません"
CERTIFICATE_NO_DATA_WHY = ("資格確認書は健康保険の資格を確かめるためのものです。薬剤情報や特定健診情報などの提供への同意は、"
                           "マイナンバーカードでしか行えません。")


# --- events: what a pharmacy system hears about (GET /api/v1/events, webhooks) ------------------

EVENT_CONSENT_REGISTERED = "consent.registered"
EVENT_CONSENT_UPDATED = "consent.updated"
EVENT_CONSENT_REVOKED = "consent.revoked"
EVENT_CONSENT_EXPIRED = "consent.expired"
EVENT_VISIT_RECORDED = "visit.recorded"
EVENT_RELATIONSHIP_ENDED = "relationship.ended"
EVENT_MODE_CHANGED = "institution.mode_changed"
# In the order the console and the OpenAPI document list them, with the console's words.
EVENT_TYPES: dict[str, str] = {
    EVENT_CONSENT_REGISTERED: "同意の登録",
    EVENT_CONSENT_UPDATED: "同意項目の変更",
    EVENT_CONSENT_REVOKED: "同意の取消",
    EVENT_CONSENT_EXPIRED: "閲覧期限の到来（訪問診療等の同意の期限切れを含む）",
    EVENT_VISIT_RECORDED: "訪問の記録",
    EVENT_RELATIONSHIP_ENDED: "訪問診療等の同意の終了",
    EVENT_MODE_CHANGED: "資格確認限定型の切り替え",
}


# --- 都道府県 (prefecture codes, the first two digits of an institution code) ----------------------

# A disaster's area is named by them; the simulator's addresses and insurers use them too.
PREFECTURES: dict[int, str] = {
    1: "北海道", 2: "青森県", 3: "岩手県", 4: "宮城県", 5: "秋田県", 6: "山形県", 7: "福島県",
    8: "茨城県", 9: "栃木県", 10: "群馬県", 11: "埼玉県", 12: "千葉県", 13: "東京都", 14: "神奈川県",
    15: "新潟県", 16: "富山県", 17: "石川県", 18: "福井県", 19: "山梨県", 20: "長野県", 21: "岐阜県",
    22: "静岡県", 23: "愛知県", 24: "三重県", 25: "滋賀県", 26: "京都府", 27: "大阪府", 28: "兵庫県",
    29: "奈良県", 30: "和歌山県", 31: "鳥取県", 32: "島根県", 33: "岡山県", 34: "広島県", 35: "山口県",
    36: "徳島県", 37: "香川県", 38: "愛媛県", 39: "高知県", 40: "福岡県", 41: "佐賀県", 42: "長崎県",
    43: "熊本県", 44: "大分県", 45: "宮崎県", 46: "鹿児島県", 47: "沖縄県",
}


# --- 「管理」's 監査ログ: what each audit event (consent/audit.py EVENTS) is called -----------------
AUDIT_EVENT_LABELS: dict[str, str] = {
    "consent_registered": "同意登録", "consent_updated": "同意の変更", "consent_revoked": "同意の取消",
    "consent_use_changed": "利用目的の変更による終了", "visit_recorded": "訪問の記録",
    "read_allowed": "閲覧", "read_denied": "閲覧できず", "action_refused": "操作を拒否",
    "person_searched": "患者の検索", "institution_mode_changed": "資格確認限定型の切替",
    "disaster_declared": "災害の宣言", "disaster_ended": "災害の終了", "audit_keyed": "監査ログの鍵付け開始",
    "staff_added": "職員の追加", "staff_disabled": "職員の利用停止", "staff_enabled": "職員の利用再開",
    "staff_password_reset": "パスワード再発行", "staff_role_changed": "役割の変更",
    "reception_url_rotated": "受付URLの変更", "settings_changed": "環境設定の変更", "appointment_changed": "予約の変更",
}
AUDIT_GROUP_LABELS: dict[str, str] = {"read": "閲覧", "consent": "同意・訪問", "search": "患者の検索",
                                      "admin": "管理の操作"}
AUDIT_DECISION_LABELS: dict[str, str] = {"allowed": "閲覧できた", "denied": "閲覧できなかった"}
APPOINTMENT_CHANGE_LABELS: dict[str, str] = {"added": "追加", "updated": "変更", "deleted": "削除"}
