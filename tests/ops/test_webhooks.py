"""Webhooks delivered by the worker to a real HTTP receiver on 127.0.0.1 (a thread running
http.server, a random port): arrival, order after an outage, redelivery after kill -9, two worker
processes never sending one event twice, signatures, redirects, the 3-day disable, and the rules
on where an endpoint may point."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from consent.clock import JST
from consent import grants, webhooks
from consent.institutions import create_institution
from consent.webhooks import SecretBox, WebhookDelivery, WebhookEndpoint
from integrations.webhooks.receiver import Receiver
from integrations.webhooks.sender import send
from ops.webhook_worker import worker_for_app

WEBHOOK_KEY = "w" * 40
AUDIT_KEY = "a" * 40
ALL_TYPES = ["consent.registered", "consent.updated", "consent.revoked", "consent.expired", "visit.recorded",
             "relationship.ended", "institution.mode_changed"]


@pytest.fixture
def hook_app(make_app):
    return make_app("development", webhook_key=WEBHOOK_KEY, audit_key=AUDIT_KEY)


@pytest.fixture
def pharmacy(hook_app, clock) -> int:
    with hook_app.extensions["sessionmaker"]() as s:
        institution = create_institution(s, code="1341234563", name="本町薬局", now=clock.now())
        s.commit()
        return institution.id


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def make(secret=None, **kwargs) -> Receiver:
        receiver = Receiver(secret, **kwargs).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


def register_endpoint(app, institution_id, url, types=ALL_TYPES, *, production=False, resolver=None) -> tuple[int, str]:
    with app.extensions["sessionmaker"]() as s:
        endpoint, secret = webhooks.register_endpoint(
            s, institution_id=institution_id, url=url, event_types=types, box=SecretBox(WEBHOOK_KEY),
            production=production, resolver=resolver or webhooks.system_resolver, now=datetime.now(timezone.utc))
        s.commit()
        return endpoint.id, secret


def consent_change(app, institution_id, person, clock):
    with app.extensions["sessionmaker"]() as s:
        consent = grants.register_consent(s, institution_id=institution_id, person_id=person, card_id="c",
                                          care_setting=3, categories=["drug"],
                                          consultation_date=clock.now().astimezone(JST).date(), now=clock.now())
        s.commit()
        return consent.id


def ids_of(receiver: Receiver) -> list[str]:
    return [headers["webhook-id"] for headers, _ in receiver.received]


def run_until(worker, receiver, condition, rounds=200):
    """Worker rounds until the receiver shows `condition` (each round sends what is due)."""
    for _ in range(rounds):
        worker.run_once()
        if receiver.wait_for(condition, timeout=0):
            return
    raise AssertionError(f"not reached; received {ids_of(receiver)}")


def test_an_event_arrives_signed_once_the_consent_is_registered(hook_app, pharmacy, receivers, clock):
    receiver = receivers()
    _, secret = register_endpoint(hook_app, pharmacy, receiver.url)
    receiver.secret = secret
    consent_id = consent_change(hook_app, pharmacy, "p-1", clock)
    assert worker_for_app(hook_app).run_once() == 1
    assert receiver.wait_for(lambda r: len(r.events) == 1, timeout=10)
    event = receiver.events[0]
    assert event["type"] == "consent.registered" and event["consent_id"] == consent_id
    headers, body = receiver.received[0]
    assert headers["webhook-id"] == event["id"] and headers["content-type"] == "application/json"
    assert Webhook(secret).verify(body, headers) == event
    # Delivered: the next round sends nothing again, and the console's record says so.
    assert worker_for_app(hook_app).run_once() == 0
    with hook_app.extensions["sessionmaker"]() as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts, delivery.status_code) == ("delivered", 1, 200)
        assert delivery.latency_ms is not None


def test_a_tampered_payload_fails_verification(hook_app, pharmacy, receivers, clock):
    receiver = receivers()  # records without verifying
    _, secret = register_endpoint(hook_app, pharmacy, receiver.url)
    consent_change(hook_app, pharmacy, "p-1", clock)
    worker_for_app(hook_app).run_once()
    headers, body = receiver.received[0]
    Webhook(secret).verify(body, headers)
    tampered = body.replace(b'"categories":["drug"]', b'"categories":["drug","checkup"]')
    assert tampered != body
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(body, headers)  # another endpoint's secret


def test_a_receiver_down_then_up_gets_every_event_in_order(hook_app, pharmacy, receivers, clock):
    up = threading.Event()
    receiver = receivers(answer=lambda headers, body: 200 if up.is_set() else 503)
    endpoint_id, secret = register_endpoint(hook_app, pharmacy, receiver.url)
    receiver.secret = secret
    consents = [consent_change(hook_app, pharmacy, f"p-{n}", clock) for n in range(5)]
    wall = [datetime.now(timezone.utc)]
    worker = worker_for_app(hook_app, wall=lambda: wall[0])
    for _ in range(4):  # down: each try fails, and the next waits longer
        worker.run_once()
        wall[0] += timedelta(minutes=30)
    assert ids_of(receiver) == [ids_of(receiver)[0]] * 4  # always the first event, never past it
    with hook_app.extensions["sessionmaker"]() as s:
        endpoint = s.get(WebhookEndpoint, endpoint_id)
        assert endpoint.failures == 4 and endpoint.last_error == "http_503" and endpoint.status == "active"
    consents += [consent_change(hook_app, pharmacy, f"q-{n}", clock) for n in range(3)]
    up.set()
    wall[0] += timedelta(hours=1)
    run_until(worker, receiver, lambda r: len(r.events) == 8)
    assert [e["consent_id"] for e in receiver.events] == consents
    assert [e["id"] for e in receiver.events] == sorted(e["id"] for e in receiver.events)
    with hook_app.extensions["sessionmaker"]() as s:
        assert s.get(WebhookEndpoint, endpoint_id).failures == 0


def test_a_redirect_is_not_followed_and_counts_as_a_failure(hook_app, pharmacy, receivers, clock):
    target = receivers()
    redirecting = receivers(answer=lambda headers, body: 302)
    register_endpoint(hook_app, pharmacy, redirecting.url)
    consent_change(hook_app, pharmacy, "p-1", clock)
    worker_for_app(hook_app).run_once()
    assert len(redirecting.received) == 1 and target.received == []
    with hook_app.extensions["sessionmaker"]() as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.status_code, delivery.last_error) == ("failed", 302, "redirect_302")


def admin_browser(app, institution_id, clock):
    from api_support import console_login
    from consent.institutions import Institution, add_staff

    with app.extensions["sessionmaker"]() as s:
        add_staff(s, s.get(Institution, institution_id), login_id="admin", password="admin-password", role="admin",
                  now=clock.now())
        s.commit()
    return console_login(app, "admin")


def test_an_endpoint_failing_for_3_days_is_disabled_and_the_admin_sees_why(hook_app, pharmacy, receivers, clock):
    receiver = receivers(answer=lambda headers, body: 500)
    endpoint_id, _ = register_endpoint(hook_app, pharmacy, receiver.url)
    consent_change(hook_app, pharmacy, "p-1", clock)
    start = datetime.now(timezone.utc)
    wall = [start]
    worker = worker_for_app(hook_app, wall=lambda: wall[0])
    for moment in (start, start + timedelta(days=3, minutes=-10)):
        wall[0] = moment
        worker.run_once()
        with hook_app.extensions["sessionmaker"]() as s:
            endpoint = s.get(WebhookEndpoint, endpoint_id)
            assert (endpoint.status, endpoint.failing_since) == ("active", start)
    wall[0] = start + timedelta(days=3, seconds=-1)  # due again, but not failing for 3 days yet
    worker.run_once()
    with hook_app.extensions["sessionmaker"]() as s:
        assert s.get(WebhookEndpoint, endpoint_id).status == "active"
        s.get(WebhookEndpoint, endpoint_id).next_attempt_at = None  # retry at once (the back-off is tested below)
        s.commit()
    wall[0] = start + timedelta(days=3)  # failing for exactly 3 days: this failure disables it
    worker.run_once()
    with hook_app.extensions["sessionmaker"]() as s:
        endpoint = s.get(WebhookEndpoint, endpoint_id)
        assert endpoint.status == "disabled" and endpoint.disabled_reason == "failing_3_days"
    assert len(receiver.received) == 4
    wall[0] += timedelta(days=1)
    worker.run_once()
    assert len(receiver.received) == 4  # disabled: nothing more is sent
    page = admin_browser(hook_app, pharmacy, clock).get("/pharmacy/admin/api").get_data(as_text=True)
    assert "停止中：3日間続けて配信できなかったため、自動で停止しました" in page
    assert "HTTP 500 が返りました" in page


def test_backoff_doubles_from_5_seconds_to_10_minutes_with_jitter():
    import random

    rng = random.Random(1)
    for failures, full in ((1, 5), (2, 10), (3, 20), (8, 600), (30, 600)):
        waits = [webhooks.backoff(failures, rng).total_seconds() for _ in range(50)]
        assert full / 2 <= min(waits) and max(waits) <= full
        assert len(set(waits)) > 1


# --- where an endpoint may point -------------------------------------------------------------------


def resolver_to(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("url, addresses, code", [
    ("http://hooks.example.jp/x", ("203.0.113.9",), "url_not_https"),
    ("https://hooks.example.jp/x", ("127.0.0.1",), "url_private_address"),
    ("https://hooks.example.jp/x", ("10.1.2.3",), "url_private_address"),
    ("https://hooks.example.jp/x", ("192.168.0.10",), "url_private_address"),
    ("https://hooks.example.jp/x", ("169.254.169.254",), "url_private_address"),
    ("https://hooks.example.jp/x", ("93.184.216.34", "172.16.0.1"), "url_private_address"),
    ("https://hooks.example.jp/x", ("::1",), "url_private_address"),
    ("https://hooks.example.jp/x", ("fe80::1",), "url_private_address"),
    ("https://hooks.example.jp/x", ("::ffff:10.0.0.1",), "url_private_address"),
    ("https://hooks.example.jp/x", (), "url_unresolvable"),
    ("https://user:pw@hooks.example.jp/x", ("93.184.216.34",), "url_malformed"),
    ("ftp://hooks.example.jp/x", ("93.184.216.34",), "url_malformed"),
    ("https://hooks.example.jp/" + "a" * 2000, ("93.184.216.34",), "url_too_long"),
])
def test_production_refuses_what_is_not_https_to_a_public_address(url, addresses, code):
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_url(url, production=True, resolver=resolver_to(*addresses))
    assert refused.value.code == code


def test_development_allows_a_local_receiver_and_production_a_public_https_one():
    assert webhooks.check_url("http://127.0.0.1:5199/", production=False, resolver=resolver_to("127.0.0.1"))
    target = webhooks.check_url("https://hooks.example.jp:8443/in?x=1", production=True,
                                resolver=resolver_to("93.184.216.34"))
    assert (target.host, target.port, target.path) == ("hooks.example.jp", 8443, "/in?x=1")
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_url("http://h/" + "a" * 2000, production=False, resolver=resolver_to("127.0.0.1"))
    assert refused.value.code == "url_too_long"


def test_every_delivery_checks_the_address_again(receivers):
    """A name that resolved to a public address at registration and to a private one now (DNS
    rebinding) is not sent to."""
    receiver = receivers()
    outcome = send(receiver.url.replace("127.0.0.1", "hooks.example.jp").replace("http:", "https:"),
                   secret="whsec_" + "QUJD" * 8, msg_id="evt_1", body="{}", production=True,
                   resolver=resolver_to("127.0.0.1"))
    assert not outcome.ok and outcome.error == "blocked_address" and receiver.received == []


def test_a_slow_receiver_is_cut_at_the_timeout(receivers):
    release = threading.Event()
    receiver = receivers(answer=lambda headers, body: 200 if release.wait(5) else 200)
    try:
        outcome = send(receiver.url, secret="whsec_" + "QUJD" * 8, msg_id="evt_1", body="{}", production=False,
                       resolver=webhooks.system_resolver, timeout=0.5)
    finally:
        release.set()
    assert not outcome.ok and outcome.error == "timeout" and outcome.latency_ms < 3000


def test_the_signing_secret_is_kept_encrypted(hook_app, pharmacy):
    _, secret = register_endpoint(hook_app, pharmacy, "http://127.0.0.1:9/")
    with hook_app.extensions["sessionmaker"]() as s:
        sealed = s.scalars(select(WebhookEndpoint.secret_sealed)).one()
    assert secret.startswith("whsec_") and secret not in sealed and secret[6:] not in sealed
    assert SecretBox(WEBHOOK_KEY).open(sealed) == secret
    with pytest.raises(Exception):
        SecretBox("x" * 40).open(sealed)


# --- several worker processes ------------------------------------------------------------------


@pytest.fixture
def real_time(clock):
    """Worker processes run on real time (their sweep too): the test's changes happen now."""
    clock.set(datetime.now(timezone.utc))
    return clock


def worker_process(database_url, tmp_path, *extra) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": "t" * 64,
           "WEBHOOK_KEY": WEBHOOK_KEY, "AUDIT_KEY": AUDIT_KEY, "INSTANCE_DIR": str(tmp_path)}
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.Popen([flask, "--app", "app", "webhooks", "deliver", "--idle", "0.05", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


class Concurrency:
    """A receiver's answer that counts the deliveries under way at once."""

    def __init__(self) -> None:
        self.now, self.most, self.lock = 0, 0, threading.Lock()

    def __call__(self, headers, body) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        threading.Event().wait(0.002)  # a receiver doing a little work
        with self.lock:
            self.now -= 1
        return 200


def test_two_worker_processes_never_deliver_one_event_twice(hook_app, pharmacy, receivers, real_time, database_url,
                                                            tmp_path):
    clock = real_time
    hooks = []
    for _ in range(3):
        counter = Concurrency()
        receiver = receivers(answer=counter)
        _, receiver.secret = register_endpoint(hook_app, pharmacy, receiver.url)
        hooks.append((receiver, counter))
    workers = [worker_process(database_url, tmp_path / f"w{n}") for n in range(2)]
    try:
        for n in range(40):
            consent_change(hook_app, pharmacy, f"p-{n}", clock)
        for receiver, _ in hooks:
            assert receiver.wait_for(lambda r: len(r.events) >= 40, timeout=120), len(receiver.events)
    finally:
        errors = [stop(w) for w in workers]
    for receiver, counter in hooks:
        ids = ids_of(receiver)
        assert len(ids) == len(set(ids)) == 40, Counter(ids).most_common(3)
        assert ids == sorted(ids) and counter.most == 1
    assert all("Traceback" not in err for err in errors), errors


def test_a_worker_killed_mid_delivery_is_followed_by_one_that_redelivers(hook_app, pharmacy, receivers, real_time,
                                                                         database_url, tmp_path):
    clock = real_time
    holding = threading.Event()
    release = threading.Event()

    def answer(headers, body):
        if not release.is_set():
            holding.set()
            release.wait(30)  # the first delivery hangs until the worker is dead
        return 200

    receiver = receivers(answer=answer)
    _, secret = register_endpoint(hook_app, pharmacy, receiver.url)
    receiver.secret = secret
    first = worker_process(database_url, tmp_path / "a", "--lease-seconds", "12")
    try:
        consent_id = consent_change(hook_app, pharmacy, "p-1", clock)
        assert holding.wait(60), stop(first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        release.set()
        stop(first)
    second = worker_process(database_url, tmp_path / "b", "--lease-seconds", "12")
    try:
        # The dead worker's lease runs out (12 s); the second one sends the same event again.
        assert receiver.wait_for(lambda r: len(r.events) >= 2, timeout=60), ids_of(receiver)
    finally:
        err = stop(second)
    assert [e["consent_id"] for e in receiver.events] == [consent_id, consent_id]
    assert len(set(ids_of(receiver))) == 1 and "Traceback" not in err


# --- the console's 「API連携」 ------------------------------------------------------------------


def test_the_admin_registers_an_endpoint_sees_deliveries_and_resends(hook_app, pharmacy, receivers, clock):
    from api_support import csrf_of

    browser = admin_browser(hook_app, pharmacy, clock)
    page = browser.get("/pharmacy/admin/api").get_data(as_text=True)
    assert "Webhook（変更の通知）" in page and "登録されている通知先はありません。" in page
    receiver = receivers()

    def post(path, **data):
        token = csrf_of(browser.get("/pharmacy/admin/api").get_data(as_text=True))
        resp = browser.post(path, data={"csrf_token": token, **data})
        assert resp.status_code == 303
        return browser.get("/pharmacy/admin/api").get_data(as_text=True)

    refused = post("/pharmacy/admin/webhooks", url="http://127.0.0.1/" + "a" * 2000, event_types=ALL_TYPES)
    assert "通知先のURLは2000文字以内にしてください。" in refused
    none_chosen = post("/pharmacy/admin/webhooks", url=receiver.url)
    assert "通知するイベントを1つ以上選んでください。" in none_chosen
    shown = post("/pharmacy/admin/webhooks", url=receiver.url, event_types=["consent.registered"])
    secret = shown.split("署名用シークレット：<strong><code>")[1].split("</code>")[0]
    assert secret.startswith("whsec_")
    assert secret not in browser.get("/pharmacy/admin/api").get_data(as_text=True)  # shown once
    receiver.secret = secret
    consent_change(hook_app, pharmacy, "p-1", clock)
    worker_for_app(hook_app).run_once()
    page = browser.get("/pharmacy/admin/api").get_data(as_text=True)
    assert "配信済み" in page and "consent.registered" in page and " ms" in page
    with hook_app.extensions["sessionmaker"]() as s:
        endpoint_id, delivery_id = s.execute(select(WebhookDelivery.endpoint_id, WebhookDelivery.id)).one()
    assert "再送待ち" in post(f"/pharmacy/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend")
    worker_for_app(hook_app).run_once()
    assert receiver.wait_for(lambda r: len(r.events) == 2, timeout=10)
    assert receiver.events[0] == receiver.events[1]  # the same event, the same webhook-id
    stopped = post(f"/pharmacy/admin/webhooks/{endpoint_id}/disable")
    assert "停止中：管理者が停止しました" in stopped
    consent_change(hook_app, pharmacy, "p-2", clock)
    assert worker_for_app(hook_app).run_once() == 0
    post(f"/pharmacy/admin/webhooks/{endpoint_id}/enable")
    worker_for_app(hook_app).run_once()  # what it missed while stopped
    assert receiver.wait_for(lambda r: len(r.events) == 3, timeout=10)
    assert "登録されている通知先はありません。" in post(f"/pharmacy/admin/webhooks/{endpoint_id}/delete")
    other = browser.post(f"/pharmacy/admin/webhooks/{endpoint_id}/disable",
                         data={"csrf_token": csrf_of(browser.get("/pharmacy/admin/api").get_data(as_text=True))})
    assert other.status_code == 404


def test_the_deliver_command_runs_one_round(make_app, receivers, clock):
    app = make_app("development", webhook_key=WEBHOOK_KEY, audit_key=AUDIT_KEY)
    with app.extensions["sessionmaker"]() as s:
        institution_id = create_institution(s, code="1341234563", name="本町薬局", now=clock.now()).id
        s.commit()
    receiver = receivers()
    _, receiver.secret = register_endpoint(app, institution_id, receiver.url)
    consent_change(app, institution_id, "p-1", clock)
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver", "--once"])
    assert result.exit_code == 0 and result.output.strip() == "delivered 1"
    assert [e["type"] for e in receiver.events] == ["consent.registered"]
