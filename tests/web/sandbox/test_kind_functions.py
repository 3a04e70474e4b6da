"""Every kind × function (環境設定): it runs, or it is refused with a message - at creation (the
sandbox), later (the sandbox's PATCH, the admin page), and at the reception URL."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from console_support import login
from consent.vocabulary import FUNCTIONS, INSTITUTION_KINDS, RECEPTION_SETTINGS

# The table the real system gives (a visiting-nurse station: 訪問 only, and its medical-aid tickets).
ALLOWED = {
    ("pharmacy", "home_visit"): True, ("pharmacy", "online"): True, ("pharmacy", "medical_aid"): True,
    ("clinic", "home_visit"): True, ("clinic", "online"): True, ("clinic", "medical_aid"): True,
    ("dental", "home_visit"): True, ("dental", "online"): True, ("dental", "medical_aid"): True,
    ("visiting_nurse", "home_visit"): True, ("visiting_nurse", "online"): False,
    ("visiting_nurse", "medical_aid"): True,
}
CASES = sorted(ALLOWED)


@pytest.fixture
def sandbox(make_app):
    return make_app("sandbox", use_clock=False)


def test_the_table_covers_every_kind_and_function():
    assert set(ALLOWED) == {(k, f) for k in INSTITUTION_KINDS for f in FUNCTIONS}


@pytest.mark.parametrize("kind, function", CASES)
def test_at_creation(sandbox, kind, function):
    client = sandbox.test_client()
    resp = client.post("/sandbox/institutions", json={"kind": kind, "functions": {function: True}})
    if ALLOWED[kind, function]:
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json()["functions"][function] is True
    else:
        assert resp.status_code == 422
        assert resp.get_json()["message"] == f"訪問看護ステーションでは「{FUNCTIONS[function]}」は使えません" \
                                             "（使える機能: 「訪問診療等」・「医療扶助」）。"


@pytest.mark.parametrize("kind, function", CASES)
def test_later_through_the_sandbox(sandbox, kind, function):
    client = sandbox.test_client()
    made = client.post("/sandbox/institutions", json={"kind": kind}).get_json()
    # By default every function the kind may run is on, and only those.
    assert made["functions"][function] is ALLOWED[kind, function]
    off = client.patch(f"/sandbox/institutions/{made['institution_code']}", json={"functions": {function: False}})
    assert off.status_code == 200 and off.get_json()["functions"][function] is False
    on = client.patch(f"/sandbox/institutions/{made['institution_code']}", json={"functions": {function: True}})
    if ALLOWED[kind, function]:
        assert on.status_code == 200 and on.get_json()["functions"][function] is True
    else:
        assert on.status_code == 422 and "は使えません" in on.get_json()["message"]


@pytest.mark.parametrize("kind, function", CASES)
def test_later_on_the_admin_page(sandbox, kind, function):
    made = sandbox.test_client().post("/sandbox/institutions", json={"kind": kind}).get_json()
    admin = next(s for s in made["staff"] if s["role"] == "admin")
    client, _ = login(sandbox, admin["login_id"], admin["password"])
    page = client.get("/pharmacy/admin/settings").get_data(as_text=True)
    # The page (「管理」's 環境設定) offers only what the kind may run.
    assert (f'value="{function}"' in page) is ALLOWED[kind, function]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/pharmacy/admin/functions", data={"csrf_token": token, "functions": [function]})
    page = client.get("/pharmacy/admin/settings").get_data(as_text=True)
    if ALLOWED[kind, function]:
        assert re.search(rf'value="{function}" checked', page)
        assert 'role="alert"' not in page
    else:
        assert "訪問看護ステーションでは「オンライン診療等・外来診療等」は使えません" in page


@pytest.mark.parametrize("kind, function", [case for case in CASES if case[1] != "medical_aid"])
def test_the_reception_urls_follow(sandbox, kind, function):
    """medical_aid has no URL of its own: the admin and sandbox cases above cover it."""
    client = sandbox.test_client()
    made = client.post("/sandbox/institutions", json={"kind": kind}).get_json()
    for name, url in made["reception_urls"].items():
        if RECEPTION_SETTINGS[name].function != function:
            continue
        page = client.get(urlsplit(url).path)
        if ALLOWED[kind, function]:
            assert page.status_code in (200, 302, 303), name
        else:
            assert page.status_code == 404 and "この受付は現在行っていません" in page.get_data(as_text=True)
