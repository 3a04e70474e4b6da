"""Code tables of the online qualification system (オンライン資格確認等システム).

Codes and their Japanese words follow the real interface's code tables (業務コード仕様,
OQSCD0xx) so that a pharmacy system written against the real system reads ours unchanged.
Where our earlier words and the real tables differ in punctuation, the real table wins
(e.g. full-width parentheses in 「無効（新しい資格あり）」).
"""
from __future__ import annotations

from datetime import date

# 資格有効性 (OQSCD006) and 診療区分 are the domain's vocabulary too: defined there, once.
from consent.vocabulary import (  # noqa: F401 - part of this module's code tables
    CARE_SETTINGS, HOME_VISIT, INVALID, INVALID_NEWER, NO_QUALIFICATION, SEVERAL_MATCH, VALID, VALID_CODES, VALID_UNREGISTERED,
    VALIDITY,
)

# The headline the qualification terminal shows above a result.
VALIDITY_MESSAGES = {
    VALID: "○：この資格は有効です。",
    INVALID: "×：この資格は無効です。",
    INVALID_NEWER: "×：この資格は無効です。(新しい資格があります。)",
    NO_QUALIFICATION: "×：該当する資格がありません。",
    SEVERAL_MATCH: "△：複数の資格が該当しました。",
    # Seed 004: the non-entrusted (未委託) display, character for character.
    VALID_UNREGISTERED: "○：この資格は有効です。(医療券/調剤券情報が未登録です。)",
}

# 資格喪失事由.
REASONS_OF_LOSS = {
    "01": "死亡",
    "02": "生活保護受給開始",
    "03": "医療保険等の資格取得",
    "99": "その他",
}

# 被保険者証区分 (OQSCD010) plus A1 for medical aid, with the names as of the reform of
# 2 December 2024 (the health insurance card is issued no more). 02/04 (退職者医療) ended with the
# retiree scheme in 2015, and 03 短期被保険者証 with the reform (SHORT_TERM_ABOLISHED_ON); the
# generator issues none of them for dates from then.
# Sources: the pre-reform table as `hangilc/myclinic-ts` transcribes it
# (packages/onshi-lib/onshi-codes.js, OQSCD010: 01 被保険者証（一般）, 05 被保険者資格証明書,
# 07 自衛官診療証); the post-reform names 01 一般, 05 特別療養費支給対象者, 07 自衛官 and A1 医療扶助
# from a public transcription of OQSCD001-044 (docs/domain.md, "Card classifications").
CARD_CLASSIFICATIONS = {
    "01": "一般",
    "02": "被保険者証（退職）",
    "03": "短期被保険者証（一般）",
    "04": "短期被保険者証（退職）",
    "05": "特別療養費支給対象者",
    "06": "特例退職被保険者証",
    "07": "自衛官",
    "A1": "医療扶助",
}
# From this day no new 短期被保険者証 (03) is issued: the reform abolished it with the card.
SHORT_TERM_ABOLISHED_ON = date(2024, 12, 2)
SHORT_TERM_CARD = "03"
MEDICAL_AID_CARD = "A1"

# 本人・家族の別 (OQSCD009).
RELATIONSHIPS = {"1": "本人", "2": "家族"}

# 性別 (OQSCD007).
SEXES = {"1": "男", "2": "女", "3": "未設定"}

# 照会区分 (OQSCD002).
INQUIRY_KINDS = {"1": "マイナンバーカード", "2": "被保険者証情報"}

# 限度額適用認定証区分 (OQSCD011).
LIMIT_CERTIFICATES = {
    "01": "限度額適用認定証",
    "02": "限度額適用・標準負担額減額認定証",
    "03": "標準負担額減額認定証",
}

# 限度額適用認定証適用区分 (OQSCD012): A = under 70, B = 70 and over.
LIMIT_CLASSES = {
    "A01": "ア",
    "A02": "イ",
    "A03": "ウ",
    "A04": "エ",
    "A05": "オ",
    "A06": "オ（境）",
    "B01": "現役並みⅢ",
    "B02": "現役並みⅡ",
    "B03": "現役並みⅠ",
    "B04": "一般",
    "B05": "低所得Ⅱ",
    "B06": "低所得Ⅰ",
    "B07": "低所得Ⅰ（老福）",
    "B08": "低所得Ⅰ（境）",
    "B09": "一般Ⅱ",
    "B10": "一般Ⅰ",
}

# 特定疾病療養受療証認定疾病区分 (OQSCD013).
SPECIFIC_DISEASES = {
    "1": "人工透析を必要とする慢性腎不全",
    "2": "先天性血液凝固因子障害（第VIII因子、第IX因子）",
    "3": "血液凝固因子製剤の投与に起因するHIV感染症",
}

# 医療券・調剤券別 (OQSCD018) and 単独・併用別 (OQSCD020): two-digit codes, as the real interface has them.
TICKET_TYPES = {"01": "医療券", "02": "調剤券"}
MEDICAL_TICKET, DISPENSING_TICKET = "01", "02"
AID_COMBINATIONS = {"01": "単独", "02": "併用"}
AID_ALONE, AID_COMBINED = "01", "02"
# The one-digit codes the simulator used before (API fields `ticket_type`, `combination`): kept one
# release beside the new ones for clients written against them, then removed.
LEGACY_TICKET_TYPES = {"01": "1", "02": "2"}
LEGACY_AID_COMBINATIONS = {"01": "1", "02": "2"}

# 診療別 (OQSCD019): which kind of care a ticket covers.
TICKET_CARE_KINDS = {"01": "入院", "02": "入院外", "03": "歯科", "04": "調剤", "05": "訪問看護"}

# 指定医療機関確認フラグ (OQSCD026): does the ticket's designated institution match the one asking?
DESIGNATED_INSTITUTION_CHECKS = {"0": "一致", "1": "不一致"}

# Insurer kinds the generator spreads people over (法別番号 in brackets).
INSURER_KINDS = {
    "kyokai": "協会けんぽ",  # 01
    "kumiai": "組合健保",  # 06
    "kyosai": "共済組合",  # 31-34
    "kokuho": "国民健康保険",  # 6-digit numbers
    "koki": "後期高齢者医療",  # 39
    "tokurei": "特例退職",  # 63
    "jieikan": "自衛官等",  # 07
    "medical_aid": "医療扶助",  # 公費 12
}
