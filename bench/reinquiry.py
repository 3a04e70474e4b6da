"""Benchmark: does a 再照会 (POST /api/v1/reinquiries) take longer for keys that exist?

    .venv/bin/python bench/reinquiry.py                      # SQLite in a temporary file
    .venv/bin/python bench/reinquiry.py --database-url postgresql://postgres@127.0.0.1:5432/bench_reinquiry

An institution with no relationship to anyone asks, in turn, for a person who exists (200), the
same keys with a wrong birth date (404) and a number nobody has (404), through the app in process
with a real token, and prints each kind's median and 90th percentile. The attack run of issue 31
saw 16.0 ms against 13.5 ms; the paths now run the same statements (tests/web/api/test_reinquiry_probes.py
counts them), so the medians should differ by no more than the noise. The PostgreSQL database is
dropped and recreated: its name must contain "bench".
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from consent import oauth_clients  # noqa: E402
from consent.clock import JST, FixedClock  # noqa: E402
from consent.institutions import ALL_FUNCTIONS, create_institution  # noqa: E402
from integrations.oqs.simulator import make_oqs  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from e2e.databases import reset_postgres_database  # noqa: E402
from web.config import Settings  # noqa: E402

TODAY = date(2026, 11, 23)


def _app(database_url: str):
    settings = Settings.from_env(env={}, app_env="development", database_url=database_url, secret_key="b" * 64,
                                 log_requests=False)
    app = create_app(settings, clock=FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=JST)))
    app.config["TESTING"] = True
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=300, help="requests of each kind (default 300)")
    parser.add_argument("--people", type=int, default=200, help="other people in the population (default 200)")
    args = parser.parse_args()
    if args.database_url:
        if "bench" not in args.database_url.rsplit("/", 1)[-1]:
            sys.exit("the PostgreSQL database name must contain 'bench' (it is dropped and recreated)")
        reset_postgres_database(args.database_url)
        url = args.database_url
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-reinquiry-')}/bench.db"
    upgrade(url)
    app = _app(url)
    now = app.extensions["clock"].now()
    with app.extensions["sessionmaker"]() as s:
        here = create_institution(s, code="1341234563", name="本町薬局", now=now, functions=ALL_FUNCTIONS)
        client, secret = oauth_clients.register_client(
            s, institution_id=here.id, name="bench", grant_type=oauth_clients.CLIENT_CREDENTIALS,
            scopes=["qualification"], now=now)
        oqs = make_oqs(s)
        person = oqs.create_person(today=TODAY, birth_date=date(1958, 7, 7), validity=1, seed=1)
        for seed in range(2, args.people + 2):
            oqs.create_person(today=TODAY, seed=seed)
        s.commit()
    web = app.test_client()
    token = web.post("/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(client.client_id, secret)).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    keys = {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat()}
    kinds = {"found": (keys, 200), "wrong birth date": ({**keys, "birth_date": "1901-02-03"}, 404),
             "unknown number": ({**keys, "number": "98765432"}, 404)}
    # The API limits a client to 120 re-inquiries a minute: this measures the path, not the limit.
    import web.api as api_module

    api_module.REINQUIRY_LIMIT = 10 ** 9
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(10):  # warm up
        for body, _status in kinds.values():
            web.post("/api/v1/reinquiries", json=body, headers=headers)
    for _ in range(args.rounds):
        for kind, (body, status) in kinds.items():  # interleaved: drift hits every kind alike
            start = time.perf_counter()
            response = web.post("/api/v1/reinquiries", json=body, headers=headers)
            timings[kind].append((time.perf_counter() - start) * 1000)
            assert response.status_code == status, (kind, response.status_code)
    print(f"再照会 through the API, {args.rounds} requests each ({app.extensions['engine'].dialect.name}):")
    for kind, values in timings.items():
        values.sort()
        print(f"  {kind:17s} median {statistics.median(values):6.2f} ms   p90 {values[int(len(values) * 0.9)]:6.2f} ms")


if __name__ == "__main__":
    main()
