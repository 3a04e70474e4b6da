"""The webhook delivery worker: `flask --app app webhooks deliver` (`--once` for one round).

A loop: note expiries (consent/events.py sweep_expiries, every few seconds), then lease one
endpoint at a time (consent/webhooks.claim) and send its pending events in order
(integrations/webhooks/sender.send), keeping each outcome. Any number of workers, on any number
of machines sharing the database, can run side by side: a lease is one worker's, and a
worker killed mid-delivery leaves a lease that runs out (30 s) for another worker to resume -
the event it was sending goes again (at least once). Leases and back-off run on real time;
events and expiries on the app's clock (the sandbox moves it).
"""
from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from consent import events, webhooks
from consent.clock import Clock
from consent.webhooks import LEASE, Outcome, Outgoing, Resolver, SecretBox, system_resolver
from integrations.webhooks.sender import send

log = logging.getLogger("app.webhooks")

SWEEP_EVERY = 5.0  # seconds between expiry sweeps
PURGE_EVERY = 3600.0  # seconds between purges of events past their keeping


def _real_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Worker:
    sessions: sessionmaker[Session]
    box: SecretBox
    clock: Clock  # the app's clock: expiries and the purge
    production: bool
    resolver: Resolver = system_resolver
    wall: Callable[[], datetime] = _real_now  # leases and back-off
    lease: timedelta = LEASE
    timeout: float = webhooks.RECEIVER_TIMEOUT_SECONDS
    owner: str = field(default_factory=lambda: f"{socket.gethostname()[:40]}:{os.getpid()}:{random.randrange(1 << 20)}")
    sender: Callable[..., Outcome] = send
    _last_sweep: float = -1e9
    _last_purge: float = -1e9

    def run_once(self) -> int:
        """One round: sweep if due, then every endpoint that is due; the deliveries made."""
        self._housekeeping()
        delivered = 0
        while True:
            with self.sessions() as session:
                endpoint_id = webhooks.claim(session, owner=self.owner, now=self.wall(), lease=self.lease)
            if endpoint_id is None:
                return delivered
            delivered += self._serve(endpoint_id)

    def run(self, stop: threading.Event, idle: float = 0.25) -> None:
        """Rounds until `stop` is set; waits `idle` seconds when a round found nothing to send."""
        while not stop.is_set():
            try:
                if self.run_once() == 0:
                    stop.wait(idle)
            except Exception:  # the database away for a moment: say so, wait, go on
                log.exception("webhook round failed")
                stop.wait(min(5.0, idle * 20))

    def _housekeeping(self) -> None:
        moment = time.monotonic()
        if moment - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = moment
            with self.sessions() as session:
                written = events.sweep_expiries(session, now=self.clock.now())
                session.commit()
            if written:
                log.info("expiries noted", extra={"fields": {"events": written}})
        if moment - self._last_purge >= PURGE_EVERY:
            self._last_purge = moment
            with self.sessions() as session:
                events.purge(session, now=self.clock.now())
                session.commit()

    def _serve(self, endpoint_id: int) -> int:
        """Send the leased endpoint's pending events in order until none is left or one fails."""
        delivered = 0
        try:
            while True:
                with self.sessions() as session:
                    batch = webhooks.next_batch(session, endpoint_id=endpoint_id, box=self.box)
                if not batch:
                    return delivered
                for item in batch:
                    if not self._deliver(item):
                        return delivered
                    delivered += 1
        finally:
            with self.sessions() as session:
                webhooks.release(session, endpoint_id=endpoint_id, owner=self.owner)

    def _deliver(self, item: Outgoing) -> bool:
        with self.sessions() as session:
            if not webhooks.renew(session, endpoint_id=item.endpoint_id, owner=self.owner, now=self.wall(),
                                  lease=self.lease):
                return False  # the lease ran out meanwhile: the other worker sends it
        outcome = self.sender(item.url, secret=item.secret, msg_id=item.msg_id, body=item.body,
                              production=self.production, resolver=self.resolver, timeout=self.timeout)
        with self.sessions() as session:
            return webhooks.record_outcome(session, item, outcome, owner=self.owner, now=self.wall())


def worker_for_app(app, **overrides) -> Worker:
    """A worker on the app's database, settings and clock (the CLI's and the tests')."""
    settings = app.config["SETTINGS"]
    return Worker(sessions=app.extensions["sessionmaker"], box=SecretBox(settings.webhook_key),
                  clock=app.extensions["clock"], production=settings.production,
                  resolver=app.extensions.get("webhook_resolver", system_resolver), **overrides)


def register(app) -> None:
    import click

    @app.cli.group("webhooks")
    def webhooks_group():
        """Webhook delivery (Standard Webhooks)."""

    @webhooks_group.command("deliver")
    @click.option("--once", is_flag=True, help="One round (sweep, then every due endpoint), then exit.")
    @click.option("--idle", default=0.25, show_default=True, type=click.FloatRange(0.01, 60),
                  help="Seconds to wait after a round that found nothing to send.")
    @click.option("--lease-seconds", default=int(LEASE.total_seconds()), show_default=True,
                  type=click.IntRange(12, 3600), help="How long a crashed worker's endpoint waits for another.")
    def deliver(once: bool, idle: float, lease_seconds: int):
        """Send pending events to the registered endpoints (run beside the app; several may run)."""
        from flask import current_app

        worker = worker_for_app(current_app, lease=timedelta(seconds=lease_seconds))
        if once:
            click.echo(f"delivered {worker.run_once()}")
            return
        stop = threading.Event()

        def _stop(*_):
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        click.echo(f"webhook worker {worker.owner} started", err=True)
        worker.run(stop, idle=idle)
        click.echo("webhook worker stopped", err=True)
