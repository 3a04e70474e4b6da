"""How long a dispensed drug lasts: from the dispensing day (day 1) for its 日数.

A 「週N回」 or 「月N回」 drug's 日数 counts doses (5 weekly doses cover 35 days). 頓服's 回数 counts as days,
and 外用 (OQS gives no 日数) as EXTERNAL_USE_DAYS: both are marked `days_estimated`.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from consent.medication_review.inputs import AS_NEEDED, EXTERNAL, DrugLine

# OQS gives no 日数 for external use (a tube, a box of tape): such a drug counts as in use for this
# many days after dispensing, the commonest interval of a regular visit. Marked `days_estimated`.
EXTERNAL_USE_DAYS = 28


@dataclass(frozen=True)
class Supply:
    first_day: date  # the dispensing day
    last_day: date  # the last day the supply covers
    days_estimated: bool  # 外用 (no days given) or 頓服 (回数 counted as days)

    def overlaps(self, other: "Supply") -> bool:
        return self.first_day <= other.last_day and other.first_day <= self.last_day


# 「週1回」「月1回」: the 日数 of such a drug counts doses, one a week (or a month).
_PER_PERIOD = re.compile(r"(週|月)\s*(\d+)\s*回")
_PERIOD_DAYS = {"週": 7, "月": 30}


def supply_of(line: DrugLine) -> Supply:
    if line.dosage_form == EXTERNAL or line.days is None:
        days, estimated = (line.days or EXTERNAL_USE_DAYS), True
    else:
        days, estimated = line.days, line.dosage_form == AS_NEEDED
        periodic = _PER_PERIOD.search(unicodedata.normalize("NFKC", line.usage))
        if periodic and int(periodic[2]) > 0:
            days = math.ceil(days * _PERIOD_DAYS[periodic[1]] / int(periodic[2]))
    days = max(1, days)
    return Supply(line.dispensed_on, line.dispensed_on + timedelta(days=days - 1), estimated)
