"""Benchmark: the read decision (with its audit append and commit) against growing tables.

    .venv/bin/python bench/decisions.py                       # SQLite in a temporary file
    .venv/bin/python bench/decisions.py --database-url postgresql://postgres@127.0.0.1:5432/bench_consent

For 10,000, 100,000 and 1,000,000 consents it runs `decide` the way a request does (new session,
decide, commit: one indexed lookup + the hash-chained audit append) and prints decisions/s and
latency percentiles. The figures should not grow with the table. Aim: over 5,000 decisions/s in
process on SQLite. The PostgreSQL database is dropped and recreated: its name must contain "bench".
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consent import category_states  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from consent.actors import Actor  # noqa: E402
from consent.audit import AuditKeyring, use_keyring  # noqa: E402
from consent.vocabulary import CATEGORIES, READ_CATEGORIES  # noqa: E402
from consent.clock import JST  # noqa: E402
from consent.decision import decide  # noqa: E402
from consent import events  # noqa: E402
from consent.models import AuditEntry, Consent  # noqa: E402
from consent.patient_keys import PatientKey  # noqa: E402
from consent.window import window_end  # noqa: E402
from store.engine import make_engine, make_sessionmaker  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from consent.institutions import Institution  # noqa: E402
from e2e.databases import reset_postgres_database  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
TODAY = date(2026, 11, 23)
CHUNK = 20_000


def prepare_database(url: str | None) -> str:
    if url is None:
        path = Path(tempfile.mkdtemp(prefix="bench-consent-")) / "bench.db"
        url = f"sqlite:///{path}"
    elif url.startswith("postgresql"):
        name = make_url(url).database or ""
        if "bench" not in name:
            sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
        reset_postgres_database(url)
    upgrade(url)
    return url


def insert_institutions(engine, count: int) -> list[int]:
    rows = [
        {"id": i, "institution_code": f"13{4000000 + i:08d}", "name": f"ベンチ薬局 {i}",
         "reception_token": f"bench-{i}", "outpatient_token": f"bench-o{i}", "home_visit_token": f"bench-h{i}",
         "house_call_token": f"bench-c{i}", "created_at": NOW}
        for i in range(1, count + 1)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Institution.__table__), rows)
    return [r["id"] for r in rows]


def consent_row(k: int, institutions: list[int], rng: random.Random) -> dict:
    # Consent k belongs to person k (so rows never collide); dates from 40 days ago to 30 ahead,
    # so the table holds open, expired, revoked and future consents as a live system would.
    consultation = TODAY + timedelta(days=rng.randint(-40, 30))
    categories = tuple(c for c in CATEGORIES if rng.random() < 0.6) or ("drug",)
    revoked = rng.random() < 0.05
    consented = NOW - timedelta(days=45) if consultation < TODAY else NOW - timedelta(hours=1)
    states = tuple(category_states.consented(c, now=consented, window_end=window_end(consultation))
                   for c in categories)
    if revoked:
        states = category_states.ended(states, reason=2, now=NOW - timedelta(minutes=5))
    return {
        "id": f"bench{k:010d}",
        "institution_id": institutions[k % len(institutions)],
        "person_id": f"P{k:09d}",
        "card_id": f"C{k:09d}",
        "care_setting": 3,
        "categories": categories,
        "consultation_date": consultation,
        "consented_at": consented,
        "window_end": window_end(consultation),
        "status": "revoked" if revoked else "active",
        "revoked_at": NOW - timedelta(minutes=5) if revoked else None,
        "revoked_by": "patient" if revoked else None,
        "revocation_reason": 2 if revoked else None,
        "qualification_confirmed_at": consented,
        "validity_code": 1,
        "created_at": consented,
        "updated_at": consented,
        "category_states": states,
        "house_call": False,
    }


def running_service_rows(row: dict) -> tuple[dict, dict | None]:
    """What a running service holds beside a consent row: the patient_id made at registration
    (consent.registered), and for a window already past, the consent.expired event the delivery
    worker's sweep wrote within seconds of the end. Without them every first read of a loaded
    consent would do that one-time work itself, which a live system never asks of a read."""
    key = {"institution_id": row["institution_id"], "person_id": row["person_id"],
           "patient_id": f"pat_bench{row['person_id']}"}
    ends = row["window_end"]
    if row["status"] != "active" or ends > NOW:
        return key, None
    return key, {"institution_id": row["institution_id"], "type": events.EVENT_CONSENT_EXPIRED,
                 "consent_id": row["id"], "patient_id": key["patient_id"], "occurred_at": ends,
                 "recorded_at": ends, "data": "{}", "dedupe_key": events.expiry_key(row["id"], ends)}


def grow(engine, start: int, stop: int, institutions: list[int], rng: random.Random) -> float:
    began = time.perf_counter()
    table = Consent.__table__
    for chunk_start in range(start, stop, CHUNK):
        rows = [consent_row(k, institutions, rng) for k in range(chunk_start, min(stop, chunk_start + CHUNK))]
        beside = [running_service_rows(row) for row in rows]
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
            conn.execute(insert(PatientKey.__table__), [key for key, _ in beside])
            expired = [event for _, event in beside if event is not None]
            if expired:
                conn.execute(insert(events.Event.__table__), expired)
    settle(engine)
    return time.perf_counter() - began


def settle(engine) -> None:
    """After a bulk load: fresh statistics and a checkpoint, so decisions are measured in steady
    state rather than behind autovacuum and the flush of the load's dirty pages."""
    if engine.dialect.name == "postgresql":
        statements = ["VACUUM (ANALYZE) consents", "VACUUM (ANALYZE) audit_entries", "CHECKPOINT"]
    else:
        statements = ["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"]
    for statement in statements:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(statement).close()


def _actors(institutions: list[int]) -> dict[tuple[int, str], Actor]:
    return {
        (i, role): Actor.for_staff(staff_id=role_id, institution_id=i, role=role)
        for i in institutions for role_id, role in ((1, "pharmacist"), (2, "clerk"))
    }


def _question(size: int, institutions: list[int], actors, rng: random.Random):
    k = rng.randrange(int(size * 1.05))  # about 5% ask about people with no consent
    institution_id = institutions[k % len(institutions)]
    actor = actors[(institution_id, "pharmacist" if rng.random() < 0.8 else "clerk")]
    return dict(institution_id=institution_id, actor=actor, person_id=f"P{k:09d}",
                category=rng.choice(READ_CATEGORIES), now=NOW)


def run_decisions(sessions, size: int, institutions: list[int], count: int, rng: random.Random) -> list[float]:
    """One decision per transaction, as an API request makes it: session, decide, commit."""
    latencies = []
    actors = _actors(institutions)
    for _ in range(count):
        question = _question(size, institutions, actors, rng)
        began = time.perf_counter()
        with sessions() as session:
            decide(session, **question)
            session.commit()
        latencies.append(time.perf_counter() - began)
    return latencies


def run_batched(sessions, size: int, institutions: list[int], count: int, rng: random.Random,
                per_transaction: int = 100) -> float:
    """Decisions inside open transactions (the decision's own cost); returns decisions/s."""
    actors = _actors(institutions)
    questions = [_question(size, institutions, actors, rng) for _ in range(count)]
    began = time.perf_counter()
    for start in range(0, count, per_transaction):
        with sessions() as session:
            for question in questions[start:start + per_transaction]:
                decide(session, **question)
            session.commit()
    return count / (time.perf_counter() - began)


def run_threaded(sessions, size: int, institutions: list[int], count: int, threads: int, seed: int) -> float:
    """One decision per transaction from several threads at once; returns decisions/s overall."""
    barrier = threading.Barrier(threads + 1)
    per_thread = count // threads

    def work(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        barrier.wait()
        run_decisions(sessions, size, institutions, per_thread, rng)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - began)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def show_plan(engine) -> None:
    stmt = (
        "SELECT id FROM consents WHERE institution_id = 7 AND person_id = 'P000000007' "
        "AND consultation_date >= '2026-11-22'"
    )
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            plan = [r[0] for r in conn.execute(text("EXPLAIN " + stmt))]
        else:
            plan = [r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + stmt))]
    print("  plan of the decision's lookup: " + " | ".join(p.strip() for p in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--decisions", type=int, default=20_000, help="measured decisions per size")
    parser.add_argument("--institutions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="also run one-per-transaction decisions from this many threads")
    args = parser.parse_args()

    url = prepare_database(args.database_url)
    engine = make_engine(url)
    use_keyring(engine, AuditKeyring.from_secrets("bench-audit-key-" + "a" * 32))  # before the sessionmaker
    sessions = make_sessionmaker(engine)
    rng = random.Random(args.seed)
    institutions = insert_institutions(engine, args.institutions)
    print(f"database: {engine.dialect.name} ({make_url(url).render_as_string(hide_password=True)}), "
          f"{args.institutions} institutions, {args.decisions:,} decisions per size")
    print("each decision = indexed consent lookup + hash-chained audit append (+ commit)")
    threaded = f" {f'{args.threads} threads/s':>13}" if args.threads > 1 else ""
    print(f"{'consents':>10} {'audit rows':>11} | {'1 per txn/s':>11} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} | {'100 per txn/s':>13}{threaded} | load")

    size_so_far = 0
    for size in (int(s) for s in args.sizes.split(",")):
        load_seconds = grow(engine, size_so_far, size, institutions, rng)
        size_so_far = size
        run_decisions(sessions, size, institutions, min(1000, args.decisions), rng)  # warm up
        with engine.connect() as conn:
            audit_rows = conn.scalar(select(func.count()).select_from(AuditEntry.__table__))
        began = time.perf_counter()
        latencies = run_decisions(sessions, size, institutions, args.decisions, rng)
        elapsed = time.perf_counter() - began
        batched = run_batched(sessions, size, institutions, args.decisions, rng)
        line = (
            f"{size:>10,} {audit_rows:>11,} | {len(latencies) / elapsed:>11,.0f} "
            f"{statistics.median(latencies) * 1000:>7.3f} {percentile(latencies, 99) * 1000:>7.3f} "
            f"{max(latencies) * 1000:>7.3f} | {batched:>13,.0f}"
        )
        if args.threads > 1:
            line += f" {run_threaded(sessions, size, institutions, args.decisions, args.threads, args.seed):>13,.0f}"
        print(line + f" | +{load_seconds:.1f}s", flush=True)
    show_plan(engine)
    engine.dispose()
    if args.database_url is None:
        shutil.rmtree(Path(make_url(url).database).parent)  # the temporary SQLite file


if __name__ == "__main__":
    main()
