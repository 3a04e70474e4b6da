"""What a patient can consent to, and which of it only licensed staff may see.

The codes are the glossary's English names (DESIGN.md section 2); the labels are the words the
patient sees on the reception pages and must stay exactly as the real system writes them.
"""
from __future__ import annotations

from collections.abc import Iterable

CATEGORIES: tuple[str, ...] = ("drug", "checkup", "clinical", "surgery", "specific_disease", "limit")

CATEGORY_LABELS: dict[str, str] = {
    "drug": "薬剤・処方",
    "checkup": "特定健診",
    "clinical": "診療・アレルギー・検査",
    "surgery": "手術・傷病名・感染症",
    "specific_disease": "特定疾病療養受療証",
    "limit": "限度額",
}

# Only 有資格者 (licensed staff) may view these (seed 003 slide 12); the other two are billing data.
CLINICAL_CATEGORIES: frozenset[str] = frozenset({"drug", "checkup", "clinical", "surgery"})

# Not a consent category: the qualification confirmed at reception is the institution's billing
# record, readable by every role while any consent of that person exists there, even after the
# window (DESIGN.md section 5).
QUALIFICATION = "qualification"
QUALIFICATION_LABEL = "資格情報"

# Everything `decide` can be asked about.
READ_CATEGORIES: tuple[str, ...] = (QUALIFICATION, *CATEGORIES)

# What a client-credentials token (a system job, no person behind it) may read at most.
LIMITED_CLIENT_CATEGORIES: frozenset[str] = frozenset({QUALIFICATION, "limit"})

# 診療区分 (care settings) as the real interface numbers them.
CARE_SETTINGS: dict[int, str] = {1: "外来", 2: "訪問診療等", 3: "オンライン診療等", 4: "救急時"}
ONLINE_CARE = 3
# Settings whose window is "consent time until the end of the day after the consultation date":
# online consultations (3) and the outpatient alternative flow (1). Home visits (2) carry the
# first visit's consent over while the relationship lasts and emergencies (4) need no patient
# consent on this site; both are refused until their rules are built.
WINDOWED_CARE_SETTINGS: frozenset[int] = frozenset({1, 3})


def label(category: str) -> str:
    """The Japanese label of a read category (consent categories and 資格情報)."""
    if category == QUALIFICATION:
        return QUALIFICATION_LABEL
    return CATEGORY_LABELS[category]


def normalize(categories: Iterable[str]) -> tuple[str, ...]:
    """Deduplicate and order categories as CATEGORIES does; unknown ones raise ValueError."""
    chosen = set(categories)
    unknown = chosen - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories: {sorted(unknown)}")
    return tuple(c for c in CATEGORIES if c in chosen)

# 同意フラグ per category, as the real interface's code table numbers them.
FLAG_NONE, FLAG_CONSENTED, FLAG_ENDED, FLAG_DIFFICULT = 0, 1, 2, 3
CONSENT_FLAGS: dict[int, str] = {
    FLAG_NONE: "同意なし", FLAG_CONSENTED: "同意あり", FLAG_ENDED: "同意有効期限切れ", FLAG_DIFFICULT: "同意取得困難",
}
# 同意有効期限切れ理由: 0 the window or relationship ended; 1-3 are the revocation reasons.
REASON_EXPIRY = 0
EXPIRY_REASONS: dict[int, str] = {
    REASON_EXPIRY: "期限到来", 1: "医療機関等による取消", 2: "患者による取消", 3: "利用目的の変更",
}
# Reasons an institution may give when it ends a consent (訪問終了 etc. is 1; 利用目的の変更 is 3).
INSTITUTION_REVOCATION_REASONS: frozenset[int] = frozenset({1, 3})
# Billing data with a flag and a consent time but no expiry (DESIGN.md section 5).
NOT_EXPIRING: frozenset[str] = frozenset({"limit"})
# The same flags in the patient's plain words (同意照会・更新).
CONSENT_FLAGS_PLAIN: dict[int, str] = {
    FLAG_NONE: "同意していません", FLAG_CONSENTED: "同意しています", FLAG_ENDED: "終了しました",
    FLAG_DIFFICULT: "同意取得困難",
}
NO_EXPIRY_LABEL = "期限なし"
