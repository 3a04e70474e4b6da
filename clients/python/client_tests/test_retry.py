"""429 against the live server: the batch inquiry allows 30 requests a minute per client; the
client waits the `Retry-After` the server sent and tries again, or, told not to wait that long,
raises RateLimited carrying it."""
from __future__ import annotations

import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

from mynareception_client import Client, RateLimited, retry_after_seconds

ROW = {"insurer_number": "06139993", "symbol": "1", "number": "1", "branch": "00", "birth_date": "1980-01-01"}


def test_a_429_is_retried_after_the_servers_retry_after(live_server, pharmacy):
    creds = pharmacy["api_client"]
    impatient = Client.client_credentials(live_server.url, creds["client_id"], creds["client_secret"], max_retries=0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    patient = Client.client_credentials(live_server.url, creds["client_id"], creds["client_secret"], sleep=sleep)
    with impatient, patient:
        # Up to the limit (a minute's window may turn over meanwhile: go on until the 429).
        for _ in range(61):
            try:
                impatient.batch_inquiry([ROW])
            except RateLimited as refused:
                limited = refused
                break
        else:
            raise AssertionError("no 429 within 61 batch inquiries")
        assert limited.status == 429 and limited.code == "rate_limited"
        assert 1 <= limited.retry_after <= 60 and limited.message

        answer = patient.batch_inquiry([ROW])
        assert len(answer.results) == 1 and answer.results[0].row == 1
        assert len(waits) == 1 and 1 <= waits[0] <= 60  # waited once, as long as the server said


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 12, 4, 1, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True),
                               now=now.timestamp()) == 30.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
