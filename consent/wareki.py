"""和暦 (Japanese era dates): shown beside Western dates, and read from a batch inquiry's birth dates.

A small table rather than a library: five eras, each starting on the day its first year began.
Only dates from 明治6年1月1日 (1873-01-01) on are converted: before it Japan used the lunisolar
calendar, so a Western day there has no simple era year, month and day (and nobody born then is
asked for). 元年 is the first year of an era. Year N of an era is Western year (first year + N - 1);
an era's dates run from its first day up to the day before the next era's first day.

    format_birth_date(date(1954, 2, 1))   -> "1954年2月1日（昭和29年）"
    wareki_date(date(1989, 1, 8))         -> "平成元年1月8日"
    parse_wareki("S29.2.1")               -> date(1954, 2, 1)
    parse_wareki("平成31年5月1日")          -> WarekiError("wareki_outside_era")

Errors are a WarekiError (a ValueError with a stable `code`): the caller maps the code to its own
words (a batch row's エラー reason, a form message), as integrations/oqs/inputs.py does for
Western dates.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Era:
    name: str  # 昭和
    letter: str  # S: the one-letter abbreviation forms and systems use
    first_day: date  # 元年's first day (for 明治: the first day this table converts, see above)
    first_year: int  # the Western year of 元年

    def year_of(self, day: date) -> int:
        return day.year - self.first_year + 1


# Oldest first. 明治 began on 1868-01-25 (慶応4年1月1日, retroactively), but the table starts at the
# solar calendar (1873-01-01, 明治6年1月1日).
ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1873, 1, 1), 1868),
    Era("大正", "T", date(1912, 7, 30), 1912),
    Era("昭和", "S", date(1926, 12, 25), 1926),
    Era("平成", "H", date(1989, 1, 8), 1989),
    Era("令和", "R", date(2019, 5, 1), 2019),
)
_BY_NAME = {era.name: era for era in ERAS}
_BY_LETTER = {era.letter: era for era in ERAS}
FIRST_CONVERTED_DAY = ERAS[0].first_day


class WarekiError(ValueError):
    """A 和暦 that does not name a real day. `code` is stable; the caller words it."""

    codes = frozenset({
        "wareki_format",  # not a 和暦 date at all (「昭和29年2月」, 「S29/2」, empty)
        "wareki_unknown_era",  # an era letter or name the table does not know (「X29.2.1」, 「慶応3年」)
        "wareki_invalid_date",  # no such month or day (「昭和29年2月30日」), or year 0
        "wareki_outside_era",  # a real Western day, but not in that era (「平成31年5月1日」, 「昭和64年1月8日」)
        "wareki_unsupported",  # before 明治6年1月1日 (the lunisolar calendar)
    })

    def __init__(self, code: str, *, detail: Any = None) -> None:
        if code not in self.codes:
            raise ValueError(f"WarekiError has no code {code!r}")
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.code = code
        self.detail = detail


def japanese_date(day: date) -> str:
    """「1954年2月1日」: the Western date as Japanese pages write it."""
    return f"{day.year}年{day.month}月{day.day}日"


def era_of(day: date) -> Era | None:
    """The era `day` falls in; None before 明治6年1月1日."""
    found = None
    for era in ERAS:
        if day >= era.first_day:
            found = era
    return found


def _year_text(year: int) -> str:
    return "元年" if year == 1 else f"{year}年"


def era_year(day: date) -> str | None:
    """「昭和29年」, 「平成元年」; None before 明治6年."""
    era = era_of(day)
    return None if era is None else era.name + _year_text(era.year_of(day))


def wareki_date(day: date) -> str | None:
    """「平成元年1月8日」; None before 明治6年."""
    year = era_year(day)
    return None if year is None else f"{year}{day.month}月{day.day}日"


def format_birth_date(day: date) -> str:
    """「1954年2月1日（昭和29年）」, as console and patient pages write a birth date (Western only
    before 明治6年)."""
    year = era_year(day)
    return japanese_date(day) if year is None else f"{japanese_date(day)}（{year}）"


# 「昭和29年2月1日」「令和元年5月1日」 (spaces allowed), or 「S29.2.1」「R01/05/01」「h31-4-30」.
_KANJI = re.compile(r"(?P<era>\D+?)\s*(?P<year>元|\d{1,2})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日")
_LETTER = re.compile(r"(?P<era>[A-Za-z])\s*(?P<year>\d{1,2})[./\-](?P<month>\d{1,2})[./\-](?P<day>\d{1,2})")


# Era names a person might write, known to the table or not (so 「慶応3年…」 reads as a 和暦 with an
# unknown era rather than as garbage).
_ANY_ERA_NAME = frozenset({*_BY_NAME, "慶応", "元治", "文久"})


def is_wareki(text: str) -> bool:
    """True when `text` is written as a 和暦 date (valid or not): an era letter and a digit first, an
    era name first, or a 「年」. A batch parser uses it to choose between this parser and its Western
    one (which then words 「abc」 as a malformed date, not as a malformed 和暦)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    return bool(re.match(r"[A-Za-z]\s*\d", cleaned)) or cleaned[:2] in _ANY_ERA_NAME or "年" in cleaned


def parse_wareki(text: str) -> date:
    """The day a 和暦 date names. Full-width digits and letters are accepted; the whole text must
    be the date. Raises WarekiError (see its codes)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    match = _KANJI.fullmatch(cleaned) or _LETTER.fullmatch(cleaned)
    if match is None:
        raise WarekiError("wareki_format", detail=text)
    era_text = match["era"].strip()
    era = _BY_NAME.get(era_text) or _BY_LETTER.get(era_text.upper())
    if era is None:
        raise WarekiError("wareki_unknown_era", detail=era_text)
    year = 1 if match["year"] == "元" else int(match["year"])
    if year == 0:
        raise WarekiError("wareki_invalid_date", detail=text)
    try:
        day = date(era.first_year + year - 1, int(match["month"]), int(match["day"]))
    except ValueError:
        raise WarekiError("wareki_invalid_date", detail=text) from None
    if day < FIRST_CONVERTED_DAY:
        raise WarekiError("wareki_unsupported", detail=text)
    if era_of(day) is not era:
        raise WarekiError("wareki_outside_era", detail=text)
    return day


def era_last_day(era: Era) -> date | None:
    """The last day of `era` (None for the current one)."""
    index = ERAS.index(era)
    return None if index == len(ERAS) - 1 else ERAS[index + 1].first_day - timedelta(days=1)
