"""Card sign-in: the relying party's rules, with a software card signing real assertions."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from consent.clock import JST
from integrations.card import make_card_authority
from integrations.card.local_authority import certificate_valid_until
from integrations.card.soft_authenticator import SoftCard
from integrations.card.models import CardRecord
from consent.webauthn import RelyingParty, authentication_options
from integrations.card.relying_party import CardSignInError, verify_card_assertion
from web.error_messages import CARD

ORIGIN = "http://localhost:5000"


@pytest.fixture
def card_app(make_app):
    return make_app("development")


def issue(app, clock, *, birth_date=date(1980, 5, 17), person_id="P-test-1"):
    with app.extensions["sessionmaker"]() as session:
        issued = make_card_authority(session).issue_card(person_id=person_id, birth_date=birth_date, now=clock.now())
        session.commit()
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
    return issued.card, SoftCard(issued.card.credential_id, issued.card.user_handle, key)


class Browser:
    """A test client that behaves like the card page's script."""

    def __init__(self, app):
        self.client = app.test_client()
        page = self.client.get("/card/signin").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def options(self, purpose="signin"):
        resp = self.client.post(f"/card/options?purpose={purpose}", json={}, headers={"X-CSRF-Token": self.csrf})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def verify(self, credential):
        return self.client.post("/card/signin/verify", json={"credential": credential},
                                headers={"X-CSRF-Token": self.csrf})

    def signed_in(self) -> bool:
        with self.client.session_transaction() as s:
            return "patient" in s


def card_row(app, card_id):
    with app.extensions["sessionmaker"]() as session:
        return session.get(CardRecord, card_id)


def test_options_are_discoverable_uv_required_and_single_use(card_app):
    browser = Browser(card_app)
    options = browser.options()
    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []
    assert len(options["challenge"]) == 43  # 32 bytes, base64url


def test_a_card_signs_in_and_its_count_is_stored(card_app, clock):
    card, soft = issue(card_app, clock)
    browser = Browser(card_app)
    resp = browser.verify(soft.assertion(browser.options(), origin=ORIGIN))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["redirect"] == "/card/me"
    assert browser.signed_in()
    assert card_row(card_app, card.card_id).sign_count == 1


def test_replayed_assertion_is_refused(card_app, clock):
    _, soft = issue(card_app, clock)
    browser = Browser(card_app)
    assertion = soft.assertion(browser.options(), origin=ORIGIN)
    assert browser.verify(assertion).status_code == 200
    again = Browser(card_app)
    replay = again.verify(assertion)
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "challenge_unknown"
    assert not again.signed_in()


def test_challenge_of_another_browser_session_is_refused(card_app, clock):
    _, soft = issue(card_app, clock)
    victim, attacker = Browser(card_app), Browser(card_app)
    assertion = soft.assertion(victim.options(), origin=ORIGIN)
    resp = attacker.verify(assertion)
    assert resp.get_json()["error"] == "challenge_unknown"
    # ...and it is burned for the victim too: a challenge is used once.
    assert victim.verify(assertion).get_json()["error"] == "challenge_unknown"


@pytest.mark.parametrize("seconds, expected", [(299, 200), (300, 400)])
def test_challenge_expires_after_five_minutes(card_app, clock, seconds, expected):
    _, soft = issue(card_app, clock)
    browser = Browser(card_app)
    options = browser.options()
    clock.set(clock.now() + timedelta(seconds=seconds))
    resp = browser.verify(soft.assertion(options, origin=ORIGIN))
    assert resp.status_code == expected
    if expected == 400:
        assert resp.get_json()["error"] == "challenge_expired"
        assert "5分" in resp.get_json()["message"]


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"origin": "https://evil.example"}, "wrong_origin"),
        ({"rp_id": "example.com"}, "wrong_rp"),
        ({"user_verified": False}, "not_verified"),
        ({"user_present": False}, "not_present"),
        ({"bogus_signature": True}, "bad_signature"),
        ({"backup_eligible": True}, "synced_credential"),
    ],
)
def test_bad_assertions_are_refused_without_a_session(card_app, clock, kwargs, code):
    card, soft = issue(card_app, clock)
    browser = Browser(card_app)
    kwargs = {"origin": ORIGIN, **kwargs}
    resp = browser.verify(soft.assertion(browser.options(), **kwargs))
    assert resp.status_code in (400, 403)
    body = resp.get_json()
    assert body["error"] == code
    assert body["message"]  # a Japanese sentence saying what to do next
    assert not browser.signed_in()
    assert card_row(card_app, card.card_id).sign_count == 0


def test_unknown_card_is_refused(card_app, clock):
    issue(card_app, clock)
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = SoftCard(b"x" * 32, b"y" * 32, ec.generate_private_key(ec.SECP256R1()))
    browser = Browser(card_app)
    resp = browser.verify(stranger.assertion(browser.options(), origin=ORIGIN))
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "unknown_card"
    assert "利用登録" in resp.get_json()["message"]


@pytest.mark.parametrize(
    "status, code, words",
    [("expired", "card_expired", "更新"), ("revoked", "card_revoked", "失効"),
     ("locked", "card_locked", "初期化")],
)
def test_cards_in_bad_states_are_refused(card_app, clock, status, code, words):
    card, soft = issue(card_app, clock)
    with card_app.extensions["sessionmaker"]() as session:
        make_card_authority(session).set_status(card.card_id, status, now=clock.now())
        session.commit()
    browser = Browser(card_app)
    resp = browser.verify(soft.assertion(browser.options(), origin=ORIGIN))
    assert resp.status_code == 403
    assert resp.get_json()["error"] == code
    assert words in resp.get_json()["message"]
    assert not browser.signed_in()


def test_certificate_past_its_end_date_is_expired(card_app, clock):
    card, soft = issue(card_app, clock)
    clock.set(datetime.combine(card.valid_until + timedelta(days=1), datetime.min.time(), JST))
    browser = Browser(card_app)
    resp = browser.verify(soft.assertion(browser.options(), origin=ORIGIN))
    assert resp.get_json()["error"] == "card_expired"


def test_counter_regression_flags_a_suspected_clone(card_app, clock):
    card, soft = issue(card_app, clock)
    for _ in range(3):
        browser = Browser(card_app)
        assert browser.verify(soft.assertion(browser.options(), origin=ORIGIN)).status_code == 200
    clone = Browser(card_app)
    resp = clone.verify(soft.assertion(clone.options(), origin=ORIGIN, sign_count=2))
    assert resp.get_json()["error"] == "clone_detected"
    assert card_row(card_app, card.card_id).status == "suspected_clone"
    # The genuine card is now refused too, until the authority clears it.
    genuine = Browser(card_app)
    resp = genuine.verify(soft.assertion(genuine.options(), origin=ORIGIN))
    assert resp.get_json()["error"] == "card_suspected_clone"


def test_a_forged_low_count_cannot_flag_someone_elses_card(card_app, clock):
    card, soft = issue(card_app, clock)
    browser = Browser(card_app)
    assert browser.verify(soft.assertion(browser.options(), origin=ORIGIN)).status_code == 200
    forger = Browser(card_app)
    resp = forger.verify(soft.assertion(forger.options(), origin=ORIGIN, sign_count=0, bogus_signature=True))
    assert resp.get_json()["error"] == "bad_signature"
    assert card_row(card_app, card.card_id).status == "active"


def test_card_reads_are_rate_limited_per_card(card_app, clock, one_rate_minute):
    _, soft = issue(card_app, clock)
    codes = []
    for _ in range(6):
        browser = Browser(card_app)
        codes.append(browser.verify(soft.assertion(browser.options(), origin=ORIGIN, user_verified=False)).status_code)
    assert codes[:5] == [400] * 5
    assert codes[5] == 429


def test_card_reads_are_rate_limited_per_browser_session(card_app, clock, one_rate_minute):
    browser = Browser(card_app)
    codes = [browser.verify({"response": {}}).status_code for _ in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429


def test_malformed_and_oversized_verify_bodies(card_app):
    browser = Browser(card_app)
    headers = {"X-CSRF-Token": browser.csrf}
    bad = browser.client.post("/card/signin/verify", data="{", content_type="application/json", headers=headers)
    assert bad.status_code == 400
    not_a_credential = browser.verify({"rawId": 5})
    assert not_a_credential.status_code == 400 and not_a_credential.get_json()["error"] == "malformed"
    huge = browser.client.post("/card/signin/verify", json={"credential": {"id": "a" * (1024 * 1024)}}, headers=headers)
    assert huge.status_code == 413


def test_a_user_handle_no_encoding_can_hold_is_refused_not_crashed_on(card_app, clock):
    _, soft = issue(card_app, clock)
    browser = Browser(card_app)
    assertion = soft.assertion(browser.options(), origin=ORIGIN)
    assertion["response"]["userHandle"] = "\ud800"  # a lone surrogate, as JSON can carry
    import json

    resp = browser.client.post("/card/signin/verify", data=json.dumps({"credential": assertion}),
                               content_type="application/json", headers={"X-CSRF-Token": browser.csrf})
    assert resp.status_code == 400 and resp.get_json()["error"] == "malformed"
    assert not browser.signed_in()


def test_verify_needs_the_csrf_header(card_app, clock):
    _, soft = issue(card_app, clock)
    browser = Browser(card_app)
    resp = browser.client.post("/card/signin/verify", json={"credential": soft.assertion(browser.options(), origin=ORIGIN)})
    assert resp.status_code == 400 and resp.get_json()["error"] == "csrf_failed"


@pytest.mark.parametrize(
    "birth, issued, until",
    [
        (date(1980, 5, 17), date(2026, 11, 23), date(2031, 5, 17)),
        (date(1980, 12, 1), date(2026, 11, 23), date(2030, 12, 1)),
        # A birthday on the day of issue is not "after" it.
        (date(1980, 11, 23), date(2026, 11, 23), date(2031, 11, 23)),
        (date(1988, 2, 29), date(2026, 11, 23), date(2031, 2, 28)),
        (date(1988, 2, 29), date(2027, 3, 1), date(2032, 2, 29)),
    ],
)
def test_certificate_runs_to_the_fifth_birthday_after_issuance(birth, issued, until):
    assert certificate_valid_until(birth, issued) == until


def test_sandbox_is_404_outside_sandbox_mode(make_app):
    for env in ("development",):
        client = make_app(env).test_client()
        for method, path in [("post", "/sandbox/institutions"), ("post", "/sandbox/patients"),
                             ("post", "/sandbox/cards"), ("put", "/sandbox/clock"), ("delete", "/sandbox/clock")]:
            resp = getattr(client, method)(path, json={})
            assert resp.status_code == 404, path
            assert resp.get_json()["error"] == "not_found"


def test_demo_card_page_is_404_outside_sandbox_mode(make_app):
    client = make_app("development").test_client()
    assert client.get("/demo/cards").status_code == 404
    assert client.post("/demo/cards/options", json={}).status_code == 404
    assert make_app("sandbox").test_client().get("/demo/cards").status_code == 200


# --- two reads of one card racing (issue 15) --------------------------------------------------
# Two requests of one browser read its session before either ends it, so both carry the same
# binding; the card's row lock then lets one through first. Driven here at the relying party, as
# one test client cannot hold two requests open at once.

RP = RelyingParty(rp_id="localhost", origins=(ORIGIN,))


class Reads:
    """Challenges and verifications straight against the relying party, one database session each."""

    def __init__(self, app, clock):
        self.app, self.clock = app, clock

    def options(self, binding: str) -> dict:
        with self.app.extensions["sessionmaker"]() as session:
            options = authentication_options(session, RP, binding=binding, purpose="signin", now=self.clock.now())
            session.commit()
        return options

    def verify(self, credential: dict, binding: str) -> str:
        with self.app.extensions["sessionmaker"]() as session:
            try:
                verify_card_assertion(session, RP, make_card_authority(session), credential=credential,
                                      binding=binding, purpose="signin", now=self.clock.now())
            except CardSignInError as exc:
                return exc.code
            session.commit()
            return "ok"


def test_two_reads_racing_in_one_browser_are_refused_not_flagged(card_app, clock):
    """Counts 1 and 2 arriving out of order from the browser that asked for both challenges:
    the later-arriving, lower count is refused with a retry message and the card stays usable."""
    card, soft = issue(card_app, clock)
    reads = Reads(card_app, clock)
    first = reads.options("tab")
    clock.set(clock.now() + timedelta(seconds=1))  # the second challenge is issued later
    second = reads.options("tab")
    stale, fresh = soft.assertion(first, origin=ORIGIN), soft.assertion(second, origin=ORIGIN)  # counts 1, 2
    assert reads.verify(fresh, "tab") == "ok"
    assert reads.verify(stale, "tab") == "concurrent_read"
    assert CARD["concurrent_read"] == (409, "読み取りが重なりました。もう一度お試しください。")
    assert card_row(card_app, card.card_id).status == "active"
    assert card_row(card_app, card.card_id).sign_count == 2
    browser = Browser(card_app)  # and the patient's retry goes through
    assert browser.verify(soft.assertion(browser.options(), origin=ORIGIN)).status_code == 200


def test_a_lower_count_from_another_browser_is_still_a_clone(card_app, clock):
    card, soft = issue(card_app, clock)
    reads = Reads(card_app, clock)
    stale_options = reads.options("phone")
    clock.set(clock.now() + timedelta(seconds=1))
    fresh_options = reads.options("another-phone")
    assert reads.verify(soft.assertion(fresh_options, origin=ORIGIN, sign_count=2), "another-phone") == "ok"
    assert reads.verify(soft.assertion(stale_options, origin=ORIGIN, sign_count=1), "phone") == "clone_detected"
    assert card_row(card_app, card.card_id).status == "suspected_clone"


def test_a_lower_count_for_a_challenge_issued_after_the_accepted_one_is_a_clone(card_app, clock):
    card, soft = issue(card_app, clock)
    reads = Reads(card_app, clock)
    fresh_options = reads.options("tab")
    clock.set(clock.now() + timedelta(seconds=1))
    newer_options = reads.options("tab")  # issued after the read that gets accepted
    assert reads.verify(soft.assertion(fresh_options, origin=ORIGIN, sign_count=2), "tab") == "ok"
    assert reads.verify(soft.assertion(newer_options, origin=ORIGIN, sign_count=1), "tab") == "clone_detected"
    assert card_row(card_app, card.card_id).status == "suspected_clone"


def test_a_lower_count_after_a_read_that_was_not_racing_is_a_clone(card_app, clock):
    """The accepted read's challenge has lived its 300 s: a later regression is no race."""
    card, soft = issue(card_app, clock)
    reads = Reads(card_app, clock)
    assert reads.verify(soft.assertion(reads.options("tab"), origin=ORIGIN, sign_count=5), "tab") == "ok"
    clock.set(clock.now() + timedelta(seconds=300))
    assert reads.verify(soft.assertion(reads.options("tab"), origin=ORIGIN, sign_count=4), "tab") == "clone_detected"


@pytest.mark.parametrize("seconds, code", [(299, "concurrent_read"), (300, "challenge_expired")])
def test_a_racing_read_is_recognised_within_the_challenge_lifetime_only(card_app, clock, seconds, code):
    """The stale read's own challenge lives 300 s: later it cannot be anything but expired."""
    card, soft = issue(card_app, clock)
    reads = Reads(card_app, clock)
    start = clock.now()
    stale_options = reads.options("tab")
    clock.set(start + timedelta(milliseconds=1))
    fresh_options = reads.options("tab")
    assert reads.verify(soft.assertion(fresh_options, origin=ORIGIN, sign_count=2), "tab") == "ok"
    clock.set(start + timedelta(seconds=seconds))
    assert reads.verify(soft.assertion(stale_options, origin=ORIGIN, sign_count=1), "tab") == code
    assert card_row(card_app, card.card_id).status == "active"


@pytest.mark.parametrize("value", [True, "true", 1])
def test_cross_origin_client_data_is_refused(card_app, clock, value):
    card, soft = issue(card_app, clock)
    browser = Browser(card_app)
    resp = browser.verify(soft.assertion(browser.options(), origin=ORIGIN, cross_origin=value))
    assert resp.status_code == 400 and resp.get_json()["error"] == "cross_origin"
    assert not browser.signed_in()
    assert card_row(card_app, card.card_id).sign_count == 0


def test_an_operator_reinstates_a_flagged_card_by_person_and_it_is_audited(card_app, clock):
    from consent.security_log import events

    card, soft = issue(card_app, clock, person_id="P-reinstate")
    other, _ = issue(card_app, clock, person_id="P-other")
    reads = Reads(card_app, clock)
    assert reads.verify(soft.assertion(reads.options("a"), origin=ORIGIN, sign_count=3), "a") == "ok"
    assert reads.verify(soft.assertion(reads.options("b"), origin=ORIGIN, sign_count=2), "b") == "clone_detected"
    runner = card_app.test_cli_runner()

    nothing = runner.invoke(args=["card", "reinstate", "--person", "P-other"])
    assert nothing.exit_code == 2 and "no card flagged" in nothing.output
    done = runner.invoke(args=["card", "reinstate", "--person", "P-reinstate"])
    assert done.exit_code == 0, done.output
    assert card.card_id in done.output
    assert card_row(card_app, card.card_id).status == "active"
    assert card_row(card_app, other.card_id).status == "active"
    with card_app.extensions["sessionmaker"]() as session:
        logged = events(session, event="card_reinstated")
        assert [(e.subject, e.created_at) for e in logged] == [(card.card_id, clock.now())]
    soft.sign_count = 3  # the genuine card goes on from its own count
    browser = Browser(card_app)
    assert browser.verify(soft.assertion(browser.options(), origin=ORIGIN)).status_code == 200
    # Nothing left to reinstate: a second run says so and records nothing.
    assert runner.invoke(args=["card", "reinstate", "--person", "P-reinstate"]).exit_code == 2
