"""The drug history grouped as it was dispensed: date, pharmacy (or clinic), prescriber, then its
medicines, newest first.

OQS reports one drug per record and the same dispensing can come twice: from claims (レセプト,
a month and more later) and from e-prescription data (電子処方箋, the next day). A dispensing is
identified by (day it was handed over, who handed it over, who prescribed it); within it, a
claims line and a prescription line of the same drug, dose and days are one row labelled with
both sources.

Ids are stable (the same record reads as the same id on every read, on every worker): a hash of
what identifies the thing, never a position in a list. `dispensing_id` is what the API's drug rows
expose (a claims row and a prescription row of one dispensing share it); `record_id` names one
source's record; `row_id` one merged row of the page.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from consent.medication_review.inputs import PRESCRIPTION, SOURCE_LABELS, SOURCES, DrugLine
from consent.medication_review.supply import Supply, supply_of

ID_LENGTH = 16  # hex characters: 64 bits, plenty within one patient's three years


def _digest(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:ID_LENGTH]


def dispensing_key(day: date, dispenser: str | None, prescriber: str, *, scope: str = "") -> str:
    """The stable id of one dispensing: its day, who handed it over (a pharmacy, or the clinic for
    院内) and who prescribed it. `scope` (e.g. a consent id) makes ids differ between patients who
    happen to share all three; the same scope must be used on every read."""
    return _digest("dispensing", scope, day.isoformat(), dispenser or "", prescriber)


def _drug_key(line: DrugLine) -> tuple:
    # Same drug, same form, same instructions: the same row of a dispensing, whichever source said it.
    return (line.yj_code, line.dosage_form, line.usage, line.dose, line.days)


@dataclass(frozen=True)
class LineIds:
    record_id: str  # this source's record (the API's drug row `id`)
    dispensing_id: str
    row_id: str  # the merged row (claims and prescription of one drug in one dispensing)


def _line_keys(lines: Sequence[DrugLine], scope: str) -> list[tuple[str, tuple, int]]:
    """(dispensing id, the line's key within it, its occurrence) for each line."""
    dispensing_ids: dict[tuple, str] = {}  # a history has few dispensings and many lines: hash each once
    seen: dict[tuple, int] = {}
    out = []
    for line in lines:
        where = (line.dispensed_on, line.dispenser, line.prescriber)
        dispensing_id = dispensing_ids.get(where)
        if dispensing_id is None:
            dispensing_id = dispensing_ids[where] = dispensing_key(*where, scope=scope)
        key = (dispensing_id, line.source, *_drug_key(line))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append((dispensing_id, key, occurrence))
    return out


def _row_id(dispensing_id: str, key: tuple, occurrence: int) -> str:
    # The n-th claims line and the n-th prescription line of a drug are the same row: no source.
    return _digest("row", dispensing_id, *key[2:], occurrence)


def line_ids(lines: Sequence[DrugLine], *, scope: str = "") -> list[LineIds]:
    """Ids for each line, in the order given. Identical lines of one dispensing and source (a drug
    written twice) are told apart by their order of appearance."""
    return [LineIds(record_id=_digest("record", *key, occurrence), dispensing_id=dispensing_id,
                    row_id=_row_id(dispensing_id, key, occurrence))
            for dispensing_id, key, occurrence in _line_keys(lines, scope)]


def record_ids(lines: Sequence[DrugLine], *, scope: str = "") -> list[tuple[str, str]]:
    """(record_id, dispensing_id) for each line, as line_ids gives them, without the merged row's
    id (the API's drug rows have no use for it: one digest a line less)."""
    return [(_digest("record", *key, occurrence), dispensing_id)
            for dispensing_id, key, occurrence in _line_keys(lines, scope)]


@dataclass(frozen=True)
class DispensedDrug:
    """One medicine of a dispensing, from one source or both."""

    row_id: str
    line: DrugLine  # the line shown (the e-prescription one when both sources have it: it knows refills)
    sources: tuple[str, ...]  # in SOURCES order

    @property
    def source_labels(self) -> str:
        """「レセプト・電子処方箋」"""
        return "・".join(SOURCE_LABELS[s] for s in self.sources)

    @cached_property
    def supply(self) -> Supply:
        """The days the supply covers: asked for by several checks, worked out once."""
        return supply_of(self.line)

    @property
    def refill_label(self) -> str:
        """「リフィル 2/3回目」, or "" when not part of a リフィル処方箋."""
        line = self.line
        if line.refill_total is None:
            return ""
        use = "" if line.refill_use is None else f" {line.refill_use}/{line.refill_total}回目"
        return f"リフィル{use or f'（{line.refill_total}回）'}"


@dataclass(frozen=True)
class Dispensing:
    dispensing_id: str
    day: date
    pharmacy: str | None  # None: dispensed in house (院内)
    prescriber: str
    drugs: tuple[DispensedDrug, ...]

    @property
    def institution(self) -> str:
        """Who handed it over: the pharmacy, or the clinic for 院内."""
        return self.pharmacy or self.prescriber

    @property
    def in_house(self) -> bool:
        return self.pharmacy is None

    @property
    def sources(self) -> tuple[str, ...]:
        found = {s for drug in self.drugs for s in drug.sources}
        return tuple(s for s in SOURCES if s in found)

    @property
    def source_labels(self) -> str:
        return "・".join(SOURCE_LABELS[s] for s in self.sources)

    @property
    def refill(self) -> bool:
        return any(drug.line.refill for drug in self.drugs)

    @property
    def prescribed_on(self) -> date:
        """The prescription's day: earlier than `day` for a later use of a リフィル処方箋."""
        return min(drug.line.prescribed_on for drug in self.drugs)


def group_dispensings(lines: Iterable[DrugLine], *, scope: str = "") -> tuple[Dispensing, ...]:
    """The lines grouped by dispensing, newest first (then by pharmacy and prescriber, so the order
    is the same on every read); within a dispensing, medicines in the order first reported."""
    lines = list(lines)
    groups: dict[str, dict[str, list[DrugLine]]] = {}
    firsts: dict[str, DrugLine] = {}
    for line, (dispensing_id, key, occurrence) in zip(lines, _line_keys(lines, scope)):
        firsts.setdefault(dispensing_id, line)
        groups.setdefault(dispensing_id, {}).setdefault(_row_id(dispensing_id, key, occurrence), []).append(line)
    out = []
    for dispensing_id, rows in groups.items():
        first = firsts[dispensing_id]
        drugs = []
        for row_id, row_lines in rows.items():
            present = {line.source for line in row_lines}
            shown = next((line for line in row_lines if line.source == PRESCRIPTION), row_lines[0])
            drugs.append(DispensedDrug(row_id, shown, tuple(s for s in SOURCES if s in present)))
        out.append(Dispensing(dispensing_id, first.dispensed_on, first.dispenser, first.prescriber, tuple(drugs)))
    out.sort(key=lambda d: (d.institution, d.prescriber, d.dispensing_id))
    out.sort(key=lambda d: d.day, reverse=True)
    return tuple(out)
