"""Password sign-in with throttling that never lets a stranger lock a person out.

Failures are counted per (login id, address) and per address, in the database (every worker
shares them) and atomically: an attempt reserves its place in the counts before the password
is checked, so twenty concurrent guesses get five evaluations, not six. Rules, per 15 minutes:

- after 5 failures of a login id from an address, that id is refused from that address;
- after 100 failures from an address, the ids that failed from there are refused from there.

An address that has not failed for a login id is never refused for it: the right password from
the pharmacy's usual terminal works while someone guesses elsewhere (or guesses other ids behind
the same address). Counts are fixed 15-minute windows (store/ratelimit.py). Refusals are
recorded in the security log.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consent.errors import DomainError
from consent.security_log import digest, record_event
from consent.staff_auth import StaffIdentity, authenticate
from store.ratelimit import count_hits, limit_key, uncount_hits

FAILURES_PER_ID_AND_ADDRESS = 5
FAILURES_PER_ADDRESS = 100
WINDOW_SECONDS = 15 * 60


class LoginThrottled(DomainError):
    """Too many failures; `rule` is "id_address" or "address". The password was not checked."""

    domain = "login"
    codes = frozenset({"login_throttled"})

    def __init__(self, rule: str) -> None:
        super().__init__("login_throttled", detail=rule)
        self.rule = rule


def _keys(login_id: str, address: str) -> tuple[str, str]:
    # The id is case-folded: login ids are looked up as typed, but guessing must not get five
    # more tries per spelling.
    return (limit_key("login-fail:id-address", f"{login_id.lower()}\n{address}"),
            limit_key("login-fail:address", address))


def sign_in_with_password(
    session: Session, *, login_id: str, password: str, address: str, now: datetime
) -> StaffIdentity | None:
    """The staff member for these credentials, None for wrong ones; LoginThrottled when refused.

    `now` is real time (not the sandbox clock). Commits `session` (a refusal's record, a
    rehashed password); call it before the request has written anything else.
    """
    engine = session.get_bind()
    ts = now.timestamp()
    keys = _keys(login_id, address)
    # Reserve: this attempt counts as a failure until it proves otherwise.
    counts = count_hits(engine, list(keys), window_seconds=WINDOW_SECONDS, now_ts=ts)
    pair, per_address = counts[keys[0]], counts[keys[1]]
    rule = None
    if pair > FAILURES_PER_ID_AND_ADDRESS:
        rule = "id_address"
    elif per_address > FAILURES_PER_ADDRESS and pair > 1:  # this id failed from here before
        rule = "address"
    if rule is not None:
        uncount_hits(engine, list(keys), window_seconds=WINDOW_SECONDS, now_ts=ts)  # a refusal is no failure
        record_event(session, event="login_refused", subject=login_id, now=now, reason=rule,
                     detail={"address": digest(address)})
        session.commit()
        raise LoginThrottled(rule)
    try:
        identity = authenticate(session, login_id=login_id, password=password)
    except BaseException:
        uncount_hits(engine, list(keys), window_seconds=WINDOW_SECONDS, now_ts=ts)
        raise
    if identity is None:
        session.rollback()
        return None  # the reservation stands: one failure
    session.commit()
    uncount_hits(engine, list(keys), window_seconds=WINDOW_SECONDS, now_ts=ts)
    return identity
