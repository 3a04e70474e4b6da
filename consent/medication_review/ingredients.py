"""One name per active ingredient, so 「ロキソプロフェンナトリウム水和物」 (a tablet), 「ロキソプロフェン
ナトリウム水和物」 (a tape) and an allergy to 「ロキソプロフェン」 are recognised as one ingredient.

OQS writes the 成分名 with its salt and hydrate (塩酸塩, ナトリウム, 水和物...), sometimes with a
full-width space inside; the tables of this package are keyed by the bare ingredient. Only
suffixes that name a salt or a hydrate are removed, never a word that is the ingredient itself
(酸化マグネシウム, 塩化カリウム and トラネキサム酸 keep theirs).
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

# Salt, ester and hydrate suffixes; removed repeatedly (「…塩酸塩水和物」 loses both).
_SUFFIXES = (
    "臭化水素酸塩", "メタンスルホン酸塩", "フランカルボン酸エステル", "ヒベンズ酸塩", "フマル酸塩", "マレイン酸塩",
    "ベシル酸塩", "メシル酸塩", "トシル酸塩", "酒石酸塩", "クエン酸塩", "リン酸塩", "硫酸塩", "塩酸塩", "ナトリウム",
    "カリウム", "カルシウム", "水和物",
)


@lru_cache(maxsize=1024)
def base_ingredient(name: str) -> str:
    """The bare ingredient: 「メトホルミン塩酸塩」 -> 「メトホルミン」, 「セフカペン　ピボキシル塩酸塩水和物」
    -> 「セフカペンピボキシル」, 「アレンドロン酸ナトリウム水和物」 -> 「アレンドロン酸」."""
    text = "".join(unicodedata.normalize("NFKC", name or "").split())
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            # Keep at least two characters (a suffix is never the whole name), and keep a mineral's
            # name whole (塩化カリウム, 酸化マグネシウム: what is left would end in 「化」).
            rest = text[: -len(suffix)]
            if text.endswith(suffix) and len(rest) >= 2 and not rest.endswith("化"):
                text, stripped = rest, True
                break
    return text
