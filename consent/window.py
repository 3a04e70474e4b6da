"""The consent window (閲覧期限) and how its times are written for people.

Seed 000: a consent for an online consultation lets the institution read 「同意取得時からオンライン
診療等の実施日の翌日末まで」. So the window ends at 00:00 Asia/Tokyo of consultation date + 2 days,
exclusive. Everything is computed with an explicit zone, never the process's local time.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from consent.clock import JST


def window_end(consultation_date: date) -> datetime:
    """The exclusive end of the window for a consultation date, as an aware UTC datetime."""
    end_jst = datetime.combine(consultation_date + timedelta(days=2), time(0), tzinfo=JST)
    return end_jst.astimezone(timezone.utc)


def jst_date(instant: datetime) -> date:
    """The calendar date in Japan at an instant."""
    return aware(instant).astimezone(JST).date()


def format_jst(instant: datetime) -> str:
    """`2026年12月4日 23:59`: how times are written for people (JST, minutes)."""
    local = aware(instant).astimezone(JST)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def deadline_text(end: datetime) -> str:
    """閲覧期限 as people read it: the last minute inside the window (end is exclusive).

    A window ending at 2026-12-05 00:00 JST is written `2026年12月4日 23:59`; pages add 「まで」.
    """
    return format_jst(aware(end) - timedelta(minutes=1))


def aware(instant: datetime) -> datetime:
    """Refuse naive datetimes: a naive time is how a window drifts by nine hours."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware instant (e.g. clock.now())")
    return instant.astimezone(timezone.utc)
