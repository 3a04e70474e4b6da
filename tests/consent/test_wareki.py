"""和暦 beside Western dates, and 和暦 birth dates read for the batch inquiry: era boundaries to the day."""
from __future__ import annotations

from datetime import date

import pytest

from consent.wareki import ERAS, WarekiError, era_last_day, era_year, format_birth_date, is_wareki, parse_wareki, wareki_date


def test_a_birth_date_reads_as_the_contract_writes_it():
    assert format_birth_date(date(1954, 2, 1)) == "1954年2月1日（昭和29年）"
    assert format_birth_date(date(2019, 5, 1)) == "2019年5月1日（令和元年）"
    assert format_birth_date(date(2026, 11, 23)) == "2026年11月23日（令和8年）"


@pytest.mark.parametrize(("day", "expected"), [
    # Each era's last day and the next era's first (元年 for year 1).
    (date(1912, 7, 29), "明治45年7月29日"), (date(1912, 7, 30), "大正元年7月30日"),
    (date(1926, 12, 24), "大正15年12月24日"), (date(1926, 12, 25), "昭和元年12月25日"),
    (date(1989, 1, 7), "昭和64年1月7日"), (date(1989, 1, 8), "平成元年1月8日"),
    (date(2019, 4, 30), "平成31年4月30日"), (date(2019, 5, 1), "令和元年5月1日"),
    (date(1873, 1, 1), "明治6年1月1日"), (date(1927, 1, 1), "昭和2年1月1日"),
])
def test_era_boundaries_to_the_day(day, expected):
    assert wareki_date(day) == expected


def test_before_the_solar_calendar_there_is_no_era_date_and_the_birth_date_stays_western():
    # Before 明治6年 (1873) Japan used the lunisolar calendar: no simple era year, month and day.
    assert wareki_date(date(1872, 12, 31)) is None
    assert era_year(date(1872, 12, 31)) is None
    assert format_birth_date(date(1872, 12, 31)) == "1872年12月31日"


def test_the_table_runs_oldest_first_and_each_era_ends_the_day_before_the_next():
    assert [e.name for e in ERAS] == ["明治", "大正", "昭和", "平成", "令和"]
    assert era_last_day(ERAS[2]) == date(1989, 1, 7)
    assert era_last_day(ERAS[3]) == date(2019, 4, 30)
    assert era_last_day(ERAS[-1]) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("S29.2.1", date(1954, 2, 1)),
    ("昭和29年2月1日", date(1954, 2, 1)),
    ("R1.5.1", date(2019, 5, 1)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("H31.4.30", date(2019, 4, 30)),
    ("平成31年4月30日", date(2019, 4, 30)),
    ("昭和64年1月7日", date(1989, 1, 7)),
    ("H1.1.8", date(1989, 1, 8)),
    ("s29/02/01", date(1954, 2, 1)),  # lower case, slashes, leading zeros
    ("Ｓ２９．２．１", date(1954, 2, 1)),  # full width, as a spreadsheet may hold it
    ("昭和 29年 2月 1日", date(1954, 2, 1)),
    ("T15.12.24", date(1926, 12, 24)),
    ("M45.7.29", date(1912, 7, 29)),
])
def test_wareki_birth_dates_are_read(text, expected):
    assert is_wareki(text)
    assert parse_wareki(text) == expected


@pytest.mark.parametrize(("text", "code"), [
    ("平成31年5月1日", "wareki_outside_era"),  # that day is 令和元年5月1日
    ("H31.5.1", "wareki_outside_era"),
    ("昭和64年1月8日", "wareki_outside_era"),  # that day is 平成元年1月8日
    ("令和元年4月30日", "wareki_outside_era"),  # still 平成31年
    ("平成元年1月7日", "wareki_outside_era"),
    ("大正15年12月25日", "wareki_outside_era"),
    ("昭和29年2月30日", "wareki_invalid_date"),
    ("S0.1.1", "wareki_invalid_date"),
    ("H13.2.29", "wareki_invalid_date"),  # 2001 is no leap year
    ("X29.2.1", "wareki_unknown_era"),
    ("慶応3年1月1日", "wareki_unknown_era"),
    ("明治5年12月1日", "wareki_unsupported"),  # the lunisolar calendar
    ("昭和29年2月", "wareki_format"),
    ("S29.2", "wareki_format"),
    ("", "wareki_format"),
])
def test_a_day_outside_its_era_or_no_day_at_all_is_refused_with_a_code(text, code):
    with pytest.raises(WarekiError) as refused:
        parse_wareki(text)
    assert refused.value.code == code
    assert isinstance(refused.value, ValueError)  # callers that map ValueErrors catch it too


def test_western_dates_are_not_taken_for_wareki():
    for text in ("1954-02-01", "19540201", "abc", ""):
        assert not is_wareki(text)


def test_an_unknown_code_cannot_be_raised():
    with pytest.raises(ValueError, match="no code"):
        WarekiError("wareki_whatever")
