"""The patient's reception (phone, tablet, qualification-only): what may be asked, registering a
consent after the card read, changing its categories. Revoking is consent/app/revocation.py.

Whether a reception opens a home-visit relationship (訪問診療等's first visit: no window) or a
windowed consent is decided here once, for the form's check and the registration alike.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import grants, home_visits, searches
from consent.actors import Actor
from consent.app.ports import Metrics
from consent.errors import ConsentError
from consent.models import Consent
from consent.vocabulary import VERIFICATION_PHOTO, VERIFICATION_PIN


def check_request(*, care_setting: int, house_call: bool, qualification_only: bool, categories: Sequence[str],
                  consultation_date: date, now: datetime, max_days_ahead: int) -> tuple[str, ...]:
    """The categories as they will be registered, or ConsentError saying what is wrong."""
    if home_visits.is_first_visit(care_setting, house_call):
        # A home visit's first visit: a relationship, no window (the date is today).
        return tuple(home_visits.check_first_visit(categories=categories, qualification_only=qualification_only))
    return tuple(grants.check_request(care_setting=care_setting, house_call=house_call, categories=categories,
                                      consultation_date=consultation_date, now=now, max_days_ahead=max_days_ahead))


@dataclass(frozen=True)
class Registered:
    consent: Consent
    qualification: Any  # the OQS's answer, as confirmed now


def register(session: Session, oqs: Any, *, institution_id: int, institution_code: str, care_setting: int,
             house_call: bool, person_id: str, card_id: str, categories: Sequence[str], consultation_date: date,
             today: date, now: datetime, max_days_ahead: int, metrics: Metrics,
             with_it: Callable[[Consent], None] | None = None, verification: str = VERIFICATION_PIN,
             verified_by: str | None = None) -> Registered:
    """After the card read: confirm the qualification through the OQS and register the consent (a
    home visit's first visit opens or renews the relationship; a 資格確認限定型 confirmation has no
    categories), committed once. `with_it` writes what must stand or fall with the consent (the
    phone's "registered" marker) in the same transaction. ConsentError: nothing written.

    `oqs`: the OQS contract (integrations/oqs/interface.py). `verification`: "pin" (the card's PIN),
    or "photo" with `verified_by` (register_photo_checked).
    """
    # Before the OQS is asked: a photo check where none may be done writes and asks nothing.
    grants.check_verification(care_setting, verification, verified_by)
    qualification = oqs.qualification(person_id, institution_code=institution_code, care_setting=care_setting,
                                      today=today)
    try:
        if home_visits.is_first_visit(care_setting, house_call):
            consent = home_visits.register_first_visit(
                session, institution_id=institution_id, person_id=person_id, card_id=card_id,
                categories=categories, now=now, validity_code=qualification.validity_code,
                verification=verification, verified_by=verified_by)
        else:
            consent = grants.register_consent(
                session, institution_id=institution_id, person_id=person_id, card_id=card_id,
                care_setting=care_setting, house_call=house_call, categories=categories,
                consultation_date=consultation_date, now=now, validity_code=qualification.validity_code,
                max_days_ahead=max_days_ahead, verification=verification, verified_by=verified_by)
    except ConsentError:
        session.rollback()
        raise
    if with_it is not None:
        with_it(consent)
    session.commit()
    metrics.consent_event("registered")
    return Registered(consent, qualification)


# The photo check reads one of the cards of the people born on the day printed on the card; beyond
# this many (never in the sandbox) it is refused: the PIN read is the way then.
PHOTO_CHECK_MAX_CARDS = 20


def photo_check_cards(session: Session, oqs: Any, authority: Any, *, actor: Actor, birth_date: date,
                      now: datetime) -> tuple[bytes, ...]:
    """The cards the photo check (目視確認) may read: those of the people born on `birth_date` (read
    off the card by the staff member). A card read without the PIN finds no card by itself, so the
    read names them. Audited like a search (who, when, the outcome - never the date) and committed.
    ConsentError photo_card_not_found (nobody) or photo_too_many_cards.

    `oqs`: the OQS contract; `authority`: the card authority (integrations/card/interface.py)."""
    people = oqs.people_born_on(birth_date, limit=PHOTO_CHECK_MAX_CARDS + 1)
    cards = tuple(authority.credential_ids_of(people)) if people else ()
    outcome = (searches.NOT_FOUND if not cards else
               searches.SEVERAL if len(people) > PHOTO_CHECK_MAX_CARDS or len(cards) > PHOTO_CHECK_MAX_CARDS
               else searches.FOUND)
    searches.record_search(session, actor=actor, by="birth_date", outcome=outcome, now=now,
                           person_id=people[0] if outcome == searches.FOUND and len(people) == 1 else None,
                           basis={"purpose": "photo_check"})
    session.commit()
    if outcome == searches.NOT_FOUND:
        raise ConsentError("photo_card_not_found")
    if outcome == searches.SEVERAL:
        raise ConsentError("photo_too_many_cards")
    return cards


def register_photo_checked(session: Session, oqs: Any, *, staff_id: int, confirmed: bool, **registration: Any
                           ) -> Registered:
    """The photo check (目視確認) on the institution's tablet: the card was read without its PIN and
    the staff member `staff_id` compared its face photo with the patient. Registered (as register()
    does, recording "photo" and the staff member) only once they confirmed
    「本人であることを確認しました」: ConsentError photo_not_confirmed otherwise, nothing written."""
    if not confirmed:
        raise ConsentError("photo_not_confirmed")
    return register(session, oqs, verification=VERIFICATION_PHOTO, verified_by=f"staff:{staff_id}", **registration)


def change_categories(session: Session, *, institution_id: int, consent_id: str, person_id: str,
                      categories: Sequence[str], now: datetime, metrics: Metrics) -> None:
    """同意照会・更新: the patient changes the categories of one of their consents (after a card
    read). ConsentError: nothing written."""
    try:
        grants.change_categories(session, institution_id=institution_id, consent_id=consent_id,
                                 person_id=person_id, categories=categories, now=now)
    except ConsentError:
        session.rollback()
        raise
    session.commit()
    metrics.consent_event("updated")
