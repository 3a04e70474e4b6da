"""The five insurance keys (保険者番号・記号・番号・枝番 + 生年月日) as every audience receives them:
the console's 再照会 and 災害時閲覧 forms, the API's JSON. One parser, one error per mistake.

This checks what a form or a body must hold before anything is looked up (present, text, a
birth date); the keys' own character sets and check digits are the OQS contract's
(integrations/oqs/inputs.py), raised as its InvalidInput.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from consent.date_input import parse_birth_date
from consent.errors import DomainError

KEY_FIELDS = ("insurer_number", "symbol", "number", "branch", "birth_date")
# 後期高齢者 and 医療扶助 cards have neither.
OPTIONAL = frozenset({"symbol", "branch"})
MAX_LENGTH = 100


class KeysRefused(DomainError):
    """Keys that cannot be looked up as sent. `field`: the first at fault; for `missing`, `detail`
    lists every missing field (in KEY_FIELDS order)."""

    domain = "insurance_keys"
    codes = frozenset({"missing", "not_text", "birth_date_format"})


@dataclass(frozen=True)
class InsuranceKeys:
    insurer_number: str
    symbol: str  # "" when the card has none
    number: str
    branch: str  # "" when the card has none
    birth_date: date


def parse_insurance_keys(raw: Mapping[str, object], *, wareki: bool = False) -> InsuranceKeys:
    """The keys from a form or a JSON object (missing and empty alike), or KeysRefused.
    `wareki`: a birth date typed off a document (資格確認書) may be 和暦 too, as the batch CSV's
    (consent.date_input.read_birth_date)."""
    values: dict[str, str] = {}
    for key in KEY_FIELDS:
        value = raw.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > MAX_LENGTH:
            raise KeysRefused("not_text", field=key)
        values[key] = value.strip()
    missing = tuple(key for key in KEY_FIELDS if key not in OPTIONAL and not values[key])
    if missing:
        raise KeysRefused("missing", field=missing[0], detail=missing)
    born = parse_birth_date(values["birth_date"], wareki=wareki)
    if born is None:
        raise KeysRefused("birth_date_format", field="birth_date")
    return InsuranceKeys(values["insurer_number"], values["symbol"], values["number"], values["branch"], born)
