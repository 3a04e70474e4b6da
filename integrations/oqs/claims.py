"""When OQS holds a claim: a month's claims are filed by the 10th of the next month, so on the 11th
the previous month becomes visible. A contract fact (pages and the medication review need it), not a
simulator detail: the simulator's drug histories follow it too."""
from __future__ import annotations

from datetime import date, timedelta


def _last_day_of_previous_month(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def claims_visible_until(today: date) -> date:
    """The last day whose claims OQS holds on `today`."""
    end = _last_day_of_previous_month(today)
    return end if today.day >= 11 else _last_day_of_previous_month(end)
