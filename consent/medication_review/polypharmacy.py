"""「多剤」: six or more current drugs (ポリファーマシー), with the count.

Six is where the 日本老年医学会 and 日本医師会 (「超高齢社会におけるかかりつけ医のための適正処方の手引き」)
place 多剤併用: adverse events rise from about six drugs. The count is that of 「現在の薬」 (one per
ingredient and form class), external ones included.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from consent.medication_review.current import CurrentDrug
from consent.medication_review.findings import CHECK, POLYPHARMACY, Evidence, Finding
from consent.medication_review.inputs import EXTERNAL

POLYPHARMACY_FROM = 6


def polypharmacy_findings(current: Sequence[CurrentDrug], today: date) -> list[Finding]:
    count = len(current)
    if count < POLYPHARMACY_FROM:
        return []
    internal = sum(1 for drug in current if drug.line.dosage_form != EXTERNAL)
    return [Finding(POLYPHARMACY, (), f"現在の薬が{count}剤（うち内服・頓服{internal}剤）：{POLYPHARMACY_FROM}剤以上です",
                    (Evidence("現在の薬（本日時点）", today),), CHECK,
                    "日本老年医学会・日本医師会「超高齢社会におけるかかりつけ医のための適正処方の手引き」")]
