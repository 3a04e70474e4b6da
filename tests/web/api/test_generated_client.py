"""A pharmacy-system vendor's view (issue 32): generate a client from /api/openapi.json with
openapi-python-client, install it in a fresh virtualenv (pip, from the configured registry), and
read a home-visit patient's drugs with it over HTTP. A home-visit read answers window_end null,
which crashed the clients generated before; problem details parse into the Problem model."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api_support import staff_token

PACKAGE = "myna_reception_pharmacy_system_api_client"  # from the ASCII info.title
# What the vendor's program does with the generated package (run in the client's own venv).
VENDOR_PROGRAM = f"""
import json, sys
from {PACKAGE} import AuthenticatedClient
from {PACKAGE}.api.data import read_drug
from {PACKAGE}.models import CareKind, ErrorCode, Problem, ReadDrugResponse200

base_url, token, consent_id = sys.argv[1:4]
client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
rows, cursor, first = [], None, None
while True:
    page = read_drug.sync(client=client, consent_id=consent_id, limit="10",
                          **({{"cursor": cursor}} if cursor else {{}}))
    assert isinstance(page, ReadDrugResponse200), page
    first = first or page
    rows += page.drugs
    cursor = page.next_cursor
    if not cursor:
        break
missing = read_drug.sync(client=client, consent_id="doesNotExist")
assert isinstance(missing, Problem) and missing.error == ErrorCode.NOT_FOUND, missing
print(json.dumps({{
    "window_end": first.window_end, "rows": len(rows),
    "ids": [r.id for r in rows], "sources": sorted({{r.source.value for r in rows}}),
    "dispensed_on": rows[0].dispensed_on.isoformat(), "inpatient": CareKind.INPATIENT.value,
    "missing_status": missing.status,
}}))
"""


@pytest.fixture
def live_app(world):
    """The test app served over HTTP on a free port (a werkzeug server in a thread)."""
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.database_independent
def test_a_generated_client_reads_a_home_visit_patients_drugs(world, visited, live_app, tmp_path):
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert generator, "openapi-python-client is a test extra (pip install -e '.[test]')"
    with urllib.request.urlopen(live_app + "/api/openapi.json", timeout=30) as resp:
        (tmp_path / "openapi.json").write_bytes(resp.read())
    (tmp_path / "config.yml").write_text("post_hooks: []\n")
    subprocess.run([generator, "generate", "--path", str(tmp_path / "openapi.json"), "--meta", "setup",
                    "--config", str(tmp_path / "config.yml"), "--output-path", str(tmp_path / "client")],
                   check=True, capture_output=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", str(tmp_path / "client")],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]

    _, consent_id = visited
    token = staff_token(world.app, world.code_client, "pharmacist")["access_token"]
    run = subprocess.run([str(python), "-c", VENDOR_PROGRAM, live_app, token, consent_id],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert seen["window_end"] is None  # a home-visit consent has no window
    everything = world.app.test_client().get(f"/api/v1/consents/{consent_id}/drugs",
                                             headers={"Authorization": f"Bearer {token}"}).get_json()["drugs"]
    assert seen["ids"] == [row["id"] for row in everything] and seen["rows"] > 10  # paged through all
    assert seen["inpatient"] == "01" and seen["missing_status"] == 404
