"""The card authority (think J-LIS) and the WebAuthn bridge to the card.

A My Number Card is modelled as a discoverable WebAuthn credential on an NFC authenticator whose
PIN is the user verification. `make_card_authority(session)` gives the embedded authority; the
app uses the one CARD_AUTHORITY names (`integrations/registry.py`, `web.context.card_authority_for`).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from integrations.card.interface import CARD_STATUSES, Card, CardAuthority, IssuedCard
from integrations.card.local_authority import LocalCardAuthority


def make_card_authority(session: Session) -> CardAuthority:
    return LocalCardAuthority(session)


__all__ = ["CARD_STATUSES", "Card", "CardAuthority", "IssuedCard", "make_card_authority"]
