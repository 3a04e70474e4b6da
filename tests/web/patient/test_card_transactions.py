"""A card read is one write transaction a request, and keeps every guarantee it had with several:
single-use challenges, refused reads counted against the limits, the browser session rotated at
sign-in (issue 41)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from store.models import RateLimitCounter, WebSession
from test_card import ORIGIN, Browser, card_row, issue


@pytest.fixture
def card_app(make_app):
    return make_app("development")


class Commits:
    """Counts the commits (write transactions) on the app's engine."""

    def __init__(self, app):
        self.n = 0
        event.listen(app.extensions["engine"], "commit", self._commit)

    def _commit(self, _conn):
        self.n += 1

    def during(self, call):
        before = self.n
        result = call()
        return result, self.n - before


def test_options_and_verify_commit_once_each_and_the_session_is_rotated(card_app, clock):
    card, soft = issue(card_app, clock)
    browser = Browser(card_app)
    commits = Commits(card_app)
    cookie_before = browser.client.get_cookie("session").value
    options, n_options = commits.during(browser.options)
    resp, n_verify = commits.during(lambda: browser.verify(soft.assertion(options, origin=ORIGIN)))
    assert resp.status_code == 200, resp.get_json()
    assert (n_options, n_verify) == (1, 1)
    assert browser.signed_in()
    assert card_row(card_app, card.card_id).sign_count == 1
    # A new session id at sign-in; the old one no longer exists on the server.
    cookie_after = browser.client.get_cookie("session").value
    assert cookie_after != cookie_before
    with card_app.extensions["sessionmaker"]() as s:
        assert s.scalar(select(WebSession).where(WebSession.id_hash == _hash(cookie_before))) is None
        assert s.scalar(select(WebSession).where(WebSession.id_hash == _hash(cookie_after))) is not None


def test_a_refused_read_commits_once_uses_its_challenge_and_ends_what_a_read_allowed(card_app, clock):
    _, soft = issue(card_app, clock)
    browser = Browser(card_app)
    assert browser.verify(soft.assertion(browser.options(), origin=ORIGIN)).status_code == 200
    page = browser.client.get("/card/signin").get_data(as_text=True)  # the signed-in session's form token
    browser.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert browser.signed_in()
    commits = Commits(card_app)
    options = browser.options()
    bad = soft.assertion(options, origin=ORIGIN, bogus_signature=True)
    resp, n = commits.during(lambda: browser.verify(bad))
    assert resp.status_code == 400 and resp.get_json()["error"] == "bad_signature"
    assert n == 1
    assert not browser.signed_in()  # the earlier sign-in ended with the refusal
    # The challenge went with the refusal: the same challenge, well signed, is unknown now.
    good = soft.assertion(options, origin=ORIGIN)
    assert browser.verify(good).get_json()["error"] == "challenge_unknown"


def test_a_read_whose_flow_fails_afterwards_still_uses_its_challenge_and_counts(card_app, clock, monkeypatch,
                                                                                  one_rate_minute):
    import web.patient.card as card_module

    card, soft = issue(card_app, clock)
    browser = Browser(card_app)
    options = browser.options()
    assertion = soft.assertion(options, origin=ORIGIN)

    def fails(_db):
        raise RuntimeError("the flow's own work failed after the card was read")

    with monkeypatch.context() as patched:
        patched.setattr(card_module, "commit_with_session", fails)
        assert browser.verify(assertion).status_code == 500
    # Rolled back: no sign-in, no new count ...
    assert not browser.signed_in()
    assert card_row(card_app, card.card_id).sign_count == 0
    # ... but the challenge stays used and the read stays counted (store/kept.py).
    browser = Browser(card_app)
    resp = browser.verify(assertion)
    assert resp.get_json()["error"] == "challenge_unknown"
    assert _counted(card_app, "card-verify:card") == 2


def test_over_the_limit_the_count_alone_is_committed(card_app, clock, one_rate_minute):
    _, soft = issue(card_app, clock)
    commits = Commits(card_app)
    codes = []
    for _ in range(6):
        browser = Browser(card_app)
        options = browser.options()
        resp, n = commits.during(lambda: browser.verify(soft.assertion(options, origin=ORIGIN, user_verified=False)))
        codes.append((resp.status_code, n))
    assert codes == [(400, 1)] * 5 + [(429, 1)]
    assert _counted(card_app, "card-verify:card") == 6


def _counted(app, scope: str) -> int:
    """The highest count under `scope` this minute, in Redis or in the database."""
    counts = app.extensions.get("rate_counts")
    if counts is not None:
        keys = counts.client.keys(f"{counts.prefix}{scope}:*")
        return max((int(counts.client.get(k)) for k in keys), default=0)
    with app.extensions["sessionmaker"]() as s:
        rows = s.scalars(select(RateLimitCounter.count).where(RateLimitCounter.key.startswith(scope + ":"))).all()
    return max(rows, default=0)


def _hash(sid: str) -> str:
    import hashlib

    return hashlib.sha256(sid.encode()).hexdigest()
