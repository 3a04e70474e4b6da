"""Home visits (訪問診療等): 再照会 and 訪問を記録, for the console's 「訪問患者」 and the API alike."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import home_visits
from consent.actors import Actor
from consent.app.ports import Metrics, RateLimits
from consent.app.reads import confirmed_at
from consent.app.revocation import recorded_by
from consent.insurance_keys import InsuranceKeys
from consent.models import Consent, Visit
from consent.vocabulary import HOME_VISIT, NO_QUALIFICATION
from consent.window import jst_date


# Per reader and minute, whether in the console or through the API (one budget): each 再照会 names
# a person by insurance keys and birth date.
REINQUIRY_LIMIT = 60


def count_reinquiry(limits: RateLimits, actor: Actor) -> None:
    """One 再照会 against the reader's limit: a staff member (console or token), or a client."""
    limits.hit([("reinquiry", f"{actor.kind}:{actor.id}", REINQUIRY_LIMIT)])


@dataclass(frozen=True)
class Reinquiry:
    """What a 再照会 found: the qualification (None when nobody matched) and this institution's
    home-visit relationship with the person, if any."""

    qualification: Any
    consent: Consent | None

    @property
    def found(self) -> bool:
        return self.qualification is not None


def reinquire(session: Session, oqs: Any, *, actor: Actor, institution_code: str, keys: InsuranceKeys,
              today: date, now: datetime, metrics: Metrics) -> Reinquiry:
    """再照会: the current qualification by insurance keys and birth date, without the card.

    `oqs`: the OQS contract (integrations/oqs/interface.py); malformed keys are its InvalidInput,
    raised before anything is written. Found or not, the read is audited and committed (nobody
    matching, a wrong birth date included, is one refused qualification read).
    """
    qualification = oqs.reinquiry(insurer_number=keys.insurer_number, symbol=keys.symbol, number=keys.number,
                                  branch=keys.branch, birth_date=keys.birth_date, institution_code=institution_code,
                                  today=today, care_setting=HOME_VISIT)
    person_id = qualification.person_id if qualification.validity_code != NO_QUALIFICATION else None
    consent = home_visits.record_reinquiry(session, institution_id=actor.institution_id, actor=actor,
                                           person_id=person_id, now=now)
    session.commit()
    metrics.read_decided(person_id is not None, None if person_id else home_visits.REINQUIRY_NOT_FOUND)
    return Reinquiry(qualification if person_id is not None else None, consent)


def first_visit_keys(oqs: Any, consent: Consent, *, institution_code: str) -> dict[str, str]:
    """The insurance keys and birth date as confirmed at the first visit, for a 再照会 without typing
    (sources.md [000]: 再照会 uses 「初回訪問時に取得した被保険者証番号等」).

    As text in consent.insurance_keys.KEY_FIELDS, for parse_insurance_keys: a key that confirmation
    did not hold is "" (then named as missing, as a form left empty would be).
    """
    q = oqs.qualification(consent.person_id, institution_code=institution_code, care_setting=consent.care_setting,
                          today=jst_date(confirmed_at(consent)))
    return {"insurer_number": q.insurer_number or "", "symbol": q.symbol or "", "number": q.number or "",
            "branch": q.branch or "", "birth_date": q.birth_date.isoformat() if q.birth_date else ""}


def record_visit(session: Session, *, actor: Actor, consent_id: str, visit_date: date,
                 now: datetime) -> tuple[Visit, bool]:
    """訪問を記録: (the visit, whether it is new); a day already recorded stays one visit."""
    recorded = home_visits.record_visit(session, institution_id=actor.institution_id, consent_id=consent_id,
                                        visit_date=visit_date, by=recorded_by(actor), now=now)
    session.commit()
    return recorded
