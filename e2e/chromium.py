"""The fixtures pytest-playwright defines too (Debian's Chromium, `base_url`), as a plugin of their own.

`pytest -p e2e.fixtures` loads e2e.fixtures before the installed plugins, pytest-playwright
among them, and of two plugins defining one fixture the one registered last wins: defined
only in e2e.fixtures, pytest-playwright's launch arguments won and Playwright looked for a
browser download, and its `base_url` (the `--base-url` option, else None) left
`page.goto("/")` failing with "Cannot navigate to invalid URL". e2e.fixtures therefore
registers this module at configure time, after pytest-playwright. (A conftest's fixtures beat
every plugin's, so `from e2e.fixtures import *` in a conftest works either way.)
"""
from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium; Playwright's own browser download cannot work on these machines.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--disable-gpu", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """The server under test: `--base-url`, else E2E_BASE_URL, else the fixtures' own server
    (`live_server`), so `page.goto("/")` works."""
    return live_server.url
