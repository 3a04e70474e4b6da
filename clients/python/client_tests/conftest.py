"""The client's tests run against a live server: the service's e2e fixtures (`live_server`,
`sandbox`, `pharmacy`, `phone_page`, `nfc_card`, `staff_page`, ...), with E2E_BASE_URL honoured
as there. `make test` collects this folder (pyproject's testpaths). It is a package
(`client_tests`), so its conftest and module names never meet those of tests/, which pytest
imports by their bare names."""
from __future__ import annotations

import pytest

from e2e.fixtures import *  # noqa: F401,F403 - the service's browser and live-server fixtures


@pytest.fixture
def system_client(live_server, pharmacy):
    """A client-credentials Client of a fresh sandbox pharmacy (its `api_client`)."""
    from mynareception_client import Client

    creds = pharmacy["api_client"]
    with Client.client_credentials(live_server.url, creds["client_id"], creds["client_secret"]) as api:
        yield api
