"""Patient flows through the test client, shared by the tests of every audience: the reception's
CSRF token, a card read with a software card, the tablet's staff login and 「受付モード」. The
fixtures that set up such a patient (`card_holder`, `place`) are in tests/conftest.py."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from consent.models import Consent

ORIGIN = "http://localhost:5000"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html)
    return match.group(1)


def consent_count(app) -> int:
    with app.extensions["sessionmaker"]() as session:
        return session.scalar(select(func.count()).select_from(Consent))


def choose(client, token, **form):
    page = client.get(f"/r/{token}/consent").get_data(as_text=True)
    return client.post(f"/r/{token}/consent", data={"csrf_token": csrf_of(page), **form})


def read_card(client, soft, purpose, verify_path, page_path, **kwargs):
    page = client.get(page_path).get_data(as_text=True)
    csrf = csrf_of(page)
    options = client.post(f"/card/options?purpose={purpose}", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    return client.post(verify_path, json={"credential": soft.assertion(options, origin=ORIGIN, **kwargs)},
                       headers={"X-CSRF-Token": csrf})


PASSWORD = "tablet-password-1"


def staff_login(client, url, login_id="here-clerk", password=PASSWORD):
    page = client.get(url).get_data(as_text=True)
    return client.post(f"{url}/staff/login", data={"csrf_token": csrf_of(page), "login_id": login_id,
                                                   "password": password})


def reception_mode(client, url):
    staff_login(client, url)
    page = client.get(url).get_data(as_text=True)
    assert "受付モード" in page
    return client.post(f"{url}/tablet/start", data={"csrf_token": csrf_of(page)})


def register(client, url, card, **form):
    page = client.get(f"{url}/consent").get_data(as_text=True)
    chosen = client.post(f"{url}/consent", data={"csrf_token": csrf_of(page), **(form or {"all": "1"})})
    assert chosen.status_code == 303, chosen.get_data(as_text=True)
    done = read_card(client, card, "register", f"{url}/confirm/verify", f"{url}/confirm")
    assert done.status_code == 200, done.get_json()
    return client.get(done.get_json()["redirect"]).get_data(as_text=True)


def consents(place) -> list[Consent]:
    """Every consent of the `place` fixture's database, by consultation date."""
    with place["app"].extensions["sessionmaker"]() as session:
        return list(session.scalars(select(Consent).order_by(Consent.consultation_date)))
