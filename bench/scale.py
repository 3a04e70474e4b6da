"""Scale run on PostgreSQL: many pharmacies and patients at once, then checks that nothing was lost.

    .venv/bin/python bench/scale.py [--database-url postgresql://postgres@127.0.0.1:5432/bench_scale]
        [--workers 4] [--institutions 200] [--patients 2000] [--duration 60] [--clients 16]

Sets up --institutions pharmacies (each with a pharmacist, an API token, home visits switched on and
a webhook endpoint to a verifying receiver here) and --patients people with cards, a tenth of them
already in a home-visit relationship. Then gunicorn (--workers) and the webhook worker (`flask
webhooks deliver`, a separate process as deployed) serve --clients concurrent clients for --duration
seconds, each repeating one of:
  consent  a patient registers through the reception with their card (the whole HTTP flow);
  read     the pharmacy's system reads the drug history of a consent (API, bearer token);
  visit    the pharmacy records today's visit of a home-visit relationship (API);
  revoke   the pharmacy ends a consent (API, reason 1).
Afterwards, with the worker drained: every registration a patient saw done is exactly one consent
(none lost, none duplicated), every revocation answered 200 is revoked, every event was delivered
to the receiver exactly once, and every institution's audit chain verifies. Prints throughput and
p50/p99 per action and the checks; exits 1 when a check fails. The database is dropped and
recreated: its name must contain "bench".
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import free_port, gunicorn, percentile  # noqa: E402
from bench.faults import Browser, _register  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AUDIT_KEY = "bench-scale-audit-" + "a" * 30
WEBHOOK_KEY = "bench-scale-webhook-" + "w" * 30
SECRET = "bench-scale-secret-" + "s" * 40
ACTIONS = {"consent": 0.3, "read": 0.45, "visit": 0.1, "revoke": 0.15}


@dataclass
class Pharmacy:
    institution_id: int
    reception_token: str
    api_token: str


@dataclass
class Patient:
    person_id: str
    pharmacy: int  # index into the pharmacies
    card: object
    consent_id: str | None = None
    relationship: bool = False
    revoked: bool = False
    busy: bool = False


@dataclass
class Ledger:
    """What the clients saw, for the checks afterwards."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    registered: Counter = field(default_factory=Counter)  # (institution_id, person_id) -> done answers
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, started: float, outcome) -> None:
        with self.lock:
            self.latencies[action].append(time.perf_counter() - started)
            self.statuses[action][outcome] += 1


def setup(url: str, n_institutions: int, n_patients: int, receiver_url: str, today: date):
    from cryptography.hazmat.primitives import serialization

    from consent import home_visits, oauth_clients, webhooks
    from consent.audit import AuditKeyring, use_keyring
    from consent.institutions import ALL_FUNCTIONS, add_staff, create_institution
    from consent.vocabulary import EVENT_TYPES
    from integrations.card import make_card_authority
    from integrations.card.soft_authenticator import SoftCard
    from integrations.oqs.numbering import make_institution_code
    from integrations.oqs.simulator import make_oqs
    from store.engine import make_engine, make_sessionmaker

    engine = make_engine(url)
    use_keyring(engine, AuditKeyring.from_secrets(AUDIT_KEY))
    now = datetime.now(timezone.utc)
    pharmacies, patients, secrets_by_endpoint = [], [], {}
    box = webhooks.SecretBox(WEBHOOK_KEY)
    with make_sessionmaker(engine)() as s:
        for i in range(n_institutions):
            code = make_institution_code(prefecture=13, table=4, serial=500000 + i)
            institution = create_institution(s, code=code, name=f"スケール薬局 {i}", now=now,
                                             functions={name: True for name in ALL_FUNCTIONS})
            staff = add_staff(s, institution, login_id=f"scale-pharmacist-{i}", password=secrets.token_urlsafe(12),
                              role="pharmacist", now=now)
            client, _ = oauth_clients.register_client(
                s, institution_id=institution.id, name="スケール電子薬歴", grant_type="authorization_code",
                scopes=["consents", "qualification", "drug"], redirect_uri="https://bench.example/cb", now=now)
            token = secrets.token_urlsafe(32)
            oauth_clients.save_token(s, client=client, staff_id=staff.id, scope="consents qualification drug",
                                     family_id=secrets.token_hex(16), access_token=token, refresh_token=None,
                                     expires_in=3600, now=now)
            endpoint, secret = webhooks.register_endpoint(
                s, institution_id=institution.id, url=receiver_url, event_types=list(EVENT_TYPES), box=box,
                production=False, resolver=webhooks.system_resolver, now=now)
            secrets_by_endpoint[endpoint.id] = secret
            pharmacies.append(Pharmacy(institution.id, institution.reception_token, token))
        s.commit()
        oqs, authority = make_oqs(s), make_card_authority(s)
        for n in range(n_patients):
            person = oqs.create_person(today=today, validity=1)
            issued = authority.issue_card(person_id=person.person_id, birth_date=person.birth_date, now=now)
            key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
            patient = Patient(person.person_id, n % n_institutions,
                              SoftCard(issued.card.credential_id, issued.card.user_handle, key))
            if n % 10 == 9:  # a home-visit relationship since an earlier first visit
                consent = home_visits.register_first_visit(
                    s, institution_id=pharmacies[patient.pharmacy].institution_id, person_id=person.person_id,
                    card_id=issued.card.card_id, categories=["drug"], now=now, validity_code=1)
                patient.consent_id, patient.relationship = consent.id, True
            patients.append(patient)
            if n % 200 == 199:
                s.commit()
        s.commit()
    engine.dispose()
    return pharmacies, patients, secrets_by_endpoint


def start_worker(url: str, instance: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": SECRET,
           "AUDIT_KEY": AUDIT_KEY, "WEBHOOK_KEY": WEBHOOK_KEY, "INSTANCE_DIR": str(instance)}
    flask = Path(sys.executable).parent / "flask"
    return subprocess.Popen([str(flask), "--app", "app", "webhooks", "deliver", "--idle", "0.1"], cwd=ROOT,
                            env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def api(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Host": "localhost"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    except OSError:
        return 0, {}
    finally:
        conn.close()
    try:
        return resp.status, json.loads(raw or b"{}")
    except ValueError:
        return resp.status, {}


def consent_id_of(sessions, institution_id: int, person_id: str, today: date) -> str | None:
    from sqlalchemy import select

    from consent.models import Consent

    with sessions() as s:
        return s.scalar(select(Consent.id).where(Consent.institution_id == institution_id,
                                                 Consent.person_id == person_id,
                                                 Consent.consultation_date == today))


def run_clients(port: int, origin: str, pharmacies, patients, ledger: Ledger, sessions, today: date,
                clients: int, duration: float) -> float:
    pick_lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def pick(action: str) -> Patient | None:
        with pick_lock:
            for _ in range(20):
                p = random.choice(patients)
                if p.busy:
                    continue
                if action == "consent" and p.consent_id is None:
                    pass
                elif action == "read" and p.consent_id is not None:
                    pass
                elif action == "visit" and p.relationship and not p.revoked:
                    pass
                elif action == "revoke" and p.consent_id is not None and not p.revoked:
                    pass
                else:
                    continue
                p.busy = True
                return p
        return None

    def one() -> None:
        action = random.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        patient = pick(action)
        if patient is None:
            return
        pharmacy = pharmacies[patient.pharmacy]
        started = time.perf_counter()
        try:
            if action == "consent":
                saw = _register(Browser(f"http://127.0.0.1:{port}"), origin, pharmacy.reception_token,
                                patient.card, today)
                ledger.record(action, started, saw)
                if saw == "done":
                    with ledger.lock:
                        ledger.registered[(pharmacy.institution_id, patient.person_id)] += 1
                    patient.consent_id = consent_id_of(sessions, pharmacy.institution_id, patient.person_id, today)
            elif action == "read":
                status, _ = api(port, "GET", f"/api/v1/consents/{patient.consent_id}/drugs", pharmacy.api_token)
                # A revoked consent's refusal (403) is the right answer too.
                ledger.record(action, started, status)
            elif action == "visit":
                status, _ = api(port, "POST", f"/api/v1/consents/{patient.consent_id}/visits", pharmacy.api_token,
                                {"visit_date": today.isoformat()})
                ledger.record(action, started, status)
            else:
                status, _ = api(port, "POST", f"/api/v1/consents/{patient.consent_id}/revocation",
                                pharmacy.api_token, {"reason": 1})
                ledger.record(action, started, status)
                if status == 200:
                    patient.revoked = True
                    with ledger.lock:
                        ledger.revoked.add(patient.consent_id)
        finally:
            patient.busy = False

    def client() -> None:
        while time.monotonic() < stop_at:
            one()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def drain(sessions, received: Counter, timeout: float) -> int:
    """Wait until the receiver has every event once; the number of events still missing."""
    from sqlalchemy import func, select

    from consent.events import Event

    deadline = time.monotonic() + timeout
    while True:
        with sessions() as s:
            events = s.scalar(select(func.count()).select_from(Event))
        missing = events - len(received)
        if missing <= 0 or time.monotonic() > deadline:
            return max(missing, 0)
        time.sleep(0.5)


def checks(sessions, pharmacies, ledger: Ledger, received: Counter) -> list[tuple[str, bool, str]]:
    from sqlalchemy import func, select

    from consent.audit import verify_chain
    from consent.events import Event, public_id
    from consent.models import Consent

    results = []
    with sessions() as s:
        rows = Counter(s.execute(select(Consent.institution_id, Consent.person_id)
                                 .where(Consent.care_setting != 2)).all())
        seen = set(ledger.registered)
        lost = [key for key in seen if rows[key] == 0]
        duplicated = [key for key, n in rows.items() if n > 1]
        extra = [key for key in rows if key not in seen]
        results.append(("consents: none lost, none duplicated", not lost and not duplicated,
                         f"{len(seen)} registrations seen done, {sum(rows.values())} consents; lost {len(lost)}, "
                         f"duplicated {len(duplicated)}, saved but not seen done {len(extra)}"))
        revoked = s.scalars(select(Consent.id).where(Consent.id.in_(ledger.revoked), Consent.revoked_at.is_not(None))
                            ).all() if ledger.revoked else []
        results.append(("revocations answered 200 are revoked", len(revoked) == len(ledger.revoked),
                        f"{len(revoked)}/{len(ledger.revoked)}"))
        event_ids = {public_id(i) for i in s.scalars(select(Event.id)).all()}
        missing = len(event_ids - set(received))
        twice = sum(1 for n in received.values() if n > 1)
        results.append(("every event delivered exactly once", missing == 0 and twice == 0,
                        f"{len(event_ids)} events, {sum(received.values())} deliveries; missing {missing}, "
                        f"delivered more than once {twice}"))
        bad = [p.institution_id for p in pharmacies if verify_chain(s, p.institution_id) is not None]
        entries = s.scalar(select(func.count()).select_from(Consent))
        results.append(("every audit chain verifies", not bad,
                        f"{len(pharmacies) - len(bad)}/{len(pharmacies)} chains intact ({entries} consents)"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_scale")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--institutions", type=int, default=200)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    from sqlalchemy.engine import make_url

    from consent.audit import AuditKeyring, use_keyring
    from consent.clock import JST
    from e2e.databases import reset_postgres_database
    from integrations.webhooks.receiver import Receiver
    from store.engine import make_engine, make_sessionmaker
    from store.migrate import upgrade

    if not args.database_url.startswith("postgresql") or "bench" not in (make_url(args.database_url).database or ""):
        sys.exit("a PostgreSQL database whose name contains 'bench' (it is dropped and recreated)")
    reset_postgres_database(args.database_url)
    upgrade(args.database_url)
    received: Counter = Counter()
    receiver = Receiver(on_event=lambda event: received.update([event.get("id")])).start()
    today = datetime.now(timezone.utc).astimezone(JST).date()
    started = time.monotonic()
    pharmacies, patients, endpoint_secrets = setup(args.database_url, args.institutions, args.patients,
                                                   receiver.url, today)
    # Each endpoint signs with its own secret: the receiver tries them (the bench's own copy).
    verifiers = list(endpoint_secrets.values())
    receiver.handle = _verifying_any(receiver, verifiers)
    print(f"set up {args.institutions} pharmacies and {args.patients} patients in {time.monotonic() - started:.0f} s; "
          f"gunicorn -w {args.workers} on PostgreSQL, the webhook worker, {args.clients} clients, "
          f"{args.duration:.0f} s")
    engine = make_engine(args.database_url)
    use_keyring(engine, AuditKeyring.from_secrets(AUDIT_KEY))
    sessions = make_sessionmaker(engine)
    port = free_port()
    origin = f"http://localhost:{port}"
    env = {"APP_ENV": "development", "DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "ORIGINS": origin,
           "RP_ID": "localhost", "PORT": str(port), "AUDIT_KEY": AUDIT_KEY, "WEBHOOK_KEY": WEBHOOK_KEY,
           "CARD_RATE_LIMITS": "100000,100000,1000000", "PYTHONWARNINGS": "ignore"}
    instance = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    ledger = Ledger()
    worker = start_worker(args.database_url, instance, instance / "worker.log")
    try:
        with gunicorn("app:create_app()", env=env, workers=args.workers, port=port):
            elapsed = run_clients(port, origin, pharmacies, patients, ledger, sessions, today,
                                  args.clients, args.duration)
        pending = drain(sessions, received, timeout=120)
    finally:
        worker.terminate()
        worker.wait(30)
    print(f"{'action':<8} {'done/s':>8} {'p50 ms':>8} {'p99 ms':>8}  answers")
    for action in ACTIONS:
        lat = ledger.latencies.get(action, [])
        print(f"{action:<8} {len(lat) / elapsed:8.1f} {percentile(lat, 50) * 1000:8.0f} {percentile(lat, 99) * 1000:8.0f}"
              f"  {dict(ledger.statuses.get(action, {}))}")
    total = sum(len(v) for v in ledger.latencies.values())
    print(f"all      {total / elapsed:8.1f} actions/s over {elapsed:.0f} s; after the worker's "
          f"drain: {pending} events not yet received")
    failed = False
    for name, ok, detail in checks(sessions, pharmacies, ledger, received):
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        failed |= not ok
    receiver.stop()
    engine.dispose()
    sys.exit(1 if failed else 0)


def _verifying_any(receiver, secrets_list):
    """The receiver's handler, trying each endpoint's secret (all endpoints post to one URL)."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    hooks = [Webhook(secret) for secret in secrets_list]

    def handle(headers: dict[str, str], body: bytes) -> int:
        for hook in hooks:
            try:
                event = hook.verify(body, headers)
            except WebhookVerificationError:
                continue
            with receiver.lock:
                receiver.events.append(event)
            if receiver.on_event:
                receiver.on_event(event)
            return 200
        return 400

    return handle


if __name__ == "__main__":
    main()
