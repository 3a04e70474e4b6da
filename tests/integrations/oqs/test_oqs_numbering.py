"""Check digits of insurer numbers and institution codes, against real published numbers."""
from __future__ import annotations

import pytest

from integrations.oqs.numbering import (
    check_digit,
    institution_check_digit,
    is_valid_institution_code,
    is_valid_insurer_number,
    is_valid_recipient_number,
    make_institution_code,
    make_insurer_number,
    make_nhi_number,
)


@pytest.mark.parametrize("number", [
    "06130488",  # MHLW numbering rules, worked example (0613048 -> 8)
    "33120015",  # 警察共済組合千葉県支部 (the example: 3312001 -> 5)
    "01130012",  # 全国健康保険協会東京支部
    "39131156",  # 東京都後期高齢者医療広域連合
    "131045",  # 新宿区 国民健康保険 (6 digits: the 6th checks the first 5)
    "131011",  # 千代田区 国民健康保険
])
def test_real_insurer_numbers_have_valid_check_digits(number):
    assert is_valid_insurer_number(number)


@pytest.mark.parametrize("number", ["33120016", "06130480", "131046", "1311", "3312001", "0113001２", "", "abcdefgh"])
def test_wrong_or_malformed_insurer_numbers_are_refused(number):
    assert not is_valid_insurer_number(number)


def test_check_digit_follows_the_rule_step_by_step():
    # 3 3 1 2 0 0 1 times 2 1 2 1 2 1 2 from the right: 6+3+2+2+0+0+2 = 15 -> 10 - 5 = 5
    assert check_digit("3312001") == 5
    # Two-digit products count by their digits: 9*2 = 18 -> 1+8
    assert check_digit("9") == 1
    # A sum ending in 0 gives 0, not 10
    assert check_digit("0000000") == 0


@pytest.mark.parametrize("code", [
    "3410712362",  # MHLW rules 第4-5 worked example: 34 1 07 1236 -> 2
    "0110113719",  # published example of a 10-digit 医療機関コード
    "3618010015",  # 徳島大学病院 (医療機関コード 80-1001-5 in 徳島県)
])
def test_real_institution_codes_check_over_the_first_nine_digits(code):
    assert is_valid_institution_code(code)
    assert institution_check_digit(code[:9]) == int(code[9])


def test_demo_institution_code_needs_check_digit_3_by_the_official_rule():
    # Checked over the 7 digits alone (123456 -> 6) it looks right, but the rule includes
    # the prefecture (13) and the table (4): 134123456 -> 3.
    assert not is_valid_institution_code("1341234566")
    assert is_valid_institution_code("1341234563")
    assert make_institution_code(prefecture=13, table=4, serial=123456) == "1341234563"


def test_institution_codes_need_a_known_table_and_ten_digits():
    assert not is_valid_institution_code("1321234569")  # 点数表番号 2 is not 医科/歯科/調剤
    assert not is_valid_institution_code("134123456")
    with pytest.raises(ValueError):
        make_institution_code(prefecture=13, table=2, serial=1)


def test_made_numbers_are_valid():
    assert make_insurer_number(law=39, prefecture=13, serial=115) == "39131156"
    assert make_nhi_number(prefecture=13, serial=104) == "131045"
    assert is_valid_recipient_number("4581930")
    assert not is_valid_recipient_number("4581931")
