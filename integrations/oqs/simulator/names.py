"""Names and their readings for synthetic people.

Surnames come from Faker's ja_JP table (frequency-ordered) plus a few more common ones; given
names are chosen by birth year, because a pharmacist would notice an 85-year-old 陽葵 or a
newborn 節子. Readings are full-width katakana (the terminal shows full-width; the XML's
half-width NameKana is an encoding detail of the real interface).
"""
from __future__ import annotations

import random
from itertools import accumulate

from faker.providers.person.ja_JP import Provider as _FakerJaPerson

_EXTRA_SURNAMES = [
    ("中野", "ナカノ"), ("原田", "ハラダ"), ("小野", "オノ"), ("田村", "タムラ"), ("竹内", "タケウチ"),
    ("金子", "カネコ"), ("和田", "ワダ"), ("中山", "ナカヤマ"), ("石田", "イシダ"), ("上田", "ウエダ"),
    ("森田", "モリタ"), ("原", "ハラ"), ("柴田", "シバタ"), ("酒井", "サカイ"), ("工藤", "クドウ"),
    ("横山", "ヨコヤマ"), ("宮崎", "ミヤザキ"), ("宮本", "ミヤモト"), ("内田", "ウチダ"), ("高木", "タカギ"),
    ("安藤", "アンドウ"), ("谷口", "タニグチ"), ("大野", "オオノ"), ("丸山", "マルヤマ"), ("今井", "イマイ"),
]

_FAKER_SURNAMES = [((k[0], k[1]), float(w)) for k, w in _FakerJaPerson.last_name_pairs.items()]
_FAKER_NAMES = {pair for pair, _ in _FAKER_SURNAMES}
# Faker weights by frequency (佐藤 366,803 ...); the extra names get the weight of the rarest.
_RAREST = min(w for _, w in _FAKER_SURNAMES)
_WEIGHTED = _FAKER_SURNAMES + [(pair, _RAREST) for pair in _EXTRA_SURNAMES if pair not in _FAKER_NAMES]
SURNAMES: list[tuple[str, str]] = [pair for pair, _ in _WEIGHTED]
_CUMULATIVE = list(accumulate(w for _, w in _WEIGHTED))

# (born before 1955, 1955-1984, 1985-2004, 2005 and later)
_FEMALE = [
    [("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("洋子", "ヨウコ"), ("恵子", "ケイコ"),
     ("京子", "キョウコ"), ("美智子", "ミチコ"), ("弘子", "ヒロコ"), ("悦子", "エツコ"), ("文子", "フミコ"),
     ("清子", "キヨコ"), ("千代子", "チヨコ"), ("敏子", "トシコ"), ("久子", "ヒサコ"), ("照子", "テルコ")],
    [("由美子", "ユミコ"), ("裕子", "ユウコ"), ("真由美", "マユミ"), ("直美", "ナオミ"), ("智子", "トモコ"),
     ("恵美", "エミ"), ("陽子", "ヨウコ"), ("明美", "アケミ"), ("香織", "カオリ"), ("美穂", "ミホ"),
     ("久美子", "クミコ"), ("純子", "ジュンコ"), ("直子", "ナオコ"), ("花子", "ハナコ"), ("さゆり", "サユリ")],
    [("愛", "アイ"), ("彩", "アヤ"), ("美咲", "ミサキ"), ("さくら", "サクラ"), ("葵", "アオイ"),
     ("結衣", "ユイ"), ("七海", "ナナミ"), ("舞", "マイ"), ("春香", "ハルカ"), ("麻衣", "マイ"),
     ("沙織", "サオリ"), ("優花", "ユウカ"), ("彩花", "アヤカ"), ("千尋", "チヒロ"), ("遥", "ハルカ")],
    [("陽葵", "ヒマリ"), ("凛", "リン"), ("結菜", "ユイナ"), ("芽依", "メイ"), ("紬", "ツムギ"),
     ("澪", "ミオ"), ("杏", "アン"), ("咲良", "サクラ"), ("結愛", "ユア"), ("心春", "コハル"),
     ("莉子", "リコ"), ("陽菜", "ヒナ"), ("美桜", "ミオ"), ("彩葉", "イロハ"), ("楓", "カエデ")],
]
_MALE = [
    [("清", "キヨシ"), ("実", "ミノル"), ("茂", "シゲル"), ("博", "ヒロシ"), ("進", "ススム"),
     ("勝", "マサル"), ("正", "タダシ"), ("武", "タケシ"), ("勇", "イサム"), ("昭", "アキラ"),
     ("和夫", "カズオ"), ("正男", "マサオ"), ("稔", "ミノル"), ("三郎", "サブロウ"), ("義男", "ヨシオ")],
    [("誠", "マコト"), ("浩", "ヒロシ"), ("健一", "ケンイチ"), ("隆", "タカシ"), ("剛", "ツヨシ"),
     ("大輔", "ダイスケ"), ("直樹", "ナオキ"), ("哲也", "テツヤ"), ("和也", "カズヤ"), ("修", "オサム"),
     ("英樹", "ヒデキ"), ("康弘", "ヤスヒロ"), ("浩二", "コウジ"), ("太郎", "タロウ"), ("一郎", "イチロウ")],
    [("翔太", "ショウタ"), ("拓也", "タクヤ"), ("健太", "ケンタ"), ("大樹", "ダイキ"), ("翼", "ツバサ"),
     ("亮介", "リョウスケ"), ("裕太", "ユウタ"), ("拓真", "タクマ"), ("駿", "シュン"), ("涼平", "リョウヘイ"),
     ("洋介", "ヨウスケ"), ("直人", "ナオト"), ("裕樹", "ユウキ"), ("智也", "トモヤ"), ("達也", "タツヤ")],
    [("大翔", "ヒロト"), ("蓮", "レン"), ("颯太", "ソウタ"), ("悠斗", "ユウト"), ("陽向", "ヒナタ"),
     ("湊", "ミナト"), ("樹", "イツキ"), ("悠真", "ユウマ"), ("蒼", "アオイ"), ("律", "リツ"),
     ("陸", "リク"), ("朝陽", "アサヒ"), ("碧", "アオイ"), ("奏太", "カナタ"), ("暖", "ダン")],
]

# A full-width space separates family and given name, as on insurance cards.
SEPARATOR = "\u3000"


def _generation(birth_year: int) -> int:
    if birth_year < 1955:
        return 0
    if birth_year < 1985:
        return 1
    if birth_year < 2005:
        return 2
    return 3


def given_name(rng: random.Random, *, sex: str, birth_year: int) -> tuple[str, str]:
    """(kanji, katakana) of a given name typical of the birth year; sex "1" male, "2" female."""
    table = _MALE if sex == "1" else _FEMALE
    return rng.choice(table[_generation(birth_year)])


def surname(rng: random.Random) -> tuple[str, str]:
    """A surname, as often as it occurs in Japan (among the listed ones)."""
    return rng.choices(SURNAMES, cum_weights=_CUMULATIVE)[0]


def full_name(family: tuple[str, str], given: tuple[str, str]) -> tuple[str, str]:
    """(name, kana) with the card's full-width space."""
    return family[0] + SEPARATOR + given[0], family[1] + SEPARATOR + given[1]
