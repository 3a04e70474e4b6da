"""The events feed through the client: a walk across pages, resuming from a stored cursor, and an
expired cursor raised as CursorExpired with its resynchronisation advice. Events come from
switching the sandbox pharmacy's 資格確認限定型 on and off (institution.mode_changed)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mynareception_client import ApiError, CursorExpired


def switch_mode(sandbox, pharmacy, times: int) -> None:
    for n in range(times):
        sandbox.change_institution(pharmacy["institution_code"], qualification_only=n % 2 == 0)


def test_a_walk_across_pages_and_a_resume_from_the_stored_cursor(system_client, sandbox, pharmacy):
    switch_mode(sandbox, pharmacy, 5)

    stream = system_client.iter_events(limit=2)
    seen = []
    stored = None
    for event in stream:
        seen.append(event)
        if len(seen) == 2:
            stored = stream.cursor  # the caller saves the cursor after handling an event
            break
    assert stream.pages == 1 and stored is not None

    # Later (another process, after a restart): resume from what was stored.
    resumed = system_client.iter_events(after=stored, limit=2)
    rest = list(resumed)
    assert resumed.pages == 2 and len(rest) == 3  # a full page of 2, then a short page: the end

    everything = seen + rest
    assert [e.type for e in everything] == ["institution.mode_changed"] * 5
    assert [e.data["qualification_only"] for e in everything] == [True, False, True, False, True]
    ids = [e.id for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert all(e.occurred_at.utcoffset() == timedelta(hours=9) for e in everything)

    # Nothing new: the stored cursor yields nothing, and moves on to a renewed one.
    tail = system_client.iter_events(after=resumed.cursor)
    assert list(tail) == [] and tail.cursor


def test_inside_a_page_the_cursor_waits_for_the_page_s_last_event(system_client, sandbox, pharmacy):
    switch_mode(sandbox, pharmacy, 3)
    stream = system_client.iter_events(limit=3)
    first = next(stream)
    # Saving now and resuming gives the page again (at least once, never a gap).
    again = list(system_client.iter_events(after=stream.cursor, limit=3))
    assert again[0].id == first.id and len(again) == 3


def test_a_cursor_older_than_the_retention_raises_cursor_expired(system_client, sandbox, pharmacy, sandbox_clock):
    switch_mode(sandbox, pharmacy, 1)
    stream = system_client.iter_events()
    list(stream)
    stored = stream.cursor

    sandbox_clock.set_clock((datetime.now(timezone.utc) + timedelta(days=31)).isoformat())
    with pytest.raises(CursorExpired) as expired:
        list(system_client.iter_events(after=stored))
    error = expired.value
    assert isinstance(error, ApiError) and error.status == 410 and error.code == "cursor_expired"
    assert error.cursor == stored
    assert "iter_events(after=None)" in error.advice and "consent" in error.advice
    assert error.message  # the service's Japanese explanation

    # The advice works: the feed read again from its start.
    assert [e.type for e in system_client.iter_events()] == ["institution.mode_changed"]
