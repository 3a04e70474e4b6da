"""Units of measures, written one way on every page (特定健診 and 検査 alike).

The OQS simulator (and real systems) spell one unit several ways: 「mL/min/1.73m2」 in 検査,
「mL/分/1.73m2」 in 特定健診, 「kg/m2」 for BMI. Pages show `unit_label(raw)` instead of the raw text, and
a chart or table that knows its measure asks `MEASURE_UNITS` for it.

The spellings chosen are those of Japanese clinical writing: 「分」 for minutes in a rate (as the
日本腎臓学会 writes eGFR, mL/分/1.73m²), superscript ² for square metres, mL and dL with a capital L.
"""
from __future__ import annotations

import re
import unicodedata

EGFR_UNIT = "mL/分/1.73m²"

# Measure -> its unit, one spelling. Keys are the measure codes as the simulator's checkups
# (lower case) and labs (as named) use them; `unit_for` accepts either.
MEASURE_UNITS: dict[str, str] = {
    "egfr": EGFR_UNIT,
    "creatinine": "mg/dL",
    "cre": "mg/dL",
    "hba1c": "%",
    "fpg": "mg/dL",
    "sbp": "mmHg",
    "dbp": "mmHg",
    "ldl": "mg/dL",
    "hdl": "mg/dL",
    "tg": "mg/dL",
    "ast": "U/L",
    "alt": "U/L",
    "ggt": "U/L",
    "k": "mmol/L",
    "height": "cm",
    "weight": "kg",
    "waist": "cm",
    "bmi": "kg/m²",
}


def unit_for(measure: str) -> str | None:
    """The unit of a measure code (「eGFR」, 「egfr」, 「CRE」, 「bmi」...), or None if unknown."""
    return MEASURE_UNITS.get(measure.strip().lower())


# Whole-unit spellings that the rules below would not reach.
_EXACT = {"iu/l": "U/L", "u/l": "U/L", "mmhg": "mmHg", "mmol/l": "mmol/L", "meq/l": "mEq/L"}


def unit_label(raw: str | None) -> str:
    """One spelling for a unit as a source wrote it: 「mL/min/1.73m2」, 「mL/分/1.73m2」 and
    「ml/min/1.73m^2」 all become 「mL/分/1.73m²」; 「kg/m2」 becomes 「kg/m²」; 「mg/dl」 「mg/dL」.
    An empty or unknown unit comes back tidied but otherwise as it was."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")  # NFKC: full width, and ² -> 2
    exact = _EXACT.get(text.lower())
    if exact is not None:
        return exact
    text = re.sub(r"(?i)/min\b", "/分", text)
    text = re.sub(r"m\^?2$", "m²", text)  # square metres at the end: 1.73m2, kg/m2, m^2
    text = re.sub(r"(?i)\bml\b", "mL", text)
    text = re.sub(r"(?i)\bdl\b", "dL", text)
    text = re.sub(r"(?<![A-Za-z])l$", "L", text)  # a bare litre at the end (mmol/l)
    return text
