"""Console pages under gunicorn on loopback: the patient list of a day with 500 consents, and the
patient page (with its review before 服薬指導) of the patient with the most drug lines over three
years. Prints p50/p99, requests/s and the page's size, 8 clients at once by default (issue 33 aims
at a patient page p99 under 100 ms there).

    .venv/bin/python bench/console.py [--n 400] [--concurrency 8] [--database-url URL]
"""
from __future__ import annotations

import argparse
import http.client
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import gunicorn, percentile  # noqa: E402

AUDIT_KEY = "bench-audit-key-" + "a" * 32  # a throwaway database: a fixed key will do

def setup(database_url: str) -> tuple[str, str]:
    """500 consents for today at one pharmacy; returns (list date, a consent id with many drugs)."""
    from sqlalchemy import select

    from consent import grants
    from consent.clock import JST
    from consent.institutions import add_staff, create_institution
    from integrations.oqs.simulator import generate_population, make_oqs
    from integrations.oqs.simulator.models import OqsPerson
    from consent.audit import AuditKeyring, use_keyring
    from store.engine import make_engine, make_sessionmaker

    now = datetime.now(timezone.utc)
    today = now.astimezone(JST).date()
    engine = make_engine(database_url)
    # The server below keys the audit chain with the same key (its env).
    use_keyring(engine, AuditKeyring.from_secrets(AUDIT_KEY))
    with make_sessionmaker(engine)() as s:
        inst = create_institution(s, code="1341234563", name="ベンチ薬局", now=now)
        add_staff(s, inst, login_id="bench", password="bench-password", role="pharmacist", now=now)
        generate_population(s, size=500, seed=7, today=today)
        oqs = make_oqs(s)
        best, most = None, -1
        for person_id in s.scalars(select(OqsPerson.id).limit(500)):
            consent = grants.register_consent(
                s, institution_id=inst.id, person_id=person_id, card_id="bench", care_setting=3,
                # clinical too: the review's allergy and kidney checks and the lab charts run.
                categories=("drug", "checkup", "limit", "clinical"), consultation_date=today, now=now, validity_code=1)
            n = len(oqs.drugs(person_id, today=today))
            if n > most:
                best, most = consent.id, n
        s.commit()
    engine.dispose()
    print(f"set up 500 consents; the patient page shows {most} drug lines (3 years)")
    return today.isoformat(), best


class Client:
    def __init__(self, port: int, cookie: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = cookie

    def get(self, path: str) -> tuple[int, int]:
        """(status, body size in bytes)."""
        self.conn.request("GET", path, headers={"Host": "localhost", "Cookie": self.cookie})
        resp = self.conn.getresponse()
        return resp.status, len(resp.read())


def login(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/pharmacy/login", headers={"Host": "localhost"})
    resp = conn.getresponse()
    page = resp.read().decode()
    cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = f"csrf_token={token}&login_id=bench&password=bench-password"
    conn.request("POST", "/pharmacy/login", body=body, headers={
        "Host": "localhost", "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    return resp.getheader("Set-Cookie").split(";", 1)[0]


def run(port: int, cookie: str, path: str, n: int, concurrency: int) -> None:
    clients = [Client(port, cookie) for _ in range(concurrency)]
    size = 0
    for _ in range(4):  # warm up every worker (templates compile on first use)
        for c in clients:
            size = c.get(path)[1]

    def one(i: int) -> float:
        started = time.perf_counter()
        status, _ = clients[i % concurrency].get(path)
        assert status == 200, status
        return time.perf_counter() - started

    # Each client is used by one thread at a time: chunk the work per client.
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = [x for chunk in pool.map(lambda c: [one(c + concurrency * k) for k in range(n // concurrency)],
                                             range(concurrency)) for x in chunk]
    elapsed = time.perf_counter() - started
    print(f"{path.split('?')[0]:<40} {len(latencies) / elapsed:7.1f} req/s   p50 {percentile(latencies, 50) * 1000:6.1f} ms"
          f"   p99 {percentile(latencies, 99) * 1000:6.1f} ms   {size / 1024:5.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if not args.database_url:
        args.database_url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    elif args.database_url.startswith("postgresql"):
        from e2e.databases import reset_postgres_database

        reset_postgres_database(args.database_url)
    from store.migrate import upgrade

    upgrade(args.database_url)
    day, consent_id = setup(args.database_url)
    env = {"APP_ENV": "development", "DATABASE_URL": args.database_url, "SECRET_KEY": "b" * 64, "AUDIT_KEY": AUDIT_KEY}
    with gunicorn("app:create_app()", env=env, workers=args.workers) as port:
        cookie = login(port)
        print(f"{args.n} requests each, {args.concurrency} concurrent, gunicorn -w {args.workers}, "
              f"database {args.database_url.split(':')[0]}")
        run(port, cookie, f"/pharmacy/?date={day}", args.n, args.concurrency)
        run(port, cookie, f"/pharmacy/consents/{consent_id}", args.n, args.concurrency)


if __name__ == "__main__":
    main()
