"""The groups the checks compare drugs by: allergy cross-reactivity groups and duplicate-therapy
groups. Each is a table row; a new group, or a new member, is one more row or one more name.

Members are bare ingredients (ingredients.base_ingredient). A combination product (「ブデソニド・
ホルモテロール」, 「スルファメトキサゾール・トリメトプリム」) belongs to every group one of its parts
belongs to. Groups are chosen by pharmacology, not by the YJ code's first four digits (which put
NSAIDs under 1147 and 1149, and loxoprofen tape under 2649). docs/domain.md lists them with the
reasons.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from consent.medication_review.ingredients import base_ingredient
from consent.medication_review.inputs import AS_NEEDED, EXTERNAL, ORAL


def components(ingredient: str) -> frozenset[str]:
    """The bare ingredients of a product: one, or each part of a 「・」 combination (and the whole)."""
    whole = base_ingredient(ingredient)
    parts = {base_ingredient(part) for part in unicodedata.normalize("NFKC", ingredient or "").split("・")}
    return frozenset({whole, *parts} - {""})


# --- allergy: cross-reactivity groups ----------------------------------------------------------


@dataclass(frozen=True)
class AllergyGroup:
    name: str  # how a line names it: 「セフェム系抗菌薬」
    members: frozenset[str]
    # Words in a recorded allergy's drug class that name this group (「サルファ剤」 -> スルホンアミド).
    class_words: tuple[str, ...]
    why: str  # the basis, for docs/domain.md


ALLERGY_GROUPS: tuple[AllergyGroup, ...] = (
    AllergyGroup("ペニシリン系抗菌薬", frozenset({
        "アモキシシリン", "アンピシリン", "ベンジルペニシリン", "ベンジルペニシリンベンザチン", "スルタミシリン",
        "バカンピシリン", "クラブラン酸"}), ("ペニシリン",),
        "β-ラクタム系のうちペニシリン骨格をもつもの"),
    AllergyGroup("セフェム系抗菌薬", frozenset({
        "セファクロル", "セフカペンピボキシル", "セフジトレンピボキシル", "セフジニル", "セファレキシン",
        "セフポドキシムプロキセチル", "セフテラムピボキシル", "セフロキシムアキセチル"}), ("セフェム", "セファロスポリン"),
        "β-ラクタム系のうちセフェム骨格をもつもの"),
    AllergyGroup("テトラサイクリン系抗菌薬", frozenset({"ミノサイクリン", "ドキシサイクリン", "テトラサイクリン"}),
                 ("テトラサイクリン",), "テトラサイクリン骨格"),
    AllergyGroup("マクロライド系抗菌薬", frozenset({"クラリスロマイシン", "アジスロマイシン", "エリスロマイシン",
                                            "ロキシスロマイシン"}), ("マクロライド",), "マクロライド環"),
    AllergyGroup("ニューキノロン系抗菌薬", frozenset({
        "レボフロキサシン", "オフロキサシン", "シプロフロキサシン", "モキシフロキサシン", "ガレノキサシン",
        "シタフロキサシン", "トスフロキサシン", "ラスクフロキサシン"}), ("キノロン",),
        "キノロン骨格（クラビットの添付文書「禁忌」は本剤の成分又はオフロキサシンへの過敏症を挙げる）"),
    AllergyGroup("非ステロイド性抗炎症薬（NSAIDs）", frozenset({
        "ロキソプロフェン", "セレコキシブ", "ジクロフェナク", "イブプロフェン", "インドメタシン", "メロキシカム",
        "ナプロキセン", "エトドラク", "フルルビプロフェン", "アスピリン"}), ("非ステロイド", "NSAID", "解熱鎮痛"),
        "COX阻害（外用も同じ成分を含む）。アスピリンは低用量の抗血小板薬でも含める"),
    AllergyGroup("スルホンアミド", frozenset({"スルファメトキサゾール", "セレコキシブ", "グリメピリド"}),
                 ("サルファ", "スルホンアミド"),
                 "セレコキシブ（「禁忌」2.1 本剤の成分又はスルホンアミドに対し過敏症）とグリメピリド（「禁忌」"
                 "本剤の成分又はスルホンアミド系薬剤に過敏症）の添付文書による"),
)


def allergy_groups_of(ingredient: str, drug_class: str = "") -> tuple[AllergyGroup, ...]:
    """The cross-reactivity groups of an ingredient (any of its parts), and of a recorded class."""
    parts = components(ingredient)
    text = unicodedata.normalize("NFKC", drug_class or "")
    return tuple(g for g in ALLERGY_GROUPS
                 if parts & g.members or (text and any(word in text for word in g.class_words)))


# --- duplicates: therapeutic groups -----------------------------------------------------------

INTERNAL_FORMS = frozenset({ORAL, AS_NEEDED})
ALL_FORMS = frozenset({ORAL, AS_NEEDED, EXTERNAL})


@dataclass(frozen=True)
class DuplicateGroup:
    """Two current drugs count as a duplicate when both are members (of the forms given) or, when
    `partners` is set, one is a member and the other a partner."""

    name: str  # how a line names it
    members: frozenset[str]
    forms: frozenset[str] = INTERNAL_FORMS
    partners: frozenset[str] | None = None

    def pairs(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        """a and b are (bare ingredient, 剤形区分)."""
        if a[1] not in self.forms or b[1] not in self.forms:
            return False
        if self.partners is None:
            return a[0] in self.members and b[0] in self.members
        return ((a[0] in self.members and b[0] in self.partners)
                or (b[0] in self.members and a[0] in self.partners))


_ANTICOAGULANTS = frozenset({"アピキサバン", "ワルファリン", "リバーロキサバン", "エドキサバン", "ダビガトランエテキシラート"})

DUPLICATE_GROUPS: tuple[DuplicateGroup, ...] = (
    DuplicateGroup("NSAIDs（内服・外用）", frozenset({
        "ロキソプロフェン", "セレコキシブ", "ジクロフェナク", "イブプロフェン", "インドメタシン", "メロキシカム",
        "ナプロキセン", "エトドラク", "フルルビプロフェン", "ケトプロフェン", "エスフルルビプロフェン"}), ALL_FORMS),
    DuplicateGroup("胃酸分泌抑制薬（PPI・P-CAB・H2遮断薬）", frozenset({
        "ランソプラゾール", "オメプラゾール", "エソメプラゾール", "ラベプラゾール", "ボノプラザン",
        "ファモチジン", "ラフチジン", "ニザチジン", "シメチジン", "ロキサチジンアセタート"})),
    DuplicateGroup("ARB", frozenset({
        "ロサルタン", "カンデサルタンシレキセチル", "テルミサルタン", "オルメサルタンメドキソミル", "バルサルタン",
        "イルベサルタン", "アジルサルタン"})),
    DuplicateGroup("スタチン", frozenset({
        "ロスバスタチン", "アトルバスタチン", "プラバスタチン", "ピタバスタチン", "シンバスタチン", "フルバスタチン"})),
    DuplicateGroup("睡眠薬（ベンゾジアゼピン系・Z薬）", frozenset({
        "ゾルピデム", "ゾピクロン", "エスゾピクロン", "ブロチゾラム", "トリアゾラム", "フルニトラゼパム",
        "ロルメタゼパム", "リルマザホン", "エスタゾラム", "ニトラゼパム", "クアゼパム"})),
    DuplicateGroup("抗凝固薬", _ANTICOAGULANTS),
    DuplicateGroup("抗凝固薬と抗血小板薬", _ANTICOAGULANTS,
                   partners=frozenset({"アスピリン", "クロピドグレル", "プラスグレル", "シロスタゾール", "チクロピジン"})),
    DuplicateGroup("尿酸降下薬", frozenset({"アロプリノール", "フェブキソスタット", "トピロキソスタット", "ベンズブロマロン"})),
    DuplicateGroup("抗ヒスタミン薬（内服）", frozenset({
        "フェキソフェナジン", "オロパタジン", "ビラスチン", "デスロラタジン", "ロラタジン", "セチリジン", "レボセチリジン",
        "エピナスチン", "ベポタスチン", "エバスチン", "ルパタジン"})),
)
