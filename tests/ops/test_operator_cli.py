"""Operator commands: institutions and their first admin, without the sandbox."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consent.institutions import Institution, Staff

GOOD_PHARMACY = "1341245676"  # 13 東京都, 4 調剤, 12 4567, check digit 6


def count(app, model):
    with app.extensions["sessionmaker"]() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_create_institution_and_its_first_admin_who_must_change_the_password(cli):
    result = cli("institution", "create", "--code", GOOD_PHARMACY, "--name", "本町薬局", "--kind", "pharmacy")
    assert result.exit_code == 0, result.output
    assert "reception URL: http://localhost:5000/r/" in result.output
    result = cli("institution", "admin", GOOD_PHARMACY, "--login-id", "honmachi-admin", "--name", "管理 太郎")
    assert result.exit_code == 0, result.output
    password = re.search(r"one-time password: (\S+)", result.output).group(1)

    client = cli.app.test_client()
    page = client.get("/pharmacy/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/pharmacy/login", data={"csrf_token": token, "login_id": "honmachi-admin", "password": password})
    # Nothing but the change form until the one-time password is replaced.
    assert client.get("/pharmacy/").headers["Location"].endswith("/pharmacy/password")
    assert client.get("/pharmacy/admin").headers["Location"].endswith("/pharmacy/password")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/pharmacy/password").get_data(as_text=True)).group(1)
    short = client.post("/pharmacy/password", data={"csrf_token": token, "current": password, "new": "short",
                                                    "confirm": "short"})
    assert short.status_code == 400 and "12文字以上" in short.get_data(as_text=True)
    new = "a-much-longer-password"
    done = client.post("/pharmacy/password", data={"csrf_token": token, "current": password, "new": new, "confirm": new})
    assert done.status_code == 303
    assert client.get("/pharmacy/admin").status_code == 200

    listing = cli("institution", "list")
    assert f"{GOOD_PHARMACY}  調剤  本町薬局  staff: 1" in listing.output
    assert "honmachi-admin  admin  active" in cli("staff", "list", GOOD_PHARMACY).output


@pytest.mark.parametrize(
    "args, words",
    [
        (("--code", "1341245677", "--name", "x", "--kind", "pharmacy"), "not a valid institution code"),
        (("--code", "134124567", "--name", "x", "--kind", "pharmacy"), "not a valid institution code"),
        (("--code", GOOD_PHARMACY, "--name", "x", "--kind", "clinic"), "is a 調剤 code, not clinic"),
        (("--code", GOOD_PHARMACY, "--name", "", "--kind", "pharmacy"), "--name"),
        (("--code", GOOD_PHARMACY, "--name", "x", "--kind", "hospital"), "hospital"),
    ],
)
def test_bad_institutions_are_refused_with_status_2(cli, args, words):
    result = cli("institution", "create", *args)
    assert result.exit_code == 2
    assert words in result.output
    assert count(cli.app, Institution) == 0


def test_duplicates_and_unknowns(cli):
    cli("institution", "create", "--code", GOOD_PHARMACY, "--name", "本町薬局", "--kind", "pharmacy")
    again = cli("institution", "create", "--code", GOOD_PHARMACY, "--name", "別名", "--kind", "pharmacy")
    assert again.exit_code == 2 and "exists already" in again.output
    assert count(cli.app, Institution) == 1
    assert cli("institution", "admin", "0000000000", "--login-id", "someone").exit_code == 2
    assert cli("institution", "admin", GOOD_PHARMACY, "--login-id", "x").exit_code == 2
    cli("institution", "admin", GOOD_PHARMACY, "--login-id", "first-admin")
    taken = cli("institution", "admin", GOOD_PHARMACY, "--login-id", "first-admin")
    assert taken.exit_code == 2 and "taken" in taken.output
    assert count(cli.app, Staff) == 1
    unknown = cli("staff", "disable", "nobody")
    assert unknown.exit_code == 2 and "no staff member" in unknown.output
    assert cli("staff", "list", "0000000000").exit_code == 2


def test_disabled_staff_session_ends_at_once(cli):
    cli("institution", "create", "--code", GOOD_PHARMACY, "--name", "本町薬局", "--kind", "pharmacy")
    password = re.search(r"one-time password: (\S+)",
                         cli("institution", "admin", GOOD_PHARMACY, "--login-id", "a-admin").output).group(1)
    client = cli.app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/pharmacy/login").get_data(as_text=True)).group(1)
    client.post("/pharmacy/login", data={"csrf_token": token, "login_id": "a-admin", "password": password})
    assert client.get("/pharmacy/password").status_code == 200
    assert cli("staff", "disable", "a-admin").exit_code == 0
    assert client.get("/pharmacy/password").status_code == 302
    assert "a-admin  admin  disabled" in cli("staff", "list", GOOD_PHARMACY).output


def lapse_days_of(app, code):
    with app.extensions["sessionmaker"]() as s:
        return s.scalar(select(Institution.home_visit_lapse_days).where(Institution.institution_code == code))


def test_the_home_visit_lapse_is_none_unless_the_operator_sets_one(cli):
    """The project's own lapse rule is off by default; --lapse-days sets a number or 'none' clears it."""
    created = cli("institution", "create", "--code", GOOD_PHARMACY, "--name", "本町薬局", "--kind", "pharmacy")
    assert created.exit_code == 0 and "home-visit lapse: none (no lapse)" in created.output
    assert lapse_days_of(cli.app, GOOD_PHARMACY) is None
    result = cli("institution", "set", GOOD_PHARMACY, "--lapse-days", "45")
    assert result.exit_code == 0, result.output
    assert f"{GOOD_PHARMACY}: home-visit lapse 45 days without a recorded visit" in result.output
    assert lapse_days_of(cli.app, GOOD_PHARMACY) == 45
    for bad in ("0", "3651", "-1", "x", "1.5", ""):
        refused = cli("institution", "set", GOOD_PHARMACY, "--lapse-days", bad)
        assert refused.exit_code == 2 and "--lapse-days" in refused.output, bad
    assert lapse_days_of(cli.app, GOOD_PHARMACY) == 45
    assert cli("institution", "set", GOOD_PHARMACY, "--lapse-days", "none").exit_code == 0
    assert lapse_days_of(cli.app, GOOD_PHARMACY) is None
    other = "1341234563"
    assert cli("institution", "create", "--code", other, "--name", "駅前薬局", "--kind", "pharmacy",
               "--lapse-days", "90").exit_code == 0
    assert lapse_days_of(cli.app, other) == 90
