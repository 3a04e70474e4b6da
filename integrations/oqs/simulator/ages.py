"""Ages and the copay (負担割合) boundaries, on exact dates.

Japanese law (年齢計算ニ関スル法律 with 民法143条) reaches an age at the end of the day before
the birthday, so "turns 6" or "turns 70" below means the day before that birthday. Three
boundaries hang off it:

- 未就学 (2割): until the first 31 March on or after the day the child turns 6. A child born
  on 1 April turns 6 on 31 March and leaves on that very day, a year before a child born on
  2 April (the school-year cut).
- 70-74 (2割, 現役並み所得 3割): from the first day of the month after the month one turns
  70; born on the 1st, one turns 70 on the last day of the previous month, so it starts with
  the birthday month.
- 後期高齢者医療: from the 75th birthday itself (1割, 一般Ⅱ 2割, 現役並み 3割).

Someone born on 29 February has the anniversary on 1 March in common years (and so turns an
age on 28 February).
"""
from __future__ import annotations

from datetime import date, timedelta


def anniversary(birth: date, years: int) -> date:
    """The `years`-th birthday; 29 February falls on 1 March in common years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        return date(birth.year + years, 3, 1)


def age_on(birth: date, day: date) -> int:
    """The legal age on `day`: each year is reached on the day before the birthday."""
    if day < birth:
        raise ValueError("the day is before the birth")
    years = day.year - birth.year
    while years > 0 and anniversary(birth, years) - timedelta(days=1) > day:
        years -= 1
    return years


def turns(birth: date, years: int) -> date:
    """The day one reaches the age `years` (the day before that birthday)."""
    return anniversary(birth, years) - timedelta(days=1)


def preschool_until(birth: date) -> date:
    """The last day of 未就学: the first 31 March on or after the day the child turns 6."""
    reached = turns(birth, 6)
    end = date(reached.year, 3, 31)
    return end if end >= reached else date(reached.year + 1, 3, 31)


def is_preschool(birth: date, day: date) -> bool:
    return birth <= day <= preschool_until(birth)


def _first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def elderly_from(birth: date) -> date:
    """The first day of the 70-74 copay (高齢受給者): the month after the month one turns 70."""
    return _first_of_next_month(turns(birth, 70))


def late_elderly_from(birth: date) -> date:
    """The first day of 後期高齢者医療: the 75th birthday itself."""
    return anniversary(birth, 75)


def copay_percent(*, birth: date, day: date, late_elderly_scheme: bool, active_income: bool,
                  late_elderly_general_2: bool = False) -> int:
    """The copay in percent (10, 20 or 30) on `day`.

    `late_elderly_scheme`: the qualification is 後期高齢者医療 (法別 39); `active_income`:
    現役並み所得; `late_elderly_general_2`: 後期高齢者 一般Ⅱ (2割 since October 2022).
    """
    if late_elderly_scheme:
        if active_income:
            return 30
        return 20 if late_elderly_general_2 else 10
    if day >= elderly_from(birth):
        return 30 if active_income else 20
    if is_preschool(birth, day):
        return 20
    return 30


def copay_text(percent: int | None) -> str:
    """"3割" for 30; "" when there is no insurance copay (e.g. medical aid)."""
    if percent is None:
        return ""
    return f"{percent // 10}割"


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


def fiscal_year(day: date) -> int:
    """The Japanese fiscal year (April to March) a day belongs to."""
    return day.year if day.month >= 4 else day.year - 1
