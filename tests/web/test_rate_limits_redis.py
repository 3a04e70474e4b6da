"""Rate limits counted in Redis when REDIS_URL is set (issue 41): no database write for a count.

.ci/run runs this file with the card and rate-limit tests once with REDIS_URL set; there, an
unreachable Redis fails the run instead of skipping it. Without REDIS_URL only the fault test
runs (it needs no Redis: nothing listens on its port).
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from store.models import RateLimitCounter
from store.ratelimit import RedisCounts

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL unset: .ci/run sets it for this file")


@needs_redis
def test_redis_named_by_redis_url_answers():
    # Set but unreachable is a failure, never a skip: the Redis path would go untested.
    RedisCounts(REDIS_URL, prefix="test-ping:").ping()


@needs_redis
def test_card_reads_count_in_redis_and_not_in_the_database(make_app, one_rate_minute):
    import re

    app = make_app("development")
    assert app.extensions.get("rate_counts") is not None
    client = app.test_client()
    page = client.get("/card/signin").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    codes = [client.post("/card/options?purpose=signin", json={}, headers={"X-CSRF-Token": csrf}).status_code
             for _ in range(31)]
    assert codes == [200] * 30 + [429]  # 3 x card reads per session (10) a minute
    with app.extensions["sessionmaker"]() as s:
        assert s.scalar(select(func.count()).select_from(RateLimitCounter)) == 0
    counts = app.extensions["rate_counts"]
    assert counts.client.keys(f"{counts.prefix}card-options:session:*")


def test_an_unreachable_redis_is_a_503_not_a_pass(make_app):
    import re

    app = make_app("development", redis_url="redis://127.0.0.1:1/0", redis_prefix="test-down:")
    client = app.test_client()
    page = client.get("/card/signin").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    resp = client.post("/card/options?purpose=signin", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "unavailable"
