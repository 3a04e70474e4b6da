"""Checking the insurance keys typed at a counter or uploaded in a batch list.

Input is normalised the way pharmacy staff type it (full-width digits, stray spaces); a field
that is still wrong is reported by a problem code and the field; 一括照会 answers its reason text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from consent.vocabulary import INSURANCE_KEY_LABELS as _LABELS, REFERENCE_NUMBER_LABEL
from integrations.oqs.errors import OQSError
from integrations.oqs.numbering import (
    is_late_elderly,
    is_public_payer_for_welfare,
    is_valid_insurer_number,
    is_valid_recipient_number,
)

_SPACES = re.compile(r"[\s\u3000]+")
_ALNUM = re.compile(r"[0-9A-Za-z]+")
# 照会番号: one limit for the console form, the batch CSV, the API and the OQS table (String(16)).
REFERENCE_NUMBER_MAX = 16
_REFERENCE = re.compile(rf"[0-9A-Za-z\-]{{1,{REFERENCE_NUMBER_MAX}}}")
_DIGITS = re.compile(r"[0-9]+")
_DATE_FORMATS = (re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"), re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
                 re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"))


# What 一括照会 answers for a malformed key, by problem code: the simulated OQS's own reason text
# (its answer, like 有効/無効). A re-inquiry raises InvalidInput with the code instead.
KEY_PROBLEMS: dict[str, str] = {
    "birth_date_missing": "生年月日が入力されていません。",
    "birth_date_format": "生年月日はYYYY-MM-DDまたはYYYYMMDDの形式で入力してください。",
    "birth_date_nonexistent": "生年月日が存在しない日付です。",
    "birth_date_future": "生年月日が未来の日付です。",
    "birth_date_too_old": "生年月日が古すぎます。",
    "insurer_number_missing": "保険者番号が入力されていません。",
    "insurer_number_format": "保険者番号は6桁または8桁の数字で入力してください。",
    "insurer_number_check_digit": "保険者番号の検証番号が正しくありません。",
    "symbol_missing": "記号が入力されていません。",
    "symbol_too_long": "記号は38文字以内で入力してください。",
    "symbol_format": "記号に使えない文字が含まれています（漢字・かな・英数字とハイフンで入力してください）。",
    "symbol_not_applicable": "後期高齢者医療と医療扶助には記号がありません。記号は空欄にしてください。",
    "branch_not_applicable": "後期高齢者医療と医療扶助には枝番がありません。枝番は空欄にしてください。",
    "number_missing": "番号が入力されていません。",
    "number_format": "番号は半角英数字20文字以内で入力してください。",
    "recipient_number_check_digit": "受給者番号（7桁）の検証番号が正しくありません。",
    "branch_format": "枝番は2桁の数字で入力してください。",
    "invalid_reference_number": f"照会番号は半角英数字{REFERENCE_NUMBER_MAX}文字以内で入力してください。",
}


class InvalidInput(OQSError):
    """A malformed argument; `field` names it (as staff know it, e.g. 保険者番号) when known."""

    codes = frozenset({
        "invalid_care_setting", "invalid_institution_code", "invalid_validity", "validity_with_medical_aid",
        "birth_date_out_of_range", "born_today_lost", "entrusted_without_medical_aid", "rows_not_list",
        "invalid_month", "month_order", "future_month", "insured_without_medical_aid", "validity_with_insured",
        "insured_age_out_of_range", "not_medical_aid", *KEY_PROBLEMS,
    })


def clean(value: object) -> str:
    """NFKC (full-width to half-width) without spaces; None and numbers become text."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value)))


@dataclass
class InsuranceKeys:
    """Normalised keys of one inquiry, and the problems found (field, code of KEY_PROBLEMS)."""

    insurer_number: str = ""
    symbol: str = ""
    number: str = ""
    branch: str = ""
    birth_date: date | None = None
    reference_number: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(field, reason text) of each problem, as 一括照会 reports them."""
        return [(name, KEY_PROBLEMS[code]) for name, code in self.problems]

    @property
    def medical_aid(self) -> bool:
        return is_public_payer_for_welfare(self.insurer_number)

    @property
    def late_elderly(self) -> bool:
        return is_late_elderly(self.insurer_number)

    def error(self, field_name: str, code: str) -> None:
        self.problems.append((field_name, code))


# 記号 on real cards: kanji, kana, Latin letters and digits (after NFKC), and a few separators.
_SYMBOL_PUNCTUATION = frozenset("-・ー")


def _symbol_character(c: str) -> bool:
    category = unicodedata.category(c)
    return c in _SYMBOL_PUNCTUATION or (category[0] in ("L", "N") and category != "Nl")


def parse_birth_date(value: object, *, today: date, keys: InsuranceKeys, required: bool) -> None:
    if isinstance(value, date):
        parsed = value
    else:
        text = clean(value)
        if not text:
            if required:
                keys.error(_LABELS["birth_date"], "birth_date_missing")
            return
        match = next((m for m in (f.fullmatch(text) for f in _DATE_FORMATS) if m), None)
        if match is None:
            keys.error(_LABELS["birth_date"], "birth_date_format")
            return
        try:
            parsed = date(*(int(part) for part in match.groups()))
        except ValueError:
            keys.error(_LABELS["birth_date"], "birth_date_nonexistent")
            return
    if parsed > today:
        keys.error(_LABELS["birth_date"], "birth_date_future")
    elif parsed.year < 1900:
        keys.error(_LABELS["birth_date"], "birth_date_too_old")
    else:
        keys.birth_date = parsed


def check_keys(*, insurer_number: object, symbol: object, number: object, branch: object, birth_date: object,
               reference_number: object = None, today: date, birth_date_required: bool) -> InsuranceKeys:
    keys = InsuranceKeys()
    insurer = clean(insurer_number)
    if not insurer:
        keys.error(_LABELS["insurer_number"], "insurer_number_missing")
    elif not _DIGITS.fullmatch(insurer) or len(insurer) not in (6, 8):
        keys.error(_LABELS["insurer_number"], "insurer_number_format")
    elif not is_valid_insurer_number(insurer):
        keys.error(_LABELS["insurer_number"], "insurer_number_check_digit")
    keys.insurer_number = insurer
    # 後期高齢者 cards have no symbol and no branch; medical aid is keyed by 受給者番号 alone.
    personal = bool(insurer) and (is_late_elderly(insurer) or is_public_payer_for_welfare(insurer))

    # Every key is checked against its real character set before any lookup, whatever the
    # insurer: a junk 記号 or 枝番 (NUL, emoji, letters where a card has none) is bad input, never
    # ignored (it matched people whose 記号 is empty) nor a plain "nobody".
    symbol_text = clean(symbol)
    if symbol_text and not all(_symbol_character(c) for c in symbol_text):
        keys.error(_LABELS["symbol"], "symbol_format")
    elif len(symbol_text) > 38:
        keys.error(_LABELS["symbol"], "symbol_too_long")
    elif personal and symbol_text:
        keys.error(_LABELS["symbol"], "symbol_not_applicable")
    elif not personal and not symbol_text:
        keys.error(_LABELS["symbol"], "symbol_missing")
    if not personal:
        keys.symbol = symbol_text

    number_text = clean(number)
    if not number_text:
        keys.error(_LABELS["number"], "number_missing")
    elif not _ALNUM.fullmatch(number_text) or len(number_text) > 20:
        keys.error(_LABELS["number"], "number_format")
    elif is_public_payer_for_welfare(insurer) and not is_valid_recipient_number(number_text):
        keys.error(_LABELS["number"], "recipient_number_check_digit")
    keys.number = number_text

    branch_text = clean(branch)
    if branch_text:
        if not _DIGITS.fullmatch(branch_text) or len(branch_text) > 2:
            keys.error(_LABELS["branch"], "branch_format")
        elif personal:
            keys.error(_LABELS["branch"], "branch_not_applicable")
        else:
            keys.branch = branch_text.zfill(2)

    parse_birth_date(birth_date, today=today, keys=keys, required=birth_date_required)

    reference = clean(reference_number)
    if reference:
        if not _REFERENCE.fullmatch(reference):
            keys.error(REFERENCE_NUMBER_LABEL, "invalid_reference_number")
        else:
            keys.reference_number = reference
    return keys


def check_reference_number(value: object) -> str:
    """A reference number (照会番号) to register, or InvalidInput."""
    reference = clean(value)
    if not _REFERENCE.fullmatch(reference):
        raise InvalidInput("invalid_reference_number", field=REFERENCE_NUMBER_LABEL)
    return reference


def month_of(day: date) -> str:
    """The 診療年月 (YYYYMM) `day` falls in, as the interface's month inputs write it."""
    return f"{day.year:04d}{day.month:02d}"


def check_month(value: str | None, name: str) -> str | None:
    """A 診療年月 filter in YYYYMM (None passes); InvalidInput names the parameter in `detail`."""
    if value is None:
        return None
    text = clean(value)
    if not re.fullmatch(r"[0-9]{6}", text) or not 1 <= int(text[4:]) <= 12:
        raise InvalidInput("invalid_month", field="診療年月", detail=name)
    return text
