"""Card sign-ins per second under gunicorn on loopback, against a durable bare relying party, on
SQLite and on PostgreSQL, in one run.

    .venv/bin/python bench/signin.py [--n 400] [--concurrency 4] [--workers 2] [--rounds 1]
        [--databases sqlite,postgresql] [--postgres-url postgresql://postgres@127.0.0.1:5432/bench_signin]
        [--redis-url redis://127.0.0.1:6379/15]

Each sign-in is one fresh browser session doing the ceremony: POST /card/options, sign the
challenge with a software card, POST the assertion. (The page GET that hands out the CSRF
token happens before the clock starts.) The peer (bench/bare_webauthn_app.py) is bare Flask +
py_webauthn keeping the state a real relying party must keep in the same database: a single-use
challenge row, and on verify one transaction that takes it, checks and bumps the sign count and
opens a server-side session. Both run with --workers gunicorn workers, one after the other, and
each round measures both again (on a shared machine, only a ratio from the same run means much).
Prints sign-ins/s, p50/p99 and the ratio service/peer per database (the median over rounds).
With --redis-url the service counts its rate limits in Redis (REDIS_URL) instead of the database.
The PostgreSQL database is dropped and recreated: its name must contain "bench".
"""
from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from bench._server import gunicorn, percentile  # noqa: E402
from integrations.card.soft_authenticator import SoftCard  # noqa: E402

ORIGIN = "http://localhost:5000"
AIM_RATIO, AIM_P99_MS = 0.8, 100


class Client:
    """One keep-alive connection with a cookie jar of one cookie."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.headers = {"Host": f"localhost:{port}"}

    def call(self, method: str, path: str, body=None, headers=None):
        h = {**self.headers, **(headers or {})}
        if self.cookie:
            h["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=h)
        resp = self.conn.getresponse()
        raw = resp.read()
        set_cookie = resp.getheader("Set-Cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]
        return resp.status, raw


def make_cards(database_url: str, n: int) -> list[SoftCard]:
    from integrations.card import make_card_authority
    from store.engine import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    cards = []
    with make_sessionmaker(engine)() as session:
        authority = make_card_authority(session)
        for i in range(n):
            issued = authority.issue_card(person_id=f"bench-{i}", birth_date=date(1970, 1, 1),
                                          now=datetime.now(timezone.utc))
            key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
            cards.append(SoftCard(issued.card.credential_id, issued.card.user_handle, key))
        session.commit()
    engine.dispose()
    return cards


def run_service(args, cards: list[SoftCard], database_url: str) -> tuple[float, list[float]]:
    env = {"APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": "b" * 64,
           "ORIGINS": ORIGIN, "CARD_RATE_LIMITS": "1000000,1000000,1000000", "PYTHONWARNINGS": "ignore",
           "REDIS_URL": args.redis_url or ""}
    with gunicorn("app:create_app()", env=env, workers=args.workers) as port:
        def client() -> Client:
            c = Client(port)
            _, page = c.call("GET", "/card/signin")
            c.csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
            return c

        def sign_in(c: Client, card: SoftCard) -> float:
            started = time.perf_counter()
            status, raw = c.call("POST", "/card/options?purpose=signin", {}, {"X-CSRF-Token": c.csrf})
            assert status == 200, raw
            assertion = card.assertion(json.loads(raw), origin=ORIGIN)
            status, raw = c.call("POST", "/card/signin/verify", {"credential": assertion}, {"X-CSRF-Token": c.csrf})
            assert status == 200, raw
            return time.perf_counter() - started

        return measure(args, cards, client, sign_in)


def run_peer(args, cards: list[SoftCard], database_url: str) -> tuple[float, list[float]]:
    env = {"ORIGINS": ORIGIN, "DATABASE_URL": database_url}
    with gunicorn("bench.bare_webauthn_app:app", env=env, workers=args.workers) as port:
        def sign_in(c: Client, card: SoftCard) -> float:
            started = time.perf_counter()
            status, raw = c.call("POST", "/options", {})
            assert status == 200, raw
            assertion = card.assertion(json.loads(raw), origin=ORIGIN)
            status, raw = c.call("POST", "/verify", {"credential": assertion})
            assert status == 200, raw
            return time.perf_counter() - started

        return measure(args, cards, lambda: Client(port), sign_in)


def measure(args, cards: list[SoftCard], new_client, sign_in) -> tuple[float, list[float]]:
    """A few sign-ins untimed (each worker's first requests load templates and fill pools), then
    every card once, `--concurrency` at a time; each sign-in its own fresh browser session."""
    for card in cards[: 4 * args.workers]:
        sign_in(new_client(), card)
    clients = [new_client() for _ in cards]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        latencies = list(pool.map(lambda i: sign_in(clients[i], cards[i]), range(len(cards))))
    return len(cards) / (time.perf_counter() - started), latencies


def prepare(database_url: str, n: int) -> list[SoftCard]:
    """A fresh database: the service's schema, `n` cards, and the same cards in the peer's table."""
    from bench.bare_webauthn_app import add_card, create_tables
    from integrations.card.local_authority import cose_p256_public_key
    from store.engine import make_engine
    from store.migrate import upgrade

    if database_url.startswith("postgresql"):
        from e2e.databases import reset_postgres_database

        assert "bench" in database_url.rsplit("/", 1)[-1], "the benchmark's database name must contain 'bench'"
        reset_postgres_database(database_url)
    upgrade(database_url)
    cards = make_cards(database_url, n)
    engine = make_engine(database_url)
    create_tables(engine)
    for card in cards:
        add_card(engine, card.user_handle, cose_p256_public_key(card.private_key.public_key()))
    engine.dispose()
    return cards


def profile(n: int, database_url: str, top: int) -> None:
    """`n` sign-ins in this process through Flask's test client under cProfile; the top lines by
    own time and by cumulative time, and the write transactions (COMMITs) per request."""
    import cProfile
    import os
    import pstats

    from sqlalchemy import event

    os.environ.update({"APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": "b" * 64,
                       "ORIGINS": ORIGIN, "CARD_RATE_LIMITS": "1000000,1000000,1000000"})
    from app import create_app

    cards = prepare(database_url, n)
    app = create_app()
    commits = {"n": 0}
    event.listen(app.extensions["engine"], "commit", lambda conn: commits.__setitem__("n", commits["n"] + 1))

    def sign_in(card: SoftCard) -> None:
        c = app.test_client()
        page = c.get("/card/signin", base_url=ORIGIN).data
        csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
        before = commits["n"]
        raw = c.post("/card/options?purpose=signin", json={}, headers={"X-CSRF-Token": csrf}, base_url=ORIGIN)
        assert raw.status_code == 200, raw.data
        per_request.append(commits["n"] - before)
        assertion = card.assertion(raw.get_json(), origin=ORIGIN)
        before = commits["n"]
        raw = c.post("/card/signin/verify", json={"credential": assertion}, headers={"X-CSRF-Token": csrf},
                     base_url=ORIGIN)
        assert raw.status_code == 200, raw.data
        per_request.append(commits["n"] - before)

    per_request: list[int] = []
    for card in cards[:5]:
        sign_in(card)  # warm up
    per_request.clear()
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for card in cards:
        sign_in(card)
    profiler.disable()
    cpu_ms = (time.process_time() - started) / n * 1000
    print(f"profile: {n} sign-ins in process on {database_url.split(':')[0]}: {cpu_ms:.1f} ms CPU each"
          f" (with the page GET and the card's signing), commits per request: options {per_request[0::2][0]},"
          f" verify {per_request[1::2][0]}")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def line(name: str, rate: float, latencies: list[float]) -> str:
    return (f"  {name:<30} {rate:7.1f} sign-ins/s   p50 {percentile(latencies, 50) * 1000:6.1f} ms"
            f"   p99 {percentile(latencies, 99) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="timed sign-ins per measurement")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="service and peer measured this many times each")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/bench_signin")
    parser.add_argument("--redis-url", default="", help="the service counts rate limits in this Redis")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead: profile N sign-ins in process (cProfile) on the first database")
    parser.add_argument("--top", type=int, default=25, help="lines of the profile to print")
    args = parser.parse_args()
    if args.profile:
        database = args.databases.split(",")[0]
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db" if database == "sqlite" else args.postgres_url
        profile(args.profile, url, args.top)
        return
    print(f"{args.n} sign-ins per measurement, {args.concurrency} concurrent clients, gunicorn -w {args.workers}"
          f" for both, rate limits in {'Redis' if args.redis_url else 'the database'}")
    summary = []
    for database in args.databases.split(","):
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db" if database == "sqlite" else args.postgres_url
        cards = prepare(url, args.n)
        print(f"{database}:")
        ratios, service_p99 = [], []
        for _ in range(args.rounds):
            ours = run_service(args, cards, url)
            print(line("service", *ours))
            peer = run_peer(args, cards, url)
            print(line("durable peer", *peer))
            ratios.append(ours[0] / peer[0])
            service_p99.append(percentile(ours[1], 99) * 1000)
            print(f"  ratio service/peer {ratios[-1]:.2f}")
        summary.append((database, statistics.median(ratios), statistics.median(service_p99)))
    print("summary (median over rounds; aims: ratio >= %.1f, p99 < %d ms):" % (AIM_RATIO, AIM_P99_MS))
    for database, ratio, p99 in summary:
        print(f"  {database:<11} ratio {ratio:.2f}   service p99 {p99:.0f} ms")


if __name__ == "__main__":
    main()
