"""examples/qa-suite, run as a QA team runs it: `pytest -n 2` (pytest-xdist) against one server of
ours, each test on its own institution and clock; twice at once, as two teams on one sandbox."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.fixtures import TEST_HASHING_ENV, run_live_server

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "examples" / "qa-suite"
# What the outer run set that the suite must not see (it talks to the server it is given only).
OUTER = ("TEST_DATABASE_URL", "E2E_BASE_URL", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_XDIST_WORKER",
         "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST")

# Browsers and a server of its own on SQLite; the same on either database, so CI runs it once.
pytestmark = [pytest.mark.e2e, pytest.mark.database_independent]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server (2 workers, SQLite) that every suite below shares."""
    with run_live_server(tmp_path_factory.mktemp("qa-server"), extra_env=TEST_HASHING_ENV) as live:
        yield live


def _suite_in(folder: Path) -> Path:
    """A copy of the sample suite, as a QA team keeps it in a folder of its own."""
    shutil.copytree(SUITE, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return folder


def _start(folder: Path, base_url: str, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in OUTER}
    env["E2E_BASE_URL"] = base_url
    return subprocess.Popen([sys.executable, "-m", "pytest", "-n", "2", "-q", *extra], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _passed(run: subprocess.Popen, timeout: int = 600) -> int:
    out, _ = run.communicate(timeout=timeout)
    assert run.returncode == 0, out[-6000:]
    found = re.search(r"(\d+) passed", out)
    assert found and "failed" not in out and "error" not in out.lower().split("passed")[-1], out[-3000:]
    return int(found.group(1))


def _tests_in_the_suite() -> int:
    return sum(len(re.findall(r"^def test_", path.read_text(), re.M)) for path in SUITE.glob("test_*.py"))


def test_the_sample_suite_passes_with_two_workers_against_one_server(server, tmp_path):
    run = _start(_suite_in(tmp_path / "qa"), server.url)
    assert _passed(run) == _tests_in_the_suite()


def test_two_suites_moving_their_own_institutions_clocks_at_once_both_pass(server, tmp_path):
    # Two teams on one sandbox, each with two workers: every test moves its own institution's
    # clock (the console's refusal sets it to the window's end, the home visit three weeks on).
    runs = [_start(_suite_in(tmp_path / name), server.url, "-k", "console or home_visit or api")
            for name in ("team-a", "team-b")]
    assert [_passed(run) for run in runs] == [3, 3]
