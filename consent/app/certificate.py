"""「資格確認書で確認」: the qualification from a 資格確認書's numbers, recorded, and no data granted.

Since the December 2024 reform, someone whose My Number Card cannot be used as a health insurance
card shows a 資格確認書 (docs/domain.md). Staff type its 保険者番号・記号・番号・枝番 and the
生年月日; the OQS answers the qualification as it answers a 再照会 (照会区分 2: not found, a wrong
birth date alike; expired; several people without the 枝番), and a match is recorded as a consent
with `source` "certificate" and no categories (consent.grants.register_certificate), which
consent.decision refuses every data read (`certificate_only`). One function for the tablet's
reception pages and the console's 「訪問患者」 alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import grants, searches
from consent.actors import Actor
from consent.app.ports import Metrics, RateLimits
from consent.app.revocation import recorded_by
from consent.errors import ConsentError
from consent.insurance_keys import InsuranceKeys
from consent.models import Consent
from consent.vocabulary import NO_QUALIFICATION, SEVERAL_MATCH, SOURCE_CERTIFICATE

# Per staff member and minute, as the 再照会 (each confirmation names a person by insurance keys).
CONFIRMATIONS_PER_MINUTE = 60
# How a search by a 資格確認書's keys is named in the audit (consent/searches.py `by`).
SEARCH_BY = SOURCE_CERTIFICATE


def count_confirmation(limits: RateLimits, actor: Actor) -> None:
    """One confirmation against the staff member's limit (before the session is touched)."""
    limits.hit([("certificate", f"{actor.kind}:{actor.id}", CONFIRMATIONS_PER_MINUTE)])


@dataclass(frozen=True)
class CertificateConfirmation:
    """What a confirmation found: the qualification and the consent recording it (both None when
    nobody matched; `several` when the keys matched more than one person, e.g. no 枝番)."""

    qualification: Any
    consent: Consent | None
    several: bool = False

    @property
    def found(self) -> bool:
        return self.consent is not None


def confirm(session: Session, oqs: Any, *, actor: Actor, institution_code: str, care_setting: int,
            house_call: bool, keys: InsuranceKeys, today: date, now: datetime,
            metrics: Metrics) -> CertificateConfirmation:
    """資格確認書で確認: ask the OQS, record a match (validity as answered, 無効 included: the
    institution's record of what it confirmed), committed once.

    `oqs`: the OQS contract (integrations/oqs/interface.py); malformed keys are its InvalidInput,
    raised before anything is written. Nobody matching, or several, is audited as a search
    (consent/searches.py) and committed. ConsentError (card_consent_exists: the card already gave
    today's consent here): nothing written.
    """
    qualification = oqs.reinquiry(insurer_number=keys.insurer_number, symbol=keys.symbol or None,
                                  number=keys.number, branch=keys.branch or None, birth_date=keys.birth_date,
                                  institution_code=institution_code, today=today, care_setting=care_setting)
    if qualification.validity_code in (NO_QUALIFICATION, SEVERAL_MATCH) or not qualification.person_id:
        several = qualification.validity_code == SEVERAL_MATCH
        searches.record_search(session, actor=actor, by=SEARCH_BY, now=now,
                               outcome=searches.SEVERAL if several else searches.NOT_FOUND)
        session.commit()
        metrics.read_decided(False, "not_found")
        return CertificateConfirmation(None, None, several=several)
    try:
        consent = grants.register_certificate(
            session, institution_id=actor.institution_id, person_id=qualification.person_id,
            care_setting=care_setting, house_call=house_call, consultation_date=today, now=now,
            validity_code=qualification.validity_code, by=recorded_by(actor))
    except ConsentError:
        session.rollback()
        raise
    session.commit()
    metrics.consent_event("registered")
    return CertificateConfirmation(qualification, consent)
