"""Insurers (保険者) of every kind the generator spreads people over.

Numbers are built by the numbering rules (法別番号 + 都道府県番号 + 保険者別番号 + check digit)
and some coincide with real ones (全国健康保険協会東京支部 01130012, 警察共済組合千葉県支部
33120015, 東京都後期高齢者医療広域連合 39131156); the health insurance societies' names and
serials are invented.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from consent.vocabulary import PREFECTURES
from integrations.oqs.numbering import make_insurer_number, make_nhi_number
from integrations.oqs.simulator.places import Municipality, prefecture_short


@dataclass(frozen=True)
class Insurer:
    kind: str  # see codes.INSURER_KINDS
    number: str
    name: str
    card_classification: str = "01"


def kyokai(prefecture: int) -> Insurer:
    """協会けんぽ: one branch per prefecture, 保険者別番号 001."""
    return Insurer("kyokai", make_insurer_number(law=1, prefecture=prefecture, serial=1),
                   f"全国健康保険協会{prefecture_short(prefecture)}支部")


def late_elderly(prefecture: int) -> Insurer:
    """後期高齢者医療広域連合 (法別 39), one per prefecture."""
    return Insurer("koki", make_insurer_number(law=39, prefecture=prefecture, serial=115),
                   f"{PREFECTURES[prefecture]}後期高齢者医療広域連合")


def national_health(municipality: Municipality) -> Insurer:
    return Insurer("kokuho", municipality.nhi_number, municipality.nhi_name)


# 健康保険組合 (法別 06): invented companies, mostly headquartered in Tokyo.
_SOCIETIES = [
    (13, 101, "東都電機"), (13, 112, "日本橋商事"), (13, 123, "みなと運輸"), (13, 134, "関東食品工業"),
    (13, 145, "中央情報システム"), (13, 156, "さくら印刷"), (13, 167, "東洋建機"), (13, 178, "青葉製薬"),
    (13, 189, "大江戸百貨店"), (13, 201, "千代田生命保険"), (13, 212, "銀座化粧品"), (13, 223, "東京ガラス工業"),
    (13, 234, "首都圏鉄道"), (13, 245, "日本精密機器"), (13, 256, "富士見ソフトウェア"), (14, 101, "湘南自動車部品"),
    (14, 112, "横浜港湾サービス"), (11, 101, "武蔵野製パン"), (12, 101, "房総石油化学"), (27, 101, "浪速繊維"),
    (27, 112, "大阪電線"), (23, 101, "中部輸送機器"), (23, 112, "尾張陶業"), (40, 101, "九州電子"),
    (1, 101, "北海道乳業"), (4, 101, "東北通信工業"), (34, 101, "瀬戸内造船"),
]
SOCIETIES = [
    Insurer("kumiai", make_insurer_number(law=6, prefecture=p, serial=s), f"{name}健康保険組合")
    for p, s, name in _SOCIETIES
]
# 特定健康保険組合 (法別 63): a few large societies keep their retirees (特例退職被保険者証, 06).
RETIREE_SOCIETIES = [
    Insurer("tokurei", make_insurer_number(law=63, prefecture=p, serial=s), f"{name}健康保険組合", "06")
    for p, s, name in _SOCIETIES[:4]
]

# 共済組合 (法別 31 国家公務員, 32 地方公務員, 33 警察, 34 公立学校・私学).
MUTUAL_AID = [
    Insurer("kyosai", make_insurer_number(law=31, prefecture=13, serial=s), name)
    for s, name in [(105, "財務省共済組合"), (112, "文部科学省共済組合"), (127, "厚生労働省共済組合"),
                    (131, "国土交通省共済組合"), (146, "法務省共済組合")]
] + [
    Insurer("kyosai", make_insurer_number(law=32, prefecture=13, serial=1), "東京都職員共済組合"),
    Insurer("kyosai", make_insurer_number(law=32, prefecture=13, serial=2), "東京都市町村職員共済組合"),
    Insurer("kyosai", make_insurer_number(law=32, prefecture=14, serial=1), "神奈川県市町村職員共済組合"),
    Insurer("kyosai", make_insurer_number(law=32, prefecture=27, serial=1), "大阪府市町村職員共済組合"),
    Insurer("kyosai", make_insurer_number(law=33, prefecture=13, serial=1), "警察共済組合警視庁支部"),
    Insurer("kyosai", make_insurer_number(law=33, prefecture=12, serial=1), "警察共済組合千葉県支部"),
    Insurer("kyosai", make_insurer_number(law=34, prefecture=13, serial=1), "公立学校共済組合東京支部"),
    Insurer("kyosai", make_insurer_number(law=34, prefecture=14, serial=1), "公立学校共済組合神奈川支部"),
    Insurer("kyosai", make_insurer_number(law=34, prefecture=13, serial=2), "日本私立学校振興・共済事業団"),
]

# 自衛官等の療養の給付 (法別 07): the serving members themselves (自衛官診療証, 07).
SELF_DEFENSE = [
    Insurer("jieikan", make_insurer_number(law=7, prefecture=13, serial=s), name, "07")
    for s, name in [(101, "防衛省陸上自衛隊"), (102, "防衛省海上自衛隊"), (103, "防衛省航空自衛隊")]
]

# 国民健康保険組合 (its 3rd digit is 3).
NHI_SOCIETIES = [
    Insurer("kokuho", make_nhi_number(prefecture=13, serial=312), "東京都薬剤師国民健康保険組合"),
    Insurer("kokuho", make_nhi_number(prefecture=13, serial=327), "東京土建国民健康保険組合"),
]


def employer_insurer(rng: random.Random, *, prefecture: int) -> Insurer:
    """An employee's insurer: 協会けんぽ (most), a society, or a mutual aid association."""
    roll = rng.random()
    if roll < 0.56:
        return kyokai(prefecture)
    if roll < 0.86:
        local = [s for s in SOCIETIES if s.number[2:4] == f"{prefecture:02d}"]
        pool = local if local and rng.random() < 0.5 else SOCIETIES
        return rng.choice(pool)
    if roll < 0.985:
        return rng.choice(MUTUAL_AID)
    return rng.choice(SELF_DEFENSE)


def symbol_and_number(rng: random.Random, insurer: Insurer) -> tuple[str | None, str]:
    """記号 and 番号 in the shape each kind of insurer prints them (the caller keeps them unique)."""
    if insurer.kind == "kyokai":
        # 事業所整理記号 (8 digits) and the member's number within that employer.
        return f"{rng.randrange(10_000_000, 100_000_000)}", str(rng.randrange(1, 10_000))
    if insurer.kind in ("kumiai", "tokurei"):
        return str(rng.randrange(1, 1000)), str(rng.randrange(1, 2_000_000))
    if insurer.kind == "kyosai":
        return f"{rng.randrange(10, 100)}", f"{rng.randrange(1, 1_000_000):06d}"
    if insurer.kind == "jieikan":
        return rng.choice(["陸自", "海自", "空自"]), f"{rng.randrange(1, 10_000_000):07d}"
    if insurer.kind == "kokuho":
        return f"{rng.randrange(1, 100):02d}", f"{rng.randrange(1, 10_000_000):07d}"
    if insurer.kind == "koki":
        # 後期高齢者: no symbol; a personal 8-digit number.
        return None, str(rng.randrange(10_000_000, 100_000_000))
    raise ValueError(f"no symbol scheme for {insurer.kind}")
