"""Leaving 「受付モード」 on the institution's tablet: the signed-in staff member's password, with a
limit of its own.

The tablet is in a patient's hands. Wrong passwords typed there must slow the tablet, never lock
the staff member out of their console sign-in: they are counted per staff member and tablet URL,
apart from the console's counts (consent/login_throttle.py), and a refusal says to wait. After
LEAVE_FAILURES wrong passwords in a fixed window the password is not checked at all until the
window ends, so the form is no oracle for guessing it either.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consent.errors import DomainError
from consent.security_log import record_event
from consent.staff_auth import StaffIdentity, authenticate
from store.ratelimit import count_hits, limit_key, uncount_hits

LEAVE_FAILURES = 5
LEAVE_WINDOW_SECONDS = 5 * 60


class LeaveThrottled(DomainError):
    """Too many wrong passwords at this tablet; the password was not checked."""

    domain = "tablet_leave"
    codes = frozenset({"leave_throttled"})


def check_leave_password(session: Session, *, staff: StaffIdentity, password: str, tablet: str,
                         now: datetime) -> bool:
    """Is `password` the signed-in staff member's? LeaveThrottled when this tablet is slowed.

    `tablet` names the tablet URL (its token); `now` is real time. Commits `session` (a refusal's
    record, a rehashed password): call it before the request writes anything else.
    """
    engine = session.get_bind()
    ts = now.timestamp()
    key = limit_key("tablet-leave-fail", f"{staff.staff_id}\n{tablet}")
    # Reserve: this attempt counts as a failure until the password proves right.
    if count_hits(engine, [key], window_seconds=LEAVE_WINDOW_SECONDS, now_ts=ts)[key] > LEAVE_FAILURES:
        uncount_hits(engine, [key], window_seconds=LEAVE_WINDOW_SECONDS, now_ts=ts)
        record_event(session, event="tablet_leave_refused", subject=staff.login_id, now=now)
        session.commit()
        raise LeaveThrottled("leave_throttled")
    try:
        identity = authenticate(session, login_id=staff.login_id, password=password) if password else None
    except BaseException:
        uncount_hits(engine, [key], window_seconds=LEAVE_WINDOW_SECONDS, now_ts=ts)
        raise
    if identity is None or identity.staff_id != staff.staff_id:
        session.rollback()
        return False
    session.commit()
    uncount_hits(engine, [key], window_seconds=LEAVE_WINDOW_SECONDS, now_ts=ts)
    return True
