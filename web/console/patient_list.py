"""「同意取得済み患者一覧」 as a busy counter keeps it open (issue 33): search by name or kana, sort
by reception time or kana, and each row's searchable text.

The search runs in the browser (web/static/console.js) on `data-search`, made here with the same
normalisation the script applies to what is typed: NFKC (half-width kana and full-width letters
become one form), hiragana as katakana, no spaces. So 「ｽｽﾞｷ」, 「すずき」 and 「スズキ」 all find 鈴木.
"""
from __future__ import annotations

import unicodedata

SORTS = {"time": "受付時刻順", "kana": "カナ順"}
DEFAULT_SORT = "time"

_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def search_key(*texts: str) -> str:
    """「鈴木　一郎」, 「ｽｽﾞｷ ｲﾁﾛｳ」 → 「鈴木一郎スズキイチロウ」: what a search is compared with."""
    joined = "".join(unicodedata.normalize("NFKC", t or "") for t in texts)
    return "".join(joined.translate(_HIRAGANA_TO_KATAKANA).split())


def list_sort(raw: str | None) -> str:
    """?sort=kana|time; anything else → the default (reception time)."""
    return raw if raw in SORTS else DEFAULT_SORT


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    """Rows by reception time (oldest first, as they arrive) or by kana (then time)."""
    if sort == "kana":
        return sorted(rows, key=lambda r: (search_key(r["kana"]), r["consented_at"]))
    return sorted(rows, key=lambda r: r["consented_at"])
