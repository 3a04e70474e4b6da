"""The stored shape of a synthetic person and of a qualification: the columns of `oqs_person` and
`oqs_qualification` (models.py), declared once.

Plans (planning.py, before anything is stored) and views (views.py, as read back) extend them;
views select exactly these columns, in this order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(slots=True)
class PersonRow:
    id: str
    seed: int
    name: str
    kana: str
    sex: str
    birth_date: date
    postcode: str
    address: str
    city: str
    town: str
    income_rank: int
    income_flag: int
    traits: str
    origin: str
    created_on: date


@dataclass(slots=True)
class QualRow:
    kind: str
    card_classification: str
    insurer_number: str | None
    insurer_name: str
    symbol: str | None
    number: str | None
    branch: str | None
    relationship_code: str | None
    insured_name: str | None
    qualification_date: date
    disqualification_date: date | None
    reason_of_loss: str | None
    public_payer_number: str | None
    recipient_number: str | None
    welfare_office: str | None
