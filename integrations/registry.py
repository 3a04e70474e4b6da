"""Which implementation stands behind each external system, by the name `Settings` gives it.

`create_app` chooses once, from `OQS_BACKEND` and `CARD_AUTHORITY`, and keeps the choice on the
app; views reach it through `web.context.oqs_for` and `card_authority_for`. Another implementation
(a remote OQS, say) registers its factory here under its own name, before the app is created.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from integrations.card.interface import CardAuthority
from integrations.card.local_authority import LocalCardAuthority
from integrations.oqs.interface import OQS
from integrations.oqs.simulator.oqs import SimulatedOQS

# A factory binds an implementation to a database session; it never commits (the caller does).
OQSFactory = Callable[[Session], OQS]
CardAuthorityFactory = Callable[[Session], CardAuthority]

OQS_BACKENDS: dict[str, OQSFactory] = {"simulator": SimulatedOQS}
CARD_AUTHORITIES: dict[str, CardAuthorityFactory] = {"embedded": LocalCardAuthority}


def register_oqs(name: str, factory: OQSFactory) -> None:
    """Make `OQS_BACKEND=name` choose `factory`."""
    OQS_BACKENDS[name] = factory


def register_card_authority(name: str, factory: CardAuthorityFactory) -> None:
    """Make `CARD_AUTHORITY=name` choose `factory`."""
    CARD_AUTHORITIES[name] = factory


@dataclass(frozen=True)
class Integrations:
    """The implementations one app uses."""

    oqs: OQSFactory
    card_authority: CardAuthorityFactory


def choose(*, oqs_backend: str, card_authority: str) -> Integrations:
    """The factories registered under these names; LookupError names the one nobody registered."""
    if oqs_backend not in OQS_BACKENDS:
        raise LookupError(f"no OQS implementation is registered as {oqs_backend!r}")
    if card_authority not in CARD_AUTHORITIES:
        raise LookupError(f"no card authority is registered as {card_authority!r}")
    return Integrations(oqs=OQS_BACKENDS[oqs_backend], card_authority=CARD_AUTHORITIES[card_authority])
