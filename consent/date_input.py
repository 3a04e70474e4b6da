"""Dates and months as people type them and programs send them: one strict parser per shape.

`date.fromisoformat` takes more than a date field should (ISO week dates like `2026-W50-1`,
`20261201` without dashes, year 0001) and a month check by pattern alone lets `000001` through to
`date(0, 1, 1)`, a ValueError deep inside a view. Every field of the service holds a date of
this service's life or a birth date, so years outside 1900-2099 are bad input here, answered
like any other malformed value (a 422 or a Japanese message), never a 500.
"""
from __future__ import annotations

import re
from datetime import date

EARLIEST_YEAR = 1900
LATEST_YEAR = 2099

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-?([0-9]{2})")
# The same rule as a pattern (the API's OpenAPI document states it): 1900-01 to 2099-12, the
# dash optional (`YYYY-MM` is the API's form; `YYYYMM` is still accepted, deprecated).
YEAR_MONTH_PATTERN = r"^(19|20)[0-9]{2}-?(0[1-9]|1[0-2])$"


def parse_date(raw: object, *, compact: bool = False) -> date | None:
    """`YYYY-MM-DD` (and `YYYYMMDD` when `compact`), ASCII digits, a real day in 1900-2099; else None."""
    if not isinstance(raw, str):
        return None
    match = _ISO_DATE.fullmatch(raw) or (_COMPACT_DATE.fullmatch(raw) if compact else None)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_birth_date(raw: object) -> date | None:
    """A birth-date field of any audience (the console's date inputs, the API's `format: date`):
    `YYYY-MM-DD`, a real day in 1900-2099; else None. (A batch CSV's birth dates are the OQS
    contract's to read: integrations/oqs/inputs.py.)"""
    return parse_date(raw)


def parse_month(raw: object) -> str | None:
    """`YYYY-MM` or `YYYYMM` in 1900-2099 as `YYYYMM`; else None."""
    if not isinstance(raw, str):
        return None
    match = _MONTH.fullmatch(raw)
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (EARLIEST_YEAR <= year <= LATEST_YEAR and 1 <= month <= 12):
        return None
    return f"{year:04d}{month:02d}"
