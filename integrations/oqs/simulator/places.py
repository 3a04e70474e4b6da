"""Prefectures and a curated set of municipalities (real place names and postcodes) for
synthetic addresses, municipal insurers and welfare offices.

A municipality's 国民健康保険 number is its prefecture, the last three digits of its local
government code (全国地方公共団体コード, e.g. 新宿区 13104) and a check digit: 131045,
as Tokyo's wards have. Outside Tokyo the same construction is used; treat those numbers as
synthetic. Street numbers and buildings are invented.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

from consent.vocabulary import PREFECTURES
from integrations.oqs.numbering import make_nhi_number


def prefecture_short(code: int) -> str:
    """東京 for 東京都, 大阪 for 大阪府, 北海道 stays."""
    name = PREFECTURES[code]
    return name if code == 1 else name[:-1]


@dataclass(frozen=True)
class Municipality:
    prefecture: int
    city: str  # as written in an address after the prefecture (designated cities with the ward)
    local_code: int  # last three digits of the local government code of the NHI insurer
    nhi_name: str
    welfare_office: str
    towns: tuple[tuple[str, str], ...]  # (town, postcode)

    @property
    def nhi_number(self) -> str:
        return make_nhi_number(prefecture=self.prefecture, serial=self.local_code)


def _m(pref, city, code, nhi_name, welfare, towns):
    return Municipality(pref, city, code, nhi_name, welfare, tuple(towns))


MUNICIPALITIES: tuple[Municipality, ...] = (
    _m(13, "新宿区", 104, "新宿区", "新宿区福祉事務所",
       [("西新宿", "160-0023"), ("新宿", "160-0022"), ("高田馬場", "169-0075"), ("大久保", "169-0072"),
        ("神楽坂", "162-0825"), ("四谷", "160-0004"), ("百人町", "169-0073"), ("早稲田鶴巻町", "162-0041")]),
    _m(13, "世田谷区", 112, "世田谷区", "世田谷区世田谷総合支所保健福祉センター",
       [("三軒茶屋", "154-0024"), ("太子堂", "154-0004"), ("経堂", "156-0052"), ("成城", "157-0066"),
        ("用賀", "158-0097"), ("北沢", "155-0031"), ("桜新町", "154-0015"), ("下馬", "154-0002")]),
    _m(13, "港区", 103, "港区", "港区福祉事務所",
       [("芝", "105-0014"), ("赤坂", "107-0052"), ("六本木", "106-0032"), ("白金", "108-0072"),
        ("高輪", "108-0074"), ("南青山", "107-0062"), ("三田", "108-0073"), ("海岸", "105-0022")]),
    _m(13, "杉並区", 115, "杉並区", "杉並福祉事務所",
       [("阿佐谷南", "166-0004"), ("高円寺南", "166-0003"), ("荻窪", "167-0051"), ("西荻北", "167-0042"),
        ("方南", "168-0062"), ("下井草", "167-0022")]),
    _m(13, "練馬区", 120, "練馬区", "練馬区練馬総合福祉事務所",
       [("豊玉北", "176-0012"), ("石神井町", "177-0041"), ("大泉学園町", "178-0061"), ("光が丘", "179-0072"),
        ("練馬", "176-0001"), ("関町北", "177-0051")]),
    _m(13, "江東区", 108, "江東区", "江東区福祉事務所",
       [("豊洲", "135-0061"), ("亀戸", "136-0071"), ("大島", "136-0072"), ("深川", "135-0033"),
        ("東陽", "135-0016"), ("南砂", "136-0076")]),
    _m(13, "板橋区", 119, "板橋区", "板橋福祉事務所",
       [("板橋", "173-0004"), ("常盤台", "174-0071"), ("高島平", "175-0082"), ("成増", "175-0094"),
        ("大山町", "173-0023")]),
    _m(13, "大田区", 111, "大田区", "大田区蒲田生活福祉課",
       [("蒲田", "144-0052"), ("大森北", "143-0016"), ("田園調布", "145-0071"), ("羽田", "144-0043"),
        ("池上", "146-0082")]),
    _m(13, "足立区", 121, "足立区", "足立区福祉事務所",
       [("千住", "120-0034"), ("綾瀬", "120-0005"), ("竹の塚", "121-0813"), ("西新井", "123-0841")]),
    _m(13, "八王子市", 201, "八王子市", "八王子市福祉事務所",
       [("旭町", "192-0083"), ("元本郷町", "192-0051"), ("南大沢", "192-0364"), ("めじろ台", "193-0833")]),
    _m(14, "横浜市港北区", 100, "横浜市", "横浜市港北福祉保健センター",
       [("日吉", "223-0061"), ("綱島西", "223-0053"), ("大倉山", "222-0037"), ("菊名", "222-0011")]),
    _m(14, "横浜市青葉区", 100, "横浜市", "横浜市青葉福祉保健センター",
       [("青葉台", "227-0062"), ("美しが丘", "225-0002"), ("あざみ野", "225-0011")]),
    _m(14, "川崎市中原区", 130, "川崎市", "川崎市中原福祉事務所",
       [("小杉町", "211-0063"), ("新丸子町", "211-0005"), ("木月", "211-0025")]),
    _m(11, "さいたま市浦和区", 100, "さいたま市", "さいたま市浦和福祉事務所",
       [("高砂", "330-0063"), ("岸町", "330-0064"), ("常盤", "330-0061")]),
    _m(11, "川口市", 203, "川口市", "川口市福祉事務所",
       [("本町", "332-0012"), ("栄町", "332-0017"), ("芝", "333-0866")]),
    _m(12, "船橋市", 204, "船橋市", "船橋市福祉事務所",
       [("本町", "273-0005"), ("湊町", "273-0011"), ("前原西", "274-0825")]),
    _m(12, "市川市", 203, "市川市", "市川市福祉事務所",
       [("八幡", "272-0021"), ("市川南", "272-0033"), ("行徳駅前", "272-0133")]),
    _m(27, "大阪市北区", 100, "大阪市", "大阪市北区保健福祉センター",
       [("梅田", "530-0001"), ("天神橋", "530-0041"), ("中崎西", "530-0015")]),
    _m(27, "大阪市天王寺区", 100, "大阪市", "大阪市天王寺区保健福祉センター",
       [("上本町", "543-0001"), ("玉造元町", "543-0014"), ("悲田院町", "543-0055")]),
    _m(23, "名古屋市中区", 100, "名古屋市", "名古屋市中区社会福祉事務所",
       [("栄", "460-0008"), ("大須", "460-0011"), ("丸の内", "460-0002")]),
    _m(23, "名古屋市千種区", 100, "名古屋市", "名古屋市千種区社会福祉事務所",
       [("今池", "464-0850"), ("覚王山通", "464-0841"), ("星が丘山手", "464-0804")]),
    _m(1, "札幌市中央区", 100, "札幌市", "札幌市中央区保健福祉部",
       [("大通西", "060-0042"), ("南一条西", "060-0061"), ("北一条西", "060-0001")]),
    _m(40, "福岡市博多区", 130, "福岡市", "福岡市博多区保健福祉センター",
       [("博多駅前", "812-0011"), ("博多駅東", "812-0013"), ("住吉", "812-0018")]),
    _m(40, "福岡市中央区", 130, "福岡市", "福岡市中央区保健福祉センター",
       [("天神", "810-0001"), ("大名", "810-0041"), ("薬院", "810-0022")]),
    _m(4, "仙台市青葉区", 100, "仙台市", "仙台市青葉区保健福祉センター",
       [("一番町", "980-0811"), ("本町", "980-0014"), ("上杉", "980-0011")]),
    _m(34, "広島市中区", 100, "広島市", "広島市中区厚生部",
       [("紙屋町", "730-0031"), ("基町", "730-0011"), ("大手町", "730-0051")]),
)

# Where people live: weighted toward the Tokyo area, as a Tokyo pharmacy's patients would.
_PREFECTURE_WEIGHTS = {13: 40, 14: 15, 11: 10, 12: 8, 27: 8, 23: 6, 1: 4, 40: 4, 4: 2.5, 34: 2.5}
_BY_PREFECTURE = {p: [m for m in MUNICIPALITIES if m.prefecture == p] for p in _PREFECTURE_WEIGHTS}
_PREFS = list(_PREFECTURE_WEIGHTS)
_PREF_CUMULATIVE = list(accumulate(_PREFECTURE_WEIGHTS.values()))

_BUILDINGS = ["コーポ", "ハイツ", "メゾン", "パレス", "グランドール", "サンライズ", "レジデンス", "シャルム"]


def pick_municipality(rng: random.Random) -> Municipality:
    prefecture = rng.choices(_PREFS, cum_weights=_PREF_CUMULATIVE)[0]
    return rng.choice(_BY_PREFECTURE[prefecture])


def municipality_named(city: str) -> Municipality:
    for municipality in MUNICIPALITIES:
        if municipality.city == city:
            return municipality
    raise KeyError(city)


def make_address(rng: random.Random, municipality: Municipality) -> tuple[str, str, str]:
    """(postcode, address, town) somewhere in the municipality."""
    town, postcode = rng.choice(municipality.towns)
    address = (f"{PREFECTURES[municipality.prefecture]}{municipality.city}{town}"
               f"{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号")
    if rng.random() < 0.45:
        address += f" {rng.choice(_BUILDINGS)}{town} {rng.randint(1, 9)}{rng.randint(1, 12):02d}"
    return postcode, address, town
