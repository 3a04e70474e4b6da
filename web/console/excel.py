"""CSV cells that Excel shows as written: never a formula, codes kept as text."""
from __future__ import annotations

# Excel runs a cell starting with one of these as a formula (tab and CR: it strips them first).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_cell(value: str, *, code: bool = False) -> str:
    """A cell Excel shows as written: never a formula; a code stays text (leading zeros, no dates).

    A formula start gets a leading apostrophe (OWASP's CSV-injection advice); a code gets a
    leading tab, which Excel keeps as text and our own upload strips again.
    """
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "\t" + value if code and value else value
