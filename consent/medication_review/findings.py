"""The lines of 「確認事項」: what each check found, or why a check was not made.

Every line starts with its check's label (CHECK_LABELS below, the console's public words), names
the drug and the reason, and says where the data came from and its date. `Finding.text` is the line as the page
shows it; the parts are there too for a page that lays them out itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consent.wareki import japanese_date

# The checks, in the order the page lists them, and their labels.
RENAL, ALLERGY, DUPLICATE, POLYPHARMACY = "renal", "allergy", "duplicate", "polypharmacy"
CHECKS: tuple[str, ...] = (RENAL, ALLERGY, DUPLICATE, POLYPHARMACY)
CHECK_LABELS: dict[str, str] = {RENAL: "腎機能", ALLERGY: "アレルギー", DUPLICATE: "重複", POLYPHARMACY: "多剤"}

# How strongly a line asks for attention: a 禁忌 by the source, something to check, or a note.
CONTRAINDICATED, CHECK, NOTE = "contraindicated", "check", "note"

# What the page says above the lines (issue 33: the checks support, and do not replace, judgement).
def disclaimer(licensed_label: str = "薬剤師") -> str:
    """Said under the checks, naming the institution's licensed role (医師 at a clinic)."""
    return f"確認事項は{licensed_label}の確認を支援するためのもので、判断に代わるものではありません。"


DISCLAIMER = disclaimer()


@dataclass(frozen=True)
class Evidence:
    """Where one fact of a line came from: 「検査」 on a day, 「薬剤情報（レセプト）」 on a day..."""

    source: str
    on: date | None

    @property
    def text(self) -> str:
        return self.source if self.on is None else f"{self.source} {japanese_date(self.on)}"


@dataclass(frozen=True)
class Finding:
    check: str  # RENAL, ALLERGY, DUPLICATE, POLYPHARMACY
    drugs: tuple[str, ...]  # the drug names the line is about (empty: about none, e.g. 「該当する薬剤なし」)
    reason: str  # the finding itself, in plain Japanese
    evidence: tuple[Evidence, ...]
    level: str = CHECK
    basis: str = ""  # the rule's source (「メトグルコ 添付文書「禁忌」」); empty for counts

    @property
    def label(self) -> str:
        return CHECK_LABELS[self.check]

    @property
    def text(self) -> str:
        """「腎機能：メトホルミン…　eGFR 45.0 …（出典：…）［検査 2026年9月20日／薬剤情報…］」"""
        subject = "、".join(dict.fromkeys(self.drugs))  # one name once, even when both drugs share it
        body = f"{subject}　{self.reason}" if subject else self.reason
        basis = f"（根拠：{self.basis}）" if self.basis else ""
        sources = "／".join(dict.fromkeys(e.text for e in self.evidence))
        return f"{self.label}：{body}{basis}" + (f"［{sources}］" if sources else "")


@dataclass(frozen=True)
class NotChecked:
    """A check the review could not make, and why (a category not consented, no eGFR on record)."""

    check: str
    reason: str

    @property
    def label(self) -> str:
        return CHECK_LABELS[self.check]

    @property
    def text(self) -> str:
        return f"{self.label}：確認していません（{self.reason}）"
