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
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from e2e.chromium import CHROMIUM, base_url, browser_type_launch_args  # noqa: F401 - fixtures, re-exported

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


def external_base_url(config) -> str | None:
    """The server a suite was pointed at: `--base-url` (pytest-base-url's option), else E2E_BASE_URL."""
    try:
        option = config.getoption("base_url")
    except ValueError:  # pytest-base-url not loaded
        option = None
    return option or os.environ.get("E2E_BASE_URL") or None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, pytestconfig) -> LiveServer:
    """The app under gunicorn (2 workers, sandbox mode) with its own fresh database.

    It listens on 127.0.0.1 and is browsed as http://localhost:PORT, because WebAuthn's rpId
    is `localhost` (see e2e/README.md). Set E2E_BASE_URL (or `--base-url`) to test a
    server you run: then none is started (with pytest-xdist, every worker uses that one server).
    """
    external = external_base_url(pytestconfig)
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
def card_in(page, sandbox, *, pin: bool = True):
    """A new synthetic patient with a card, in `page`'s virtual NFC authenticator (`pin` False: it
    answers without user verification, as for the tablet's photo check)."""
    from e2e.virtual_card import install_card

    person = sandbox.patient()
    virtual = install_card(page, sandbox.card(person["person_id"]), person=person, pin=pin)
    try:
        yield virtual
    finally:
        virtual.remove()


@pytest.fixture
def phone_context(browser, playwright, base_url, institution):
    """A phone-sized, touch-enabled, Japanese-locale browser context. (It asks for the test's
    `institution` so that the institution is removed only once the context is closed.)"""
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
    """Move the sandbox's global clock in a test; real time comes back afterwards. The global clock
    is shared by every institution without a clock of its own, and so by every suite (and every
    pytest-xdist worker) on the server: a suite running beside others uses `institution_clock`."""
    yield sandbox
    sandbox.reset_clock()


@pytest.fixture
def nfc_card(phone_page, sandbox):
    """A new synthetic patient with a card, installed in `phone_page`'s virtual NFC authenticator."""
    with card_in(phone_page, sandbox) as virtual:
        yield virtual


@pytest.fixture
def institution(sandbox):
    """A fresh sandbox institution (a pharmacy) for this test alone: its code, name, reception URLs,
    staff logins and API client. Removed with everything it holds after the test
    (DELETE /sandbox/institutions/<code>), so a suite leaves nothing behind."""
    made = sandbox.institution()
    yield made
    sandbox.delete_institution(made["institution_code"], missing_ok=True)


@pytest.fixture
def pharmacy(institution):
    """The test's institution (`institution`), under the name the fixtures always used."""
    return institution


@dataclass
class InstitutionClock:
    """The clock of one institution (PUT /sandbox/institutions/<code>/clock): it wins over the global
    clock for everything evaluated for that institution, and moves nobody else's time."""

    sandbox: object
    institution_code: str

    def now(self) -> datetime:
        """What the institution's rules read now (its own clock, else the global one)."""
        return datetime.fromisoformat(self.sandbox.institution_clock(self.institution_code)["now"])

    def set(self, instant: datetime | str) -> datetime:
        """Stop the institution's time at `instant` (aware, or ISO 8601 with an offset)."""
        raw = instant.isoformat() if isinstance(instant, datetime) else instant
        return datetime.fromisoformat(self.sandbox.set_institution_clock(self.institution_code, raw)["now"])

    def freeze(self) -> datetime:
        """Stop it where it is now (to the second): a test's times are then its own."""
        return self.set(self.now())

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move it forward, e.g. `advance(days=3)`; from where it stands (frozen first if need be)."""
        return self.set(self.now() + (delta or timedelta(**parts)))

    def reset(self) -> datetime:
        """Back to the global clock."""
        return datetime.fromisoformat(self.sandbox.reset_institution_clock(self.institution_code)["now"])


@pytest.fixture
def institution_clock(sandbox, institution) -> InstitutionClock:
    """The clock of this test's `institution`, stopped at the moment the test starts. Move it with
    `.set(...)` or `.advance(days=...)`; it goes with the institution after the test. Parallel
    tests (pytest-xdist) and other suites on the same server keep their own time."""
    clock = InstitutionClock(sandbox, institution["institution_code"])
    clock.freeze()
    return clock


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
def tablet_context(browser, playwright, base_url, institution):
    """A tablet-sized (Galaxy Tab S4), touch, `ja-JP`, Asia/Tokyo browser context (closed before
    the test's `institution` is removed)."""
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


@pytest.fixture
def certificate_holder(sandbox) -> dict:
    """A new synthetic patient who holds only a 資格確認書 (`"card": false`): the sandbox's answer,
    with the keys to type into 「資格確認書で確認」 (`insurer_number`, `symbol`, `number`, `branch`,
    `birth_date`). A card made for them is refused at every read (`card_unlinked`)."""
    return sandbox.patient(card=False)


def confirm_by_certificate(page, person: dict, *, birth_date: str | None = None) -> None:
    """On a page that offers 「資格確認書で確認」 (the tablet's neutral start, the console's 「訪問患者」):
    open it, type the person's keys (`birth_date` as written, e.g. 和暦; default the ISO date) and
    wait for the answer (the qualification, or the refusal's alert)."""
    page.get_by_role("link", name="資格確認書で確認").click()
    page.get_by_label("保険者番号").fill(person["insurer_number"])
    page.get_by_label("記号").fill(person["symbol"] or "")
    page.get_by_label("番号", exact=True).fill(person["number"])
    page.get_by_label("枝番").fill(person["branch"] or "")
    page.get_by_label("生年月日").fill(birth_date or person["birth_date"])
    page.get_by_role("button", name="資格を確認する").click()
    page.locator("#certificate-no-data, [role=alert]").first.wait_for()


@pytest.fixture
def tablet_card_without_pin(tablet_page, sandbox):
    """As `tablet_card`, but the card answers without its PIN (user presence only): the photo
    check's (目視確認) card on the tablet for 訪問診療等 and 往診."""
    with card_in(tablet_page, sandbox, pin=False) as virtual:
        yield virtual


@pytest.fixture
def nfc_card_without_pin(phone_page, sandbox):
    """As `nfc_card`, but the card answers without its PIN: the patient's phone refuses it."""
    with card_in(phone_page, sandbox, pin=False) as virtual:
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
