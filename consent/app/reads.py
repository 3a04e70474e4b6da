"""Data reads: decide each category now (audited), commit once, report, then load what is allowed.

The one category -> loader table (`LOADERS`) serves the console's patient page, the API's data
reads and the disaster read alike. A new data category adds its row here (and its words in
consent/vocabulary.py, its section template in the console).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import disasters
from consent.actors import Actor
from consent.app.ports import Metrics
from consent.decision import Decision, decide
from consent.medication import drug_records
from consent.models import ConsentView
from consent.vocabulary import OUTPATIENT, QUALIFICATION
from consent.window import jst_date


def decide_reads(
    session: Session,
    *,
    actor: Actor,
    institution_id: int,
    categories: Sequence[str],
    now: datetime,
    metrics: Metrics,
    person_id: str | None = None,
    consent_id: str | None = None,
    scopes: Collection[str] | None = None,
    disaster: disasters.DisasterBasis | None = None,
) -> list[Decision]:
    """One decision per category (consent.decision.decide), each audited, committed together.

    Refusals are committed too: the attempt is the record. Committed before any data is loaded, so
    the write lock is not held while the OQS answers.
    """
    decisions = [decide(session, institution_id=institution_id, actor=actor, person_id=person_id,
                        category=category, now=now, consent_id=consent_id, scopes=scopes, disaster=disaster)
                 for category in categories]
    session.commit()
    for decision in decisions:
        metrics.read_decided(decision.allowed, decision.reason)
    return decisions


@dataclass(frozen=True)
class Subject:
    """Whose data is loaded, and as of when."""

    person_id: str
    institution_code: str
    today: date
    # The qualification as the reading rests on it: under a consent, as confirmed at reception
    # (the institution's billing record) in the consent's care setting; else today's, 外来.
    qualification_day: date | None = None
    care_setting: int = OUTPATIENT
    # 診療年月 (YYYYMM) bounds of the drug history, checked by the OQS.
    drug_from: str | None = None
    drug_to: str | None = None

    @classmethod
    def of_consent(cls, consent: ConsentView, *, institution_code: str, today: date,
                   drug_from: str | None = None, drug_to: str | None = None) -> "Subject":
        return cls(consent.person_id, institution_code, today, qualification_day=jst_date(confirmed_at(consent)),
                   care_setting=consent.care_setting, drug_from=drug_from, drug_to=drug_to)


def confirmed_at(consent: ConsentView) -> datetime:
    """When the qualification a consent rests on was confirmed (older consents: when given)."""
    return consent.qualification_confirmed_at or consent.consented_at


# `oqs`: the OQS contract (integrations/oqs/interface.py), duck-typed: consent/ does not import
# integrations/. Each loader returns the contract's result objects; each audience shapes them.
Loader = Callable[[Any, Subject], Any]

LOADERS: dict[str, Loader] = {
    QUALIFICATION: lambda oqs, s: oqs.qualification(
        s.person_id, institution_code=s.institution_code, care_setting=s.care_setting,
        today=s.qualification_day or s.today),
    "limit": lambda oqs, s: oqs.limit(s.person_id, today=s.today),
    # Claims and e-prescription data in one list, newest first, each naming its `source`.
    "drug": lambda oqs, s: drug_records(oqs, s.person_id, s.today, s.drug_from, s.drug_to),
    "checkup": lambda oqs, s: oqs.checkups(s.person_id, today=s.today),
    "clinical": lambda oqs, s: oqs.clinical(s.person_id, today=s.today),
    "surgery": lambda oqs, s: oqs.surgery(s.person_id, today=s.today),
    "specific_disease": lambda oqs, s: oqs.specific_disease(s.person_id, today=s.today),
}


def load(category: str, oqs: Any, subject: Subject) -> Any:
    """The category's data for `subject` (call only after an allowing decision)."""
    return LOADERS[category](oqs, subject)
