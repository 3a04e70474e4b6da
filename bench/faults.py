"""Fault injection against the service under gunicorn: what the user saw, what was written.

    .venv/bin/python bench/faults.py [--database-url postgresql://postgres@127.0.0.1:5432/faults] [--patients 12]

Runs, each on a fresh database, and prints one table row per fault:
- PostgreSQL refusing connections (nothing listens on the port);
- PostgreSQL silent (only with --database-url: a proxy in front of it, paused);
- a gunicorn worker killed (SIGKILL) during a burst of consent registrations (SQLite, or the
  PostgreSQL given), then every patient reopening the reception on the same phone.
The quick versions of these (and SQLite's full disk) are in tests/web/test_faults.py.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import free_port, gunicorn  # noqa: E402

CSRF = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')
SECRET = "faults-" + "s" * 60


@dataclass
class Row:
    fault: str
    saw: str
    written: str
    ok: bool
    notes: list[str] = field(default_factory=list)


class Browser:
    """One phone: cookies kept, answers never raise."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path: str, *, data: bytes | None = None, headers: dict | None = None,
                timeout: float = 40) -> tuple[int, str, dict]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), dict(error.headers)
        except OSError as error:  # reset, refused, timed out: what a phone sees when a worker dies
            return 0, type(error).__name__, {}

    def get(self, path: str, **kwargs):
        return self.request(path, **kwargs)

    def post_form(self, path: str, form: dict):
        from urllib.parse import urlencode

        return self.request(path, data=urlencode(form, doseq=True).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, body: dict, csrf: str):
        return self.request(path, data=json.dumps(body).encode(), headers={
            "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf})


def _seed(database_url: str, patients: int):
    """An institution, and `patients` people with cards; (reception token, [(person_id, SoftCard)])."""
    from cryptography.hazmat.primitives import serialization

    from consent.institutions import create_institution
    from integrations.card import make_card_authority
    from integrations.card.soft_authenticator import SoftCard
    from integrations.oqs.simulator import make_oqs
    from store.engine import make_engine, make_sessionmaker
    from store.migrate import upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    now = datetime.now(timezone.utc)
    today = (now + timedelta(hours=9)).date()
    people = []
    with make_sessionmaker(engine)() as session:
        institution = create_institution(session, code="1341234563", name="本町薬局", now=now)
        oqs, authority = make_oqs(session), make_card_authority(session)
        for _ in range(patients):
            person = oqs.create_person(today=today, birth_date=date(1960, 4, 2), validity=1)
            issued = authority.issue_card(person_id=person.person_id, birth_date=person.birth_date, now=now)
            key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
            people.append((person.person_id, SoftCard(issued.card.credential_id, issued.card.user_handle, key)))
        session.commit()
        token = institution.reception_token
    engine.dispose()
    return token, people, today


def _register(browser: Browser, origin: str, token: str, card, day: date, about_to_verify=None) -> str:
    """One patient's registration; what they saw: 'done', 'unavailable', 'error <status>' or 'no answer'."""
    status, html, _ = browser.get(f"/r/{token}/consent")
    if status != 200:
        return f"error {status}"
    browser.post_form(f"/r/{token}/consent", {"csrf_token": CSRF.search(html).group(1),
                                             "consultation_date": day.isoformat(), "all": "1"})
    status, html, _ = browser.get(f"/r/{token}/confirm")
    if status != 200:
        return f"error {status}"
    csrf = CSRF.search(html).group(1)
    status, body, _ = browser.post_json("/card/options?purpose=register", {}, csrf)
    if status != 200:
        return f"error {status}"
    if about_to_verify:
        about_to_verify()
    status, body, _ = browser.post_json(f"/r/{token}/confirm/verify",
                                        {"credential": card.assertion(json.loads(body), origin=origin)}, csrf)
    if status == 0:
        return "no answer"
    if status == 200:
        status, html, _ = browser.get(json.loads(body)["redirect"])
        return "done" if "同意登録が完了しました" in html else f"error {status}"
    try:
        return "unavailable" if json.loads(body).get("error") == "unavailable" else f"error {status}"
    except ValueError:
        return f"error {status} (not ours)"


def _workers(master_pid: int) -> list[int]:
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def killed_worker_burst(database_url: str, patients: int = 8, workers: int = 2) -> tuple[list[dict], bool]:
    """Patients register at once; a worker is SIGKILLed while verifications are in flight. Then each
    reopens the reception. Returns one dict per patient and whether the audit chain is intact."""
    from sqlalchemy import func, select

    from consent.audit import verify_chain
    from consent.models import Consent
    from store.engine import make_engine, make_sessionmaker

    token, people, today = _seed(database_url, patients)
    port = free_port()
    origin = f"http://localhost:{port}"
    env = {"APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": SECRET, "ORIGINS": origin,
           "RP_ID": "localhost", "PORT": str(port), "CARD_RATE_LIMITS": "1000,1000,10000"}
    results: list[dict] = [{} for _ in people]
    # Every patient's card read is done; all verifications start together, and the kill lands
    # while they are being served (some committed, some not, some answered).
    together = threading.Barrier(len(people) + 1, timeout=60)
    with gunicorn("app:create_app()", env=env, workers=workers, port=port, with_process=True) as (_, master):
        def patient(i: int) -> None:
            browser = Browser(f"http://127.0.0.1:{port}")
            results[i]["saw"] = _register(browser, origin, token, people[i][1], today, together.wait)
            # After the failure (or the done page), the same phone reopens the reception.
            deadline = time.monotonic() + 30
            while True:
                status, html, _ = browser.get(f"/r/{token}")
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # the master is starting a new worker
            results[i]["reopened_shows_saved"] = "同意登録は完了しています" in html

        threads = [threading.Thread(target=patient, args=(i,)) for i in range(len(people))]
        for thread in threads:
            thread.start()
        together.wait()
        time.sleep(random.uniform(0.02, 0.12))
        victim = random.choice(_workers(master.pid))
        os.kill(victim, signal.SIGKILL)
        for thread in threads:
            thread.join(90)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        for (person_id, _), result in zip(people, results):
            result["saved"] = bool(session.scalar(
                select(func.count()).select_from(Consent).where(Consent.person_id == person_id)))
        institution_id = session.execute(select(Consent.institution_id)).scalars().first()
        chain_ok = institution_id is None or verify_chain(session, institution_id) is None
    engine.dispose()
    return results, chain_ok


def patient_knows(result: dict) -> bool:
    """Saved: they saw the done page or reopening says so. Not saved: nothing says it was."""
    if result["saved"]:
        return result["saw"] == "done" or result["reopened_shows_saved"]
    return not result["reopened_shows_saved"] and result["saw"] != "done"


def _probe_answers(base: str) -> str:
    browser = Browser(base)
    parts = []
    for label, path, headers in (("page", "/pharmacy/login", {}),
                                 ("API", "/api/v1/consents?date=2026-11-23", {"Authorization": "Bearer x"}),
                                 ("readyz", "/readyz", {})):
        started = time.monotonic()
        status, body, response_headers = browser.get(path, headers=headers)
        japanese = "しばらくしてから" in body
        parts.append(f"{label} {status} in {time.monotonic() - started:.1f}s"
                     f"{' (Japanese)' if japanese and label == 'page' else ''}"
                     f"{' Retry-After' if 'Retry-After' in response_headers else ''}")
    return "; ".join(parts)


def refused() -> Row:
    env = {"APP_ENV": "development", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "SECRET_KEY": SECRET}
    with gunicorn("app:create_app()", env=env) as port:
        saw = _probe_answers(f"http://127.0.0.1:{port}")
    return Row("PostgreSQL refusing connections", saw, "nothing (nothing can be)",
               saw.count(" 503 ") == 3 and "(Japanese)" in saw)


def silent(database_url: str) -> Row:
    from sqlalchemy.engine import make_url

    from store.migrate import upgrade
    from e2e.databases import reset_postgres_database
    from tests.store_support import PausableProxy

    reset_postgres_database(database_url)
    upgrade(database_url)
    target = make_url(database_url)
    proxy = PausableProxy(target.host or "127.0.0.1", target.port or 5432)
    env = {"APP_ENV": "development", "DATABASE_URL": proxy.url_for(database_url), "SECRET_KEY": SECRET}
    try:
        with gunicorn("app:create_app()", env=env) as port:
            base = f"http://127.0.0.1:{port}"
            Browser(base).get("/pharmacy/login")  # connections open before the silence
            proxy.pause()
            saw = _probe_answers(base)
            proxy.resume()
            time.sleep(1)
            back = Browser(base).get("/readyz")[0]
    finally:
        proxy.close()
    return Row("PostgreSQL silent (proxy paused)", saw + f"; readyz {back} once resumed", "nothing",
               saw.count(" 503 ") == 3 and back == 200)


def burst(database_url: str | None, patients: int) -> Row:
    workdir = tempfile.mkdtemp(prefix="faults-")
    url = database_url or f"sqlite:///{workdir}/burst.db"
    if database_url:
        from e2e.databases import reset_postgres_database

        reset_postgres_database(database_url)
    results, chain_ok = killed_worker_burst(url, patients=patients)
    seen: dict[str, int] = {}
    for result in results:
        key = result["saw"] + (" → reopened: saved notice" if result["reopened_shows_saved"] else "")
        seen[key] = seen.get(key, 0) + 1
    saved = sum(r["saved"] for r in results)
    ok = chain_ok and all(patient_knows(r) for r in results)
    return Row(f"worker SIGKILLed during {patients} registrations", ", ".join(f"{n}× {k}" for k, n in seen.items()),
               f"{saved} consents, audit chain {'intact' if chain_ok else 'BROKEN'}", ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL database to empty and use (else SQLite in a temp dir)")
    parser.add_argument("--patients", type=int, default=12)
    args = parser.parse_args()
    rows = [refused()]
    if args.database_url:
        rows.append(silent(args.database_url))
    rows.append(burst(args.database_url, args.patients))
    width = max(len(r.fault) for r in rows)
    print(f"{'fault':<{width}} | ok | what the user saw | what was written")
    for row in rows:
        print(f"{row.fault:<{width}} | {'✓ ' if row.ok else '✗ '} | {row.saw} | {row.written}")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
