"""One parser for the five insurance keys (consent/insurance_keys.py) and for birth dates
(consent/date_input.py), whichever audience sends them; the same words for the same mistake."""
from __future__ import annotations

from datetime import date

import pytest

from api_support import bearer, console_login, csrf_of, staff_token
from consent.date_input import parse_birth_date
from consent.insurance_keys import KeysRefused, parse_insurance_keys
from web.error_messages import describe

KEYS = {"insurer_number": "06139993", "symbol": "12", "number": "3456", "branch": "01", "birth_date": "1940-04-01"}


def test_a_birth_date_as_a_date_input_sends_it():
    assert parse_birth_date("1940-04-01") == date(1940, 4, 1)


@pytest.mark.parametrize("raw", ["1940/04/01", "19400401", "1940-4-1", "1940-13-01", "1940-02-30", "1899-12-31", "2026-W50-1", "１９４０-04-01",
                                 "", None, 19400401])
def test_not_a_birth_date(raw):
    assert parse_birth_date(raw) is None


def test_the_keys_are_stripped_and_a_card_without_symbol_or_branch_is_fine():
    keys = parse_insurance_keys({**KEYS, "insurer_number": " 06139993 ", "symbol": "", "branch": None})
    assert (keys.insurer_number, keys.symbol, keys.branch, keys.birth_date) == ("06139993", "", "", date(1940, 4, 1))


def test_every_missing_key_is_named_once_in_card_order():
    with pytest.raises(KeysRefused) as refused:
        parse_insurance_keys({**KEYS, "number": "", "insurer_number": "  ", "birth_date": ""})
    assert refused.value.detail == ("insurer_number", "number", "birth_date")
    assert describe(refused.value).message == "保険者番号・番号・生年月日を入力してください。"
    assert describe(refused.value).status == 422 and describe(refused.value).error == "invalid_parameter"


@pytest.mark.parametrize("value", [12, ["1"], "x" * 101])
def test_a_key_that_is_not_short_text(value):
    with pytest.raises(KeysRefused) as refused:
        parse_insurance_keys({**KEYS, "symbol": value})
    assert (refused.value.code, refused.value.field) == ("not_text", "symbol")


def test_the_console_and_the_api_say_the_same_for_the_same_mistake(world, visited):
    person, _ = visited
    keys = {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": "1940-13-01"}
    token = bearer(staff_token(world.app, world.code_client, "pharmacist"))
    api = world.app.test_client().post("/api/v1/reinquiries", json=keys, headers=token)
    browser = console_login(world.app, "pharmacist")
    csrf = csrf_of(browser.get("/pharmacy/").get_data(as_text=True))
    page = browser.post("/pharmacy/home-visits/reinquiry", data={"csrf_token": csrf, **keys})
    message = "生年月日を正しく入力してください（例: 1940-04-01）。"
    assert api.status_code == page.status_code == 422
    assert api.get_json()["message"] == message and message in page.get_data(as_text=True)
