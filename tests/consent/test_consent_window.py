"""The consent window: until 23:59:59 JST of the day after the consultation date, whatever the
process time zone; the 診療日 range; how 閲覧期限 is written."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import pytest

from consent.actors import Actor
from consent.clock import JST
from consent.decision import decide
from consent.errors import ConsentError
from consent.grants import register_consent, status_at
from consent.window import deadline_text, format_jst, window_end
from web.error_messages import describe
from web.error_messages import decision_message


@pytest.fixture(params=["UTC", "America/Los_Angeles"])
def process_tz(request, monkeypatch):
    """Run the test with the process's local zone set to `param` (TZ + tzset)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def _register(sessions, institution_id, clock, consultation_date, categories=("drug", "limit")):
    with sessions() as session:
        consent = register_consent(
            session, institution_id=institution_id, person_id="person-1", card_id="card-1",
            care_setting=3, categories=categories, consultation_date=consultation_date,
            now=clock.now(),
        )
        session.commit()
        return consent


def _decide(sessions, institution_id, clock, category="drug"):
    pharmacist = Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")
    with sessions() as session:
        decision = decide(
            session, institution_id=institution_id, actor=pharmacist, person_id="person-1",
            category=category, now=clock.now(),
        )
        session.commit()
        return decision


def test_window_end_is_midnight_jst_two_days_later_in_utc(process_tz):
    end = window_end(date(2026, 12, 3))
    assert end == datetime(2026, 12, 5, 0, 0, tzinfo=JST)
    assert end == datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)
    assert end.utcoffset() == timedelta(0)
    # Month and year ends roll over.
    assert window_end(date(2026, 12, 31)) == datetime(2027, 1, 2, tzinfo=JST)
    assert window_end(date(2028, 2, 28)) == datetime(2028, 3, 1, tzinfo=JST)


def test_process_zone_is_really_switched(process_tz):
    offset = time.localtime(1_800_000_000).tm_gmtoff
    assert offset == (0 if process_tz == "UTC" else -8 * 3600)


def test_deadline_is_written_as_the_last_minute_in_jst(process_tz):
    end = window_end(date(2026, 12, 3))
    assert deadline_text(end) == "2026年12月4日 23:59"
    assert format_jst(datetime(2026, 12, 4, 0, 5, tzinfo=timezone.utc)) == "2026年12月4日 09:05"


def test_window_boundaries(process_tz, sessions, institution_id, clock):
    # Consent given in the last second of the consultation date (JST).
    clock.set(datetime(2026, 12, 3, 23, 59, 59, tzinfo=JST))
    consent = _register(sessions, institution_id, clock, date(2026, 12, 3))
    assert consent.window_end == datetime(2026, 12, 5, 0, 0, tzinfo=JST)
    assert _decide(sessions, institution_id, clock).allowed

    clock.set(datetime(2026, 12, 4, 23, 59, 59, tzinfo=JST))
    allowed = _decide(sessions, institution_id, clock)
    assert allowed.allowed and allowed.consent.id == consent.id
    with sessions() as session:
        assert status_at(session.get(type(consent), consent.id), clock.now()) == "有効"

    clock.set(datetime(2026, 12, 5, 0, 0, 0, tzinfo=JST))
    denied = _decide(sessions, institution_id, clock)
    assert not denied.allowed
    assert denied.reason == "consent_expired"
    assert decision_message(denied) == "薬剤・処方の同意有効期限切れ（2026年12月4日 23:59まで）"
    assert denied.since == consent.window_end
    with sessions() as session:
        assert status_at(session.get(type(consent), consent.id), clock.now()) == "同意有効期限切れ"


def test_window_opens_at_the_consent_for_a_future_date(process_tz, sessions, institution_id, clock):
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=JST))
    consent = _register(sessions, institution_id, clock, date(2026, 12, 23))  # 30 days ahead
    assert consent.window_end == datetime(2026, 12, 25, 0, 0, tzinfo=JST)
    assert _decide(sessions, institution_id, clock).allowed
    clock.set(datetime(2026, 12, 24, 23, 59, 59, tzinfo=JST))
    assert _decide(sessions, institution_id, clock).allowed
    clock.set(datetime(2026, 12, 25, 0, 0, tzinfo=JST))
    assert _decide(sessions, institution_id, clock).reason == "consent_expired"


def test_thirty_one_days_ahead_and_yesterday_are_refused(process_tz, sessions, institution_id, clock):
    # 00:30 JST is still the previous day in UTC and in Los Angeles: "today" must be Japan's.
    clock.set(datetime(2026, 11, 23, 0, 30, tzinfo=JST))
    _register(sessions, institution_id, clock, date(2026, 11, 23))  # today (JST) is fine
    with pytest.raises(ConsentError) as too_far:
        _register(sessions, institution_id, clock, date(2026, 12, 24))
    assert too_far.value.code == "date_too_far"
    assert "30日後まで" in describe(too_far.value).message
    with pytest.raises(ConsentError) as past:
        _register(sessions, institution_id, clock, date(2026, 11, 22))
    assert past.value.code == "date_in_past"
    assert describe(past.value).message == "診療日に過去の日付は指定できません。"


def test_max_days_ahead_is_configurable(sessions, institution_id, clock):
    with sessions() as session:
        with pytest.raises(ConsentError) as refused:
            register_consent(
                session, institution_id=institution_id, person_id="p", card_id="c", care_setting=3,
                categories=["drug"], consultation_date=date(2026, 11, 30), now=clock.now(),
                max_days_ahead=6,
            )
        assert "6日後まで" in describe(refused.value).message
        session.rollback()
