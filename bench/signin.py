"""Card sign-ins per second under gunicorn on loopback, against a bare Flask + py_webauthn app.

    .venv/bin/python bench/signin.py [--n 600] [--concurrency 4] [--workers 2] [--database-url URL]

Each sign-in is one fresh browser session doing the ceremony: POST /card/options, sign the
challenge with a software card, POST the assertion. (The page GET that hands out the CSRF
token happens before the clock starts.) Prints sign-ins/s, p50/p99, and the ratio to the bare app.
"""
from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from webauthn.helpers import bytes_to_base64url  # noqa: E402

from bench._server import gunicorn, percentile  # noqa: E402
from integrations.card.soft_authenticator import SoftCard  # noqa: E402


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


def run_ours(args, cards: list[SoftCard]) -> tuple[float, list[float]]:
    env = {"APP_ENV": "development", "DATABASE_URL": args.database_url, "SECRET_KEY": "b" * 64,
           "ORIGINS": "http://localhost:5000", "CARD_RATE_LIMITS": "1000000,1000000,1000000"}
    with gunicorn("app:create_app()", env={**env, "PYTHONWARNINGS": "ignore"}, workers=args.workers) as port:
        clients = []
        for _ in cards:
            c = Client(port)
            _, page = c.call("GET", "/card/signin")
            c.csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
            clients.append(c)

        def one(i: int) -> float:
            c, card = clients[i], cards[i]
            started = time.perf_counter()
            status, raw = c.call("POST", "/card/options?purpose=signin", {}, {"X-CSRF-Token": c.csrf})
            assert status == 200, raw
            assertion = card.assertion(json.loads(raw), origin="http://localhost:5000")
            status, raw = c.call("POST", "/card/signin/verify", {"credential": assertion}, {"X-CSRF-Token": c.csrf})
            assert status == 200, raw
            return time.perf_counter() - started

        return timed(one, len(cards), args.concurrency)


def run_bare(args, cards: list[SoftCard]) -> tuple[float, list[float]]:
    env = {"ORIGINS": "http://localhost:5000"}
    with gunicorn("bench.bare_webauthn_app:app", env=env, workers=1) as port:
        setup = Client(port)
        for card in cards:
            pub = card.private_key.public_key().public_numbers()
            import cbor2

            cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: pub.x.to_bytes(32, "big"), -3: pub.y.to_bytes(32, "big")})
            card.sign_count = 0
            setup.call("POST", "/register", {"user_handle": bytes_to_base64url(card.user_handle),
                                             "public_key": bytes_to_base64url(cose)})
        clients = [Client(port) for _ in cards]

        def one(i: int) -> float:
            c, card = clients[i], cards[i]
            started = time.perf_counter()
            status, raw = c.call("POST", "/options", {})
            assertion = card.assertion(json.loads(raw), origin="http://localhost:5000")
            status, raw = c.call("POST", "/verify", {"credential": assertion})
            assert status == 200, raw
            return time.perf_counter() - started

        return timed(one, len(cards), args.concurrency)


def timed(fn, n: int, concurrency: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(fn, range(n)))
    return n / (time.perf_counter() - started), latencies


def report(name: str, rate: float, latencies: list[float]) -> None:
    print(f"{name:<34} {rate:8.1f} sign-ins/s   p50 {percentile(latencies, 50) * 1000:6.1f} ms"
          f"   p99 {percentile(latencies, 99) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    if not args.database_url:
        args.database_url = f"sqlite:///{tmp}/bench.db"
    elif args.database_url.startswith("postgresql"):
        from e2e.databases import reset_postgres_database

        reset_postgres_database(args.database_url)
    from store.migrate import upgrade

    upgrade(args.database_url)
    cards = make_cards(args.database_url, args.n)
    print(f"{args.n} sign-ins, {args.concurrency} concurrent clients, database {args.database_url.split(':')[0]}")
    ours_rate, ours_lat = run_ours(args, cards)
    report(f"service (gunicorn -w {args.workers})", ours_rate, ours_lat)
    bare_rate, bare_lat = run_bare(args, cards)
    report("bare Flask + py_webauthn (-w 1)", bare_rate, bare_lat)
    print(f"ratio service/bare: {ours_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
