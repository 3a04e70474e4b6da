"""Benchmark: webhook delivery from the outbox to a real receiver, by the worker process.

    .venv/bin/python bench/webhooks.py                       # SQLite in a temporary file
    .venv/bin/python bench/webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/bench_webhooks

Two runs against `flask --app app webhooks deliver` (a separate process, as deployed) and a
verifying receiver on 127.0.0.1:
- steady: consents registered at --rate a second (default 50) for --seconds (default 20), each
  committed by its own transaction; prints the lag from each consent's commit to the receiver's
  arrival (p50, p99, max). Aim: p99 under 2 s at 50 consents/s.
- backlog: --backlog events (default 2,000) waiting when the worker starts; prints events
  delivered per second.
The PostgreSQL database is dropped and recreated: its name must contain "bench".
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url  # noqa: E402

from consent import grants, webhooks  # noqa: E402
from consent.audit import AuditKeyring, use_keyring  # noqa: E402
from consent.clock import JST  # noqa: E402
from consent.institutions import create_institution  # noqa: E402
from integrations.webhooks.receiver import Receiver  # noqa: E402
from store.engine import make_engine, make_sessionmaker  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from e2e.databases import reset_postgres_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_KEY = "bench-webhook-key-" + "x" * 20
AUDIT_KEY = "bench-audit-key-" + "y" * 20


def prepare_database(url: str | None) -> str:
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-webhooks-')) / 'bench.db'}"
    elif url.startswith("postgresql"):
        if "bench" not in (make_url(url).database or ""):
            sys.exit("refusing to drop a database whose name does not contain 'bench'")
        reset_postgres_database(url)
    upgrade(url)
    return url


def start_worker(url: str, instance: Path) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": "s" * 40,
           "AUDIT_KEY": AUDIT_KEY, "WEBHOOK_KEY": WEBHOOK_KEY, "INSTANCE_DIR": str(instance)}
    flask = Path(sys.executable).parent / "flask"
    return subprocess.Popen([str(flask), "--app", "app", "webhooks", "deliver", "--idle", "0.05"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def register(sessions, institution_id: int, person: str) -> str:
    now = datetime.now(timezone.utc)
    with sessions() as s:
        consent = grants.register_consent(s, institution_id=institution_id, person_id=person, card_id="c",
                                          care_setting=3, categories=["drug", "limit"],
                                          consultation_date=now.astimezone(JST).date(), now=now)
        s.commit()
        return consent.id


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--backlog", type=int, default=2000)
    args = parser.parse_args()
    url = prepare_database(args.database_url)
    engine = make_engine(url)
    use_keyring(engine, AuditKeyring.from_secrets(AUDIT_KEY))
    sessions = make_sessionmaker(engine)
    arrivals: dict[str, float] = {}
    receiver = Receiver(on_event=lambda event: arrivals.setdefault(event["consent_id"], time.monotonic())).start()
    with sessions() as s:
        institution = create_institution(s, code="1341234563", name="ベンチ薬局", now=datetime.now(timezone.utc))
        s.commit()
        endpoint, secret = webhooks.register_endpoint(
            s, institution_id=institution.id, url=receiver.url, event_types=["consent.registered"],
            box=webhooks.SecretBox(WEBHOOK_KEY), production=False, resolver=webhooks.system_resolver,
            now=datetime.now(timezone.utc))
        s.commit()
        institution_id = institution.id
    receiver.secret = secret
    print(f"database: {engine.dialect.name}; receiver {receiver.url}")
    instance = Path(tempfile.mkdtemp(prefix="bench-webhooks-instance-"))

    # steady: a rate of consents, each timed from its commit to its arrival
    worker = start_worker(url, instance)
    time.sleep(2)  # the worker's start (imports, first round)
    committed: dict[str, float] = {}
    total = int(args.rate * args.seconds)
    started = time.monotonic()
    for n in range(total):
        target = started + n / args.rate
        pause = target - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        consent_id = register(sessions, institution_id, f"steady-{n}")
        committed[consent_id] = time.monotonic()
    receiver.wait_for(lambda r: len(arrivals) >= total, timeout=120)
    lags = [arrivals[c] - t for c, t in committed.items() if c in arrivals]
    print(f"steady: {len(lags)}/{total} delivered at {args.rate:g} consents/s; lag p50 {percentile(lags, 0.5):.3f} s, "
          f"p99 {percentile(lags, 0.99):.3f} s, max {max(lags):.3f} s")
    stop_worker(worker)

    # backlog: events waiting, one worker starts
    arrivals.clear()
    for n in range(args.backlog):
        register(sessions, institution_id, f"backlog-{n}")
    first = time.monotonic()
    worker = start_worker(url, instance)
    receiver.wait_for(lambda r: len(arrivals) >= args.backlog, timeout=600)
    elapsed = max(arrivals.values()) - first
    print(f"backlog: {len(arrivals)} events delivered in {elapsed:.1f} s (worker start included): "
          f"{len(arrivals) / elapsed:.0f} events/s")
    stop_worker(worker)
    receiver.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
