"""The pharmacy-system API under gunicorn on loopback: drug-history reads with valid tokens, against a
trivial Flask JSON endpoint (/healthz) of the same server, in the same run.

    .venv/bin/python bench/api.py [--rates 100,1000] [--duration 10] [--workers 2] [--database-url URL]

Each read is GET /api/v1/consents/<id>/drugs with a bearer token of a licensed pharmacist: token
lookup, staff check, the consent decision with its audit append and commit, the drug history, JSON.
Tokens are issued straight into the database (the OAuth flow is tested elsewhere) and live 10
minutes, longer than a run.

Two measurements per endpoint, open loop (a request is due at its slot whether or not earlier ones
have finished, and its latency counts from that slot, so a server falling behind shows in p99):
  - at each fixed rate of --rates: requests/s achieved, p50 and p99 (requests not even started
    5 s after the run's end are abandoned and counted as dropped);
  - capacity: the highest rate it sustains, found by a closed loop of --connections clients;
    the ratio of the read's capacity to the trivial endpoint's is printed.
The load generator runs on the same 2-core machine as the server, as a client here would.
The PostgreSQL database is dropped and recreated: its name must contain "bench".
"""
from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import gunicorn, percentile  # noqa: E402

INSTITUTIONS = 4
PEOPLE_PER_INSTITUTION = 25
AUDIT_KEY = "bench-audit-key-" + "a" * 32  # a throwaway database: a fixed key will do


def setup(database_url: str) -> list[tuple[str, str]]:
    """Institutions with a pharmacist, an API client, a token and consents for today.

    Returns (path, token) pairs to read.
    """
    from consent import grants
    from consent import oauth_clients
    from consent.clock import JST
    from consent.institutions import add_staff, create_institution
    from integrations.oqs.simulator import make_oqs
    from integrations.oqs.numbering import make_institution_code
    from consent.audit import AuditKeyring, use_keyring
    from store.engine import make_engine, make_sessionmaker
    from store.migrate import upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    # The server below keys the audit chain with the same key (its env).
    use_keyring(engine, AuditKeyring.from_secrets(AUDIT_KEY))
    now = datetime.now(timezone.utc)
    today = now.astimezone(JST).date()
    reads = []
    with make_sessionmaker(engine)() as s:
        oqs = make_oqs(s)
        for i in range(INSTITUTIONS):
            code = make_institution_code(prefecture=13, table=4, serial=410000 + i)
            institution = create_institution(s, code=code, name=f"ベンチ薬局 {i}", now=now)
            staff = add_staff(s, institution, login_id=f"bench-pharmacist-{i}", password=secrets.token_urlsafe(12),
                              role="pharmacist", now=now)
            client, _ = oauth_clients.register_client(
                s, institution_id=institution.id, name="ベンチ電子薬歴", grant_type="authorization_code",
                scopes=["consents", "qualification", "drug"], redirect_uri="https://bench.example/cb", now=now)
            token = secrets.token_urlsafe(32)
            oauth_clients.save_token(s, client=client, staff_id=staff.id, scope="consents qualification drug",
                             family_id=secrets.token_hex(16), access_token=token, refresh_token=None,
                             expires_in=600, now=now)
            for _ in range(PEOPLE_PER_INSTITUTION):
                person = oqs.create_person(today=today, validity=1)
                consent = grants.register_consent(
                    s, institution_id=institution.id, person_id=person.person_id, card_id=f"card-{person.person_id}",
                    care_setting=3, categories=["drug", "checkup"], consultation_date=today, now=now,
                    validity_code=1)
                reads.append((f"/api/v1/consents/{consent.id}/drugs", token))
        s.commit()
    engine.dispose()
    return reads


async def _request(port: int, path: str, token: str | None) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n".encode())
    raw = await reader.read()  # gunicorn's sync workers close the connection after each response
    writer.close()
    status = int(raw[9:12]) if raw[:5] == b"HTTP/" else 0
    return status, len(raw)


DROPPED = -1
GRACE = 5.0


class Run:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.started = self.finished = 0.0
        self.dropped = 0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def rate(self) -> float:
        return len(self.latencies) / (self.finished - self.started)

    @property
    def ok(self) -> bool:
        return set(self.statuses) == {200} and not self.dropped


async def fixed_rate(port: int, targets: list[tuple[str, str | None]], rate: float, duration: float,
                     max_in_flight: int = 256) -> Run:
    """Open loop: request k is due at start + k/rate; latency counts from that moment."""
    run = Run()
    total = int(rate * duration)
    gate = asyncio.Semaphore(max_in_flight)
    loop = asyncio.get_running_loop()
    run.started = loop.time()

    async def one(k: int) -> None:
        due = run.started + k / rate
        async with gate:
            if loop.time() > run.started + duration + GRACE:
                run.dropped += 1  # hopelessly late: the server is far past its capacity
                return
            path, token = targets[k % len(targets)]
            try:
                status, _ = await _request(port, path, token)
            except OSError:
                status = 0
            run.record(status, loop.time() - due)

    tasks = []
    for k in range(total):
        delay = run.started + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(k)))
    await asyncio.gather(*tasks)
    run.finished = loop.time()
    return run


async def capacity(port: int, targets: list[tuple[str, str | None]], connections: int, duration: float) -> Run:
    """Closed loop: `connections` clients each send the next request as soon as one is answered."""
    run = Run()
    loop = asyncio.get_running_loop()
    run.started = loop.time()
    stop = run.started + duration
    counter = iter(range(10**9))

    async def client() -> None:
        while loop.time() < stop:
            path, token = targets[next(counter) % len(targets)]
            sent = loop.time()
            try:
                status, _ = await _request(port, path, token)
            except OSError:
                status = 0
            run.record(status, loop.time() - sent)

    await asyncio.gather(*(client() for _ in range(connections)))
    run.finished = loop.time()
    return run


def report(name: str, run: Run) -> None:
    errors = {s: n for s, n in run.statuses.items() if s != 200}
    print(f"  {name:<38} {run.rate:8.0f} req/s   p50 {percentile(run.latencies, 50) * 1000:8.2f} ms"
          f"   p99 {percentile(run.latencies, 99) * 1000:8.2f} ms" + (f"   non-200: {errors}" if errors else "")
          + (f"   dropped: {run.dropped}" if run.dropped else ""))


def profile(database_url: str, n: int, top: int) -> None:
    """`n` drug reads in this process through Flask's test client under cProfile: the top lines,
    CPU per read, and statements and commits per read."""
    import cProfile
    import os
    import pstats
    import time

    from sqlalchemy import event

    reads = setup(database_url)
    os.environ.update({"APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": "b" * 64,
                       "AUDIT_KEY": AUDIT_KEY, "LOG_REQUESTS": "0"})
    from app import create_app

    app = create_app()
    app.config["LOG_REQUESTS"] = False
    counted = {"statements": 0, "commits": 0}
    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", lambda *a: counted.__setitem__("statements", counted["statements"] + 1))
    event.listen(engine, "commit", lambda *a: counted.__setitem__("commits", counted["commits"] + 1))
    client = app.test_client()

    def read(i: int) -> None:
        path, token = reads[i % len(reads)]
        resp = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.data

    for i in range(20):
        read(i)  # warm up
    counted.update(statements=0, commits=0)
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for i in range(n):
        read(i)
    profiler.disable()
    cpu_ms = (time.process_time() - started) / n * 1000
    print(f"profile: {n} drug reads in process on {database_url.split(':')[0]}: {cpu_ms:.2f} ms CPU each, "
          f"{counted['statements'] / n:.1f} statements and {counted['commits'] / n:.1f} commits a read "
          "(statements on the driver's cursor in store/prepared.py not counted)")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,1000", help="fixed request rates (per second), comma-separated")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16, help="closed-loop clients for the capacity run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead: profile N drug reads in process (cProfile)")
    parser.add_argument("--top", type=int, default=25, help="lines of the profile to print")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    if not args.database_url:
        args.database_url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-api-')}/bench.db"
    elif args.database_url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        from e2e.databases import reset_postgres_database

        if "bench" not in (make_url(args.database_url).database or ""):
            sys.exit("refusing to drop a database whose name does not contain 'bench'")
        reset_postgres_database(args.database_url)
    if args.profile:
        profile(args.database_url, args.profile, args.top)
        return
    reads = setup(args.database_url)
    trivial = [("/healthz", None)]
    env = {"APP_ENV": "development", "DATABASE_URL": args.database_url, "SECRET_KEY": "b" * 64,
           "AUDIT_KEY": AUDIT_KEY, "PYTHONWARNINGS": "ignore"}
    print(f"database {args.database_url.split(':')[0]}, gunicorn -w {args.workers} (sync), "
          f"{len(reads)} consents at {INSTITUTIONS} pharmacies, {args.duration:.0f} s per measurement")
    with gunicorn("app:create_app()", env=env, workers=args.workers) as port:

        async def measure():
            await capacity(port, reads, 4, 2)  # warm up: imports, connections, caches
            await capacity(port, trivial, 4, 1)
            results = {}
            for rate in rates:
                results[f"read_{rate}"] = await fixed_rate(port, reads, rate, args.duration)
                results[f"trivial_{rate}"] = await fixed_rate(port, trivial, rate, args.duration)
            results["read_cap"] = await capacity(port, reads, args.connections, args.duration)
            results["trivial_cap"] = await capacity(port, trivial, args.connections, args.duration)
            return results

        results = asyncio.run(measure())
    for rate in rates:
        print(f"at a fixed rate of {rate:.0f} requests/s (latency from each request's slot):")
        report("drug-history read (GET .../drugs)", results[f"read_{rate}"])
        report("trivial JSON (GET /healthz)", results[f"trivial_{rate}"])
    print(f"capacity ({args.connections} clients, closed loop):")
    report("drug-history read (GET .../drugs)", results["read_cap"])
    report("trivial JSON (GET /healthz)", results["trivial_cap"])
    ratio = results["read_cap"].rate / results["trivial_cap"].rate
    print(f"ratio read/trivial (capacity): {ratio:.2f}")
    failed = [name for name, run in results.items() if set(run.statuses) - {200}]
    if failed:
        sys.exit(f"some requests failed (see non-200 above): {failed}")


if __name__ == "__main__":
    main()
