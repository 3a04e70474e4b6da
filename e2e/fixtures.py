"""Reusable pytest fixtures for browser automation against the service.

Load them in your own suite with `pytest -p e2e.fixtures` (or `from e2e.fixtures import *`
in a conftest). See e2e/README.md.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e.chromium import CHROMIUM, browser_type_launch_args  # noqa: F401 - a fixture, re-exported

ROOT = Path(__file__).resolve().parent.parent
PHONE = "Pixel 7"
TABLET = "Galaxy Tab S4"


def pytest_configure(config) -> None:
    """Register e2e.chromium after pytest-playwright, so its launch arguments win (see there)."""
    import e2e.chromium

    if not config.pluginmanager.is_registered(e2e.chromium):
        config.pluginmanager.register(e2e.chromium, "e2e.chromium")


@dataclass
class LiveServer:
    url: str
    database_url: str
    log_path: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{log_path.read_text()[-4000:]}")


# The cheapest Argon2id argon2 allows, for a test server only: the sandbox makes three staff
# accounts per institution, and a production hash costs close to a second of CPU each.
TEST_HASHING_ENV = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8", "ARGON2_PARALLELISM": "1"}


@contextmanager
def run_live_server(workdir: Path, database_url: str | None = None, *, workers: int = 2,
                    extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Serve the app under gunicorn (sandbox mode) on a free port until the block ends.

    `database_url` defaults to a fresh SQLite file in `workdir`; the schema is migrated first.
    The server listens on 127.0.0.1 and is browsed as http://localhost:PORT, because WebAuthn's
    rpId is `localhost` (see e2e/README.md). Its log goes to `workdir/server.log`.
    Used by the `live_server` fixture and by `python -m e2e.walkthrough`.
    """
    from store.migrate import upgrade

    workdir = Path(workdir)
    database_url = database_url or f"sqlite:///{workdir / 'e2e.db'}"
    upgrade(database_url)
    port = _free_port()
    url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "APP_ENV": "sandbox",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-" + "s" * 60,
        "PORT": str(port),
        "ORIGINS": url,
        "RP_ID": "localhost",
        **(extra_env or {}),
    }
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            # No control socket: its default path is shared by every gunicorn of the user, and
            # the test server, the walkthrough and make run may all be up at once.
            [sys.executable, "-m", "gunicorn", "--no-control-socket", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--timeout", "60", "app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", proc, log_path)
        yield LiveServer(url, database_url, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """The app under gunicorn (2 workers, sandbox mode) with its own fresh database.

    It listens on 127.0.0.1 and is browsed as http://localhost:PORT, because WebAuthn's rpId
    is `localhost` (see e2e/README.md). Set E2E_BASE_URL to test a server you run.
    """
    external = os.environ.get("E2E_BASE_URL")
    if external:
        yield LiveServer(external.rstrip("/"), "", Path(os.devnull))
        return
    from e2e.databases import derived_postgres_url, reset_postgres_database

    tmp = tmp_path_factory.mktemp("live")
    pg = os.environ.get("TEST_DATABASE_URL")
    database_url = None
    if pg:
        database_url = derived_postgres_url(pg, "e2e")
        reset_postgres_database(database_url)
    with run_live_server(tmp, database_url, extra_env=TEST_HASHING_ENV) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@contextmanager
def device_context(browser, playwright, base_url, device_name: str):
    """A browser context emulating `device_name` (a Playwright device), Japanese locale and zone."""
    device = dict(playwright.devices[device_name])
    device.pop("default_browser_type", None)
    context = browser.new_context(**device, base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
    try:
        yield context
    finally:
        context.close()


@contextmanager
def watched_page(context):
    """A page of `context` whose `.console.errors` collects console errors and uncaught exceptions."""
    page = context.new_page()
    page.console = ConsoleWatch(page)
    # Not closed here: its context's close disposes of it. Playwright's page.close() was seen to
    # hang now and then on the tablet-sized context (Chromium never answered), even on about:blank.
    yield page


@contextmanager
def card_in(page, sandbox):
    """A new synthetic patient with a card, in `page`'s virtual NFC authenticator."""
    from e2e.virtual_card import install_card

    person = sandbox.patient()
    virtual = install_card(page, sandbox.card(person["person_id"]), person=person)
    try:
        yield virtual
    finally:
        virtual.remove()


@pytest.fixture
def phone_context(browser, playwright, base_url):
    """A phone-sized, touch-enabled, Japanese-locale browser context."""
    with device_context(browser, playwright, base_url, PHONE) as context:
        yield context


class ConsoleWatch:
    """Collects console errors and uncaught page errors so a test can assert there were none."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
def phone_page(phone_context):
    with watched_page(phone_context) as page:
        yield page


@pytest.fixture(scope="session")
def sandbox(live_server):
    """A client for the sandbox API of the server under test."""
    from e2e.sandbox_client import SandboxClient

    return SandboxClient(live_server.url)


@pytest.fixture
def sandbox_clock(sandbox):
    """Move the sandbox clock in a test; real time comes back afterwards (the clock is global)."""
    yield sandbox
    sandbox.reset_clock()


@pytest.fixture
def nfc_card(phone_page, sandbox):
    """A new synthetic patient with a card, installed in `phone_page`'s virtual NFC authenticator."""
    with card_in(phone_page, sandbox) as virtual:
        yield virtual


@pytest.fixture
def pharmacy(sandbox):
    """A new sandbox pharmacy: its code, name, reception URL, staff logins and API client."""
    return sandbox.institution()


def sign_in_staff(page, staff: dict) -> None:
    """Sign a staff member in on `page` through the login form."""
    page.goto("/pharmacy/login")
    page.get_by_label("ログインID").fill(staff["login_id"])
    page.get_by_label("パスワード").fill(staff["password"])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_role("heading", name="同意取得済み患者一覧").wait_for()


@pytest.fixture
def staff_page(browser, base_url, pharmacy):
    """A factory: `staff_page("pharmacist")` gives a desktop page signed in as that role of `pharmacy`."""
    contexts = []

    def _open(role: str = "pharmacist", institution: dict | None = None):
        institution = institution or pharmacy
        member = next(s for s in institution["staff"] if s["role"] == role)
        context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                      viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.console = ConsoleWatch(page)
        sign_in_staff(page, member)
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in_pharmacist(staff_page):
    """A desktop page signed in as the licensed pharmacist of `pharmacy`."""
    return staff_page("pharmacist")


# --- the institution's own tablet (外来, 訪問診療等, 往診) ------------------------------------------


@pytest.fixture
def tablet_context(browser, playwright, base_url):
    """A tablet-sized (Galaxy Tab S4), touch, `ja-JP`, Asia/Tokyo browser context."""
    with device_context(browser, playwright, base_url, TABLET) as context:
        yield context


@pytest.fixture
def tablet_page(tablet_context):
    with watched_page(tablet_context) as page:
        yield page


@pytest.fixture
def tablet_card(tablet_page, sandbox):
    """A new synthetic patient with a card, installed in `tablet_page`'s virtual NFC authenticator."""
    with card_in(tablet_page, sandbox) as virtual:
        yield virtual


@dataclass
class Tablet:
    """`tablet_page` in 「受付モード」 at one of the institution's tablet URLs."""

    page: object
    url: str
    staff: dict
    institution: dict

    def start(self) -> None:
        """Back to the neutral start (the page a patient is handed)."""
        self.page.goto(self.url)
        self.page.get_by_role("link", name="同意登録をする").wait_for()


def open_tablet(page, institution: dict, *, setting: str = "outpatient", role: str = "clerk") -> Tablet:
    """Sign a staff member of `institution` in on the tablet URL of `setting` (outpatient,
    home_visit, house_call) and press 「受付モード」; the page then shows the neutral start."""
    member = next(s for s in institution["staff"] if s["role"] == role)
    url = institution["reception_urls"][setting]
    page.goto(url)
    page.get_by_label("ログインID").fill(member["login_id"])
    page.get_by_label("パスワード").fill(member["password"])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_role("button", name="受付モード").click()
    page.get_by_role("link", name="同意登録をする").wait_for()
    return Tablet(page, url, member, institution)


@pytest.fixture
def signed_in_tablet(tablet_page, pharmacy):
    """A factory: `signed_in_tablet("house_call")` gives `tablet_page` with a staff member (clerk by
    default) of `pharmacy` signed in and 「受付モード」 on, at that tablet URL (default outpatient)."""

    def _open(setting: str = "outpatient", *, role: str = "clerk", institution: dict | None = None) -> Tablet:
        return open_tablet(tablet_page, institution or pharmacy, setting=setting, role=role)

    return _open
