"""災害時閲覧 (災害時特別措置): finding a person without their card. The reads themselves are
consent/app/reads.py's, with the disaster as their basis."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import searches
from consent.actors import Actor
from consent.app.ports import RateLimits
from consent.errors import DomainError
from consent.insurance_keys import InsuranceKeys
from consent.vocabulary import NO_QUALIFICATION, OUTPATIENT, SEVERAL_MATCH

# Finding people without their card is not a directory to browse: a few searches a minute per
# staff member, and per institution beside it (a new staff account is no fresh budget).
SEARCHES_PER_MINUTE = 20
INSTITUTION_SEARCHES_PER_MINUTE = 60


@dataclass(frozen=True)
class ByName:
    """カナ氏名 + 生年月日 + 住所 or 郵便番号."""

    kana: str
    birth_date: date
    postcode: str | None
    address: str | None


@dataclass(frozen=True)
class Search:
    """The outcome (consent/searches.py: found, not_found, several, incomplete), the person when
    exactly one matched, and the OQS's refusal of malformed keys, if that was the outcome."""

    outcome: str
    person_id: str | None = None
    refused: DomainError | None = None


def count_search(limits: RateLimits, actor: Actor) -> None:
    """One search against both limits (before the request's transaction)."""
    limits.hit([("disaster_search", str(actor.id), SEARCHES_PER_MINUTE),
                ("disaster_search_institution", str(actor.institution_id), INSTITUTION_SEARCHES_PER_MINUTE)])


def search_person(session: Session, oqs: Any, *, actor: Actor, disaster_id: int, by: str,
                  criteria: InsuranceKeys | ByName | None, institution_code: str, today: date,
                  now: datetime) -> Search:
    """Find exactly one person, or say why not; audited like a read (who, when, under which
    disaster, by which kind of criteria and the outcome - never the criteria) and committed.

    `by`: "insurance" or "name", the form used. `criteria` None: what was entered is incomplete
    (audited as such). `oqs`: the OQS contract
    (integrations/oqs/interface.py).
    """
    found = _find(oqs, criteria, institution_code, today)
    searches.record_search(session, actor=actor, by=by, outcome=found.outcome, person_id=found.person_id, now=now,
                           basis={"disaster_id": disaster_id})
    session.commit()
    return found


def _find(oqs: Any, criteria: InsuranceKeys | ByName | None, institution_code: str, today: date) -> Search:
    if criteria is None:
        return Search(searches.INCOMPLETE)
    if isinstance(criteria, ByName):
        people = oqs.find_people(kana=criteria.kana, birth_date=criteria.birth_date, postcode=criteria.postcode,
                                 address=criteria.address, limit=2)
        if len(people) > 1:
            return Search(searches.SEVERAL)
        return Search(searches.FOUND, people[0]) if people else Search(searches.NOT_FOUND)
    try:
        # The birth date is required, as for the name search: numbers stepped one by one identify nobody.
        answer = oqs.reinquiry(insurer_number=criteria.insurer_number, symbol=criteria.symbol or None,
                               number=criteria.number, branch=criteria.branch or None, birth_date=criteria.birth_date,
                               institution_code=institution_code, today=today, care_setting=OUTPATIENT)
    except DomainError as exc:  # the OQS's InvalidInput: a wrong check digit, a malformed number
        return Search(searches.INCOMPLETE, refused=exc)
    if answer.validity_code == SEVERAL_MATCH:
        return Search(searches.SEVERAL)
    if answer.validity_code == NO_QUALIFICATION or not answer.person_id:
        return Search(searches.NOT_FOUND)
    return Search(searches.FOUND, answer.person_id)
