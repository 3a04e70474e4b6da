"""Check digits (検証番号) of insurer numbers, public payer and recipient numbers, and
institution codes, as the MHLW numbering rules (保険者番号、公費負担者番号、公費負担医療の
受給者番号並びに医療機関コード及び薬局コード設定要領) define them.

One algorithm serves all of them: multiply the digits by 2 and 1 alternately, starting with
2 on the last digit; add the digits of each product (12 counts as 1 + 2); the check digit is
10 minus the last digit of the sum, or 0 when that last digit is 0.

What differs is the body it runs over:

- 保険者番号 (8 digits): the first 7 (法別番号 2 + 都道府県番号 2 + 保険者別番号 3).
  MHLW's worked example: 0613048 -> 8; 警察共済組合千葉県支部 3312001 -> 33120015.
- 国民健康保険 (6 digits): the first 5 (都道府県番号 2 + 保険者別番号 3).
- 公費負担者番号 (8 digits): the first 7, like an insurer number; 受給者番号 (7 digits): the first 6.
- 医療機関コード / 薬局コード (10 digits): the first 9 — 都道府県番号 2 + 点数表番号 1 +
  郡市区番号 2 + 医療機関(薬局)番号 4. The prefecture and table digits are part of the body
  (第4-5 of the rules: 34 1 07 1236 -> 2), which is why a code is checked as 10 digits and not
  as its printed 7. Real examples: 0110113719, 3618010015 (徳島大学病院).
"""
from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: \d would accept full-width digits


def check_digit(body: str) -> int:
    """The modulus-10, weights-2-1-from-the-right check digit of a string of digits."""
    if not body or not _DIGITS.fullmatch(body):
        raise ValueError(f"check digits are computed over digits only, not {body!r}")
    total = 0
    for position, char in enumerate(reversed(body)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _valid(number: str, length: int) -> bool:
    return (
        isinstance(number, str)
        and len(number) == length
        and _DIGITS.fullmatch(number) is not None
        and check_digit(number[:-1]) == int(number[-1])
    )


def with_check_digit(body: str) -> str:
    """`body` followed by its check digit."""
    return body + str(check_digit(body))


def is_valid_insurer_number(number: str) -> bool:
    """An 8-digit insurer number, or a 6-digit national health insurance one, with a valid check digit."""
    if isinstance(number, str) and len(number) == 6:
        return _valid(number, 6)
    return _valid(number, 8)


def is_late_elderly(number: str) -> bool:
    """後期高齢者医療 insurer numbers start with 法別番号 39."""
    return len(number) == 8 and number.startswith("39")


def is_public_payer_for_welfare(number: str) -> bool:
    """生活保護 (medical aid) public payer numbers start with 法別番号 12."""
    return len(number) == 8 and number.startswith("12")


def make_insurer_number(*, law: int, prefecture: int, serial: int) -> str:
    """An 8-digit insurer number: 法別番号 + 都道府県番号 + 保険者別番号 + check digit."""
    _check_range("law", law, 1, 99)
    _check_range("prefecture", prefecture, 1, 99)
    _check_range("serial", serial, 0, 999)
    return with_check_digit(f"{law:02d}{prefecture:02d}{serial:03d}")


def make_nhi_number(*, prefecture: int, serial: int) -> str:
    """A 6-digit 国民健康保険 insurer number: 都道府県番号 + 保険者別番号 + check digit."""
    _check_range("prefecture", prefecture, 1, 99)
    _check_range("serial", serial, 0, 999)
    return with_check_digit(f"{prefecture:02d}{serial:03d}")


def is_valid_public_payer_number(number: str) -> bool:
    """公費負担者番号: 8 digits, checked like an insurer number."""
    return _valid(number, 8)


def is_valid_recipient_number(number: str) -> bool:
    """公費負担医療の受給者番号: 7 digits, the 7th checking the first 6."""
    return _valid(number, 7)


def institution_check_digit(first_nine: str) -> int:
    """The 検証番号 of an institution code, computed over its first 9 digits."""
    if len(first_nine) != 9:
        raise ValueError("an institution code's check digit runs over its first 9 digits")
    return check_digit(first_nine)


def is_valid_institution_code(code: str) -> bool:
    """A 10-digit 医療機関等コード with a known 点数表番号 (1 医科, 3 歯科, 4 調剤, 6 訪問看護) and a valid check digit."""
    return _valid(code, 10) and code[2] in ("1", "3", "4", "6") and 1 <= int(code[:2]) <= 97


def make_institution_code(*, prefecture: int, table: int, serial: int) -> str:
    """A 10-digit institution code: prefecture (2), table (1), 郡市区番号 + 番号 (`serial`, 6), check digit."""
    _check_range("prefecture", prefecture, 1, 97)
    if table not in (1, 3, 4, 6):
        raise ValueError("table must be 1 (medical), 3 (dental), 4 (pharmacy) or 6 (visiting nurse)")
    _check_range("serial", serial, 0, 999_999)
    return with_check_digit(f"{prefecture:02d}{table}{serial:06d}")


def institution_table(code: str) -> int:
    """点数表番号 of an institution code: 1 医科, 3 歯科, 4 調剤, 6 訪問看護."""
    return int(code[2])


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}")
