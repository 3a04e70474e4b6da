"""Institution functions (環境設定) and a reception URL per entry point: the migration, the
sandbox's POST and PATCH, rotation per entry point, and a switched-off function's 404."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from consent.institutions import create_institution, institution_by_code
from store.migrate import downgrade, upgrade

SETTINGS = ["online", "outpatient", "home_visit", "house_call"]


def test_migration_0015_gives_existing_institutions_online_only_and_their_own_urls(database_url, institution_id):
    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0014_states")
        columns = {c["name"] for c in inspect(engine).get_columns("institutions")}
        assert "function_online" not in columns and "outpatient_token" not in columns
        upgrade(database_url)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT reception_token, outpatient_token, home_visit_token, house_call_token, function_online,"
                " function_home_visit, function_medical_aid FROM institutions")).all()
        assert len(rows) == 2
        for row in rows:
            assert (bool(row[4]), bool(row[5]), bool(row[6])) == (True, False, False)
            assert all(row[:4]) and len(set(row[:4])) == 4
        tokens = [t for row in rows for t in row[:4]]
        assert len(set(tokens)) == len(tokens)
        downgrade(database_url, "0014_states")
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM institutions")) == 2
    finally:
        upgrade(database_url)
        engine.dispose()


@pytest.fixture
def sandbox(make_app):
    return make_app("sandbox").test_client()


def test_the_sandbox_switches_every_function_on_and_returns_a_url_per_entry_point(sandbox):
    body = sandbox.post("/sandbox/institutions", json={}).get_json()
    assert body["functions"] == {"home_visit": True, "online": True, "medical_aid": True}
    assert sorted(body["reception_urls"]) == sorted(SETTINGS)
    assert body["reception_url"] == body["reception_urls"]["online"]
    assert len(set(body["reception_urls"].values())) == 4
    assert all(url.startswith("http") for url in body["reception_urls"].values())


def test_the_sandbox_takes_functions_at_creation_and_patch_changes_them_later(sandbox):
    body = sandbox.post("/sandbox/institutions", json={"functions": {"home_visit": False}}).get_json()
    assert body["functions"] == {"home_visit": False, "online": True, "medical_aid": True}
    code = body["institution_code"]
    changed = sandbox.patch(f"/sandbox/institutions/{code}", json={"functions": {"home_visit": True, "online": False}})
    assert changed.status_code == 200
    assert changed.get_json()["functions"] == {"home_visit": True, "online": False, "medical_aid": True}
    assert changed.get_json()["reception_urls"] == body["reception_urls"]
    renamed = sandbox.patch(f"/sandbox/institutions/{code}", json={"name": "改名薬局"}).get_json()
    assert renamed["name"] == "改名薬局" and renamed["functions"]["online"] is False


@pytest.mark.parametrize("body", [{"functions": {"dental": True}}, {"functions": {"online": "yes"}},
                                  {"functions": []}, {"no_such_field": 1}, {"name": ""}])
def test_patch_refuses_bad_fields_and_changes_nothing(sandbox, body):
    created = sandbox.post("/sandbox/institutions", json={}).get_json()
    answer = sandbox.patch(f"/sandbox/institutions/{created['institution_code']}",
                           json={"functions": {"online": False}, **body})
    # An unknown field is invalid_parameter, as under /api/v1/ (issue 32); a bad value invalid_field.
    expected = "invalid_parameter" if "no_such_field" in body else "invalid_field"
    assert answer.status_code == 422 and answer.get_json()["error"] == expected
    top = sandbox.get(created["reception_url"].split("localhost:5000", 1)[-1])
    assert top.status_code == 200  # online still on


def test_post_refuses_bad_functions_and_creates_nothing(sandbox, sessions):
    answer = sandbox.post("/sandbox/institutions", json={"functions": {"online": 1}})
    assert answer.status_code == 422
    with sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM institutions")) == 0


def test_patch_of_an_unknown_institution_is_404_and_forms_are_415(sandbox):
    assert sandbox.patch("/sandbox/institutions/1399999999", json={"name": "x"}).status_code == 404
    code = sandbox.post("/sandbox/institutions", json={}).get_json()["institution_code"]
    assert sandbox.patch(f"/sandbox/institutions/{code}", data={"name": "x"}).status_code == 415


def _path(url: str) -> str:
    return "/r/" + url.split("/r/", 1)[1]


def test_a_switched_off_function_answers_404_with_the_institutions_name(sandbox):
    body = sandbox.post("/sandbox/institutions", json={"name": "休止薬局", "functions": {
        "home_visit": False, "online": False}}).get_json()
    for setting in SETTINGS:
        answer = sandbox.get(_path(body["reception_urls"][setting]))
        html = answer.get_data(as_text=True)
        assert answer.status_code == 404, setting
        assert "この受付は現在行っていません" in html and "休止薬局" in html
        assert "同意登録をする" not in html and "ログインID" not in html
        assert sandbox.get(_path(body["reception_urls"][setting]) + "/consent").status_code == 404


def test_institution_create_runs_online_only(app, sessions, clock):
    with sessions() as session:
        created = create_institution(session, code="1341234563", name="本町薬局", now=clock.now())
        assert created.functions == {"home_visit": False, "online": True, "medical_aid": False}
        session.commit()
    result = app.test_cli_runner().invoke(args=["institution", "create", "--code", "1341234571", "--name", "駅前薬局",
                                                "--kind", "pharmacy"])
    assert result.exit_code == 0, result.output
    assert "outpatient URL (online: on)" in result.output and "house_call URL (home_visit: off)" in result.output
    with sessions() as session:
        assert institution_by_code(session, "1341234571").functions["home_visit"] is False


@pytest.mark.parametrize("setting", SETTINGS)
def test_reception_rotate_rotates_one_entry_point_and_the_old_url_answers_410(sandbox, make_app, setting):
    body = sandbox.post("/sandbox/institutions", json={}).get_json()
    app = make_app("sandbox")
    args = ["reception", "rotate", body["institution_code"]] + (["--setting", setting] if setting != "online" else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    new_path = "/r/" + result.output.strip().split("/r/", 1)[1]
    assert sandbox.get(_path(body["reception_urls"][setting])).status_code == 410
    assert sandbox.get(new_path).status_code == 200
    for other in SETTINGS:
        if other != setting:
            assert sandbox.get(_path(body["reception_urls"][other])).status_code == 200


def test_reception_rotate_refuses_an_unknown_setting(app):
    result = app.test_cli_runner().invoke(args=["reception", "rotate", "1341234563", "--setting", "phone"])
    assert result.exit_code == 2
