"""Benchmark of the OQS simulator: generate a population, a 1,000-row batch inquiry, one drug history.

    .venv/bin/python bench/oqs.py                       # SQLite file in a temporary directory
    .venv/bin/python bench/oqs.py --database-url postgresql://postgres@127.0.0.1:5432/bench_oqs

The PostgreSQL database is emptied first (created if missing). Aims (issue 3): generation of
100,000 people under 60 s, a 1,000-row batch under 0.5 s, one drug history read under 5 ms; a drug + clinical read
(claims, e-prescriptions, clinical and surgery data, issue 23) under 5 ms as well.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from consent.vocabulary import BATCH_STATUSES  # noqa: E402
from integrations.oqs.simulator import make_oqs  # noqa: E402
from integrations.oqs.simulator.generator import generate_population  # noqa: E402
from integrations.oqs.simulator.models import OqsPerson, OqsQualification  # noqa: E402
from store.engine import make_engine, make_sessionmaker  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from e2e.databases import reset_postgres_database  # noqa: E402

INSTITUTION = "1341234563"


def _prepare(url: str) -> str:
    if url.startswith("postgresql"):
        reset_postgres_database(url)
    upgrade(url)
    return url


def _batch_rows(session, rng: random.Random, count: int) -> list[dict]:
    """Rows as a pharmacy would upload them: mostly real keys, some stale, a few mistyped."""
    quals = session.execute(
        select(OqsQualification.insurer_number, OqsQualification.symbol, OqsQualification.number,
               OqsQualification.branch, OqsPerson.birth_date)
        .join(OqsPerson, OqsPerson.id == OqsQualification.person_id)
        .where(OqsQualification.insurer_number.is_not(None))
        .order_by(OqsQualification.id).limit(count * 20)
    ).all()
    rows = []
    for insurer, symbol, number, branch, birth in rng.sample(quals, count):
        rows.append({"insurer_number": insurer, "symbol": symbol or "", "number": number, "branch": branch or "",
                     "birth_date": birth.strftime("%Y%m%d"), "reference_number": str(rng.randrange(1, 10**8))})
    for row in rng.sample(rows, count // 50):
        row["insurer_number"] = row["insurer_number"][:-1] + str((int(row["insurer_number"][-1]) + 1) % 10)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", default="2026-11-23")
    args = parser.parse_args()
    if args.database_url:
        run(args, args.database_url)
        return
    with tempfile.TemporaryDirectory(prefix="bench-oqs-") as directory:  # removed afterwards
        run(args, f"sqlite:///{directory}/bench.db")


def run(args: argparse.Namespace, url: str) -> None:
    today = date.fromisoformat(args.today)
    url = _prepare(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    print(f"database: {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})")

    started = time.perf_counter()
    with sessions() as session, session.begin():
        summary = generate_population(session, size=args.size, seed=args.seed, today=today)
    generation = time.perf_counter() - started
    print(summary.describe())
    print(f"generate {args.size:,} people (plan + insert + commit): {generation:.1f} s")

    rng = random.Random(args.seed)
    with sessions() as session:
        rows = _batch_rows(session, rng, 1000)
        people = session.scalars(select(OqsPerson.id).order_by(OqsPerson.id).limit(2000)).all()
        qualifications = session.scalar(select(func.count()).select_from(OqsQualification))
    print(f"rows stored: {args.size:,} people, {qualifications:,} qualifications")

    batch_times = []
    for _ in range(5):
        with sessions() as session:  # a fresh session each time: nothing cached between requests
            started = time.perf_counter()
            results = make_oqs(session).batch_inquiry(rows, institution_code=INSTITUTION, today=today)
            batch_times.append(time.perf_counter() - started)
    statuses = {s: sum(1 for r in results if r.status == s) for s in BATCH_STATUSES}
    print(f"batch inquiry of 1,000 rows: median {statuses} in {statistics.median(batch_times) * 1000:.0f} ms "
          f"(min {min(batch_times) * 1000:.0f} ms)")

    read_times, record_counts = [], []
    with sessions() as session:
        oqs = make_oqs(session)
        for person_id in rng.sample(people, 200):
            session.expunge_all()
            started = time.perf_counter()
            records = oqs.drugs(person_id, today=today)
            read_times.append(time.perf_counter() - started)
            record_counts.append(len(records))
    read_times.sort()
    p95 = read_times[int(len(read_times) * 0.95)]
    print(f"drug history of one person (3 years, incl. loading the person): median "
          f"{statistics.median(read_times) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, "
          f"mean {statistics.mean(record_counts):.0f} records (max {max(record_counts)})")

    # What a pharmacist's patient page reads for 薬剤情報 and 診療・手術: claims, e-prescriptions,
    # clinical and surgery data of one person, the person loaded once per call as the views do.
    clinical_times = []
    with sessions() as session:
        oqs = make_oqs(session)
        for person_id in rng.sample(people, 200):
            session.expunge_all()
            started = time.perf_counter()
            oqs.drugs(person_id, today=today)
            oqs.prescriptions(person_id, today=today)
            oqs.clinical(person_id, today=today)
            oqs.surgery(person_id, today=today)
            clinical_times.append(time.perf_counter() - started)
    clinical_times.sort()
    print(f"drug + e-prescription + clinical + surgery read of one person: median "
          f"{statistics.median(clinical_times) * 1000:.2f} ms, p95 "
          f"{clinical_times[int(len(clinical_times) * 0.95)] * 1000:.2f} ms")

    checkup_times = []
    with sessions() as session:
        oqs = make_oqs(session)
        for person_id in rng.sample(people, 200):
            session.expunge_all()
            started = time.perf_counter()
            oqs.checkups(person_id, today=today)
            checkup_times.append(time.perf_counter() - started)
    print(f"checkup history of one person (5 years): median {statistics.median(checkup_times) * 1000:.2f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()
