"""One unit, one spelling: 特定健診 and 検査 write eGFR the same way."""
from __future__ import annotations

import pytest

from consent.units import EGFR_UNIT, unit_for, unit_label


@pytest.mark.parametrize("raw", ["mL/min/1.73m2", "mL/分/1.73m2", "ml/min/1.73m^2", "mL/min/1.73m²", "mL/分/1.73m²",
                                 "ｍＬ／ｍｉｎ／１．７３ｍ２", " mL/min/1.73 m2 "])
def test_every_spelling_of_the_egfr_unit_reads_the_same(raw):
    assert unit_label(raw) == EGFR_UNIT == "mL/分/1.73m²"


@pytest.mark.parametrize(("raw", "expected"), [
    ("kg/m2", "kg/m²"), ("mg/dl", "mg/dL"), ("mg/dL", "mg/dL"), ("IU/L", "U/L"), ("U/L", "U/L"),
    ("mmol/l", "mmol/L"), ("mmHg", "mmHg"), ("%", "%"), ("cm", "cm"), ("", ""), (None, ""),
])
def test_other_units_are_tidied_and_known_ones_kept(raw, expected):
    assert unit_label(raw) == expected


def test_the_simulators_lab_and_checkup_units_agree_once_labelled():
    from integrations.oqs.simulator.checkup_history import RULES
    from integrations.oqs.simulator.clinical import _LAB_ITEMS

    assert unit_label(_LAB_ITEMS["eGFR"][1]) == unit_label(RULES["egfr"].unit) == EGFR_UNIT
    assert unit_label(RULES["bmi"].unit) == "kg/m²"
    # The measure table names the same unit for both spellings of a code.
    assert unit_for("eGFR") == unit_for("egfr") == EGFR_UNIT
    assert unit_for("CRE") == unit_for("creatinine") == "mg/dL"
    assert unit_for("nothing") is None
