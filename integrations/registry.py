"""Which implementation stands behind each external system, by the name `Settings` gives it.

`create_app` chooses once, from `OQS_BACKEND` and `CARD_AUTHORITY`, and keeps the choice on the
app; views reach it through `web.context.oqs_for` and `card_authority_for`. Another implementation
(a remote OQS, say) registers its factory here under its own name, before the app is created.
This is the one place outside integrations/oqs/simulator/ that names the simulator.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from integrations.card.interface import CardAuthority
from integrations.card.local_authority import LocalCardAuthority
from integrations.oqs.interface import OQS, InstitutionNames
from integrations.card import models as card_models
from integrations.oqs.simulator import cli as simulator_cli
from integrations.oqs.simulator import models as simulator_models
from integrations.oqs.simulator.oqs import SimulatedOQS

# A factory binds an implementation to a database session (and the service's institution names);
# it never commits (the caller does).
OQSFactory = Callable[[Session, InstitutionNames], OQS]
CardAuthorityFactory = Callable[[Session], CardAuthority]
# The service's own lookup of institution names, on a session (consent.institutions.names_by_code).
NamesOnSession = Callable[[Session, Collection[str]], dict[str, str]]

OQS_BACKENDS: dict[str, OQSFactory] = {"simulator": SimulatedOQS}
CARD_AUTHORITIES: dict[str, CardAuthorityFactory] = {"embedded": LocalCardAuthority}
# `flask ...` command groups the implementations bring (the simulator's `flask oqs`); each is
# called with the app.
COMMANDS: list[Callable[[Any], None]] = [simulator_cli.register]
# Modules whose tables the embedded implementations keep in the app's database (ops/schema.py).
MODEL_MODULES = (simulator_models, card_models)


def register_oqs(name: str, factory: OQSFactory) -> None:
    """Make `OQS_BACKEND=name` choose `factory`."""
    OQS_BACKENDS[name] = factory


def register_card_authority(name: str, factory: CardAuthorityFactory) -> None:
    """Make `CARD_AUTHORITY=name` choose `factory`."""
    CARD_AUTHORITIES[name] = factory


def _no_names(session: Session, institution_codes: Collection[str]) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Integrations:
    """The implementations one app uses."""

    oqs_factory: OQSFactory
    card_authority: CardAuthorityFactory
    institution_names: NamesOnSession = _no_names

    def oqs(self, session: Session) -> OQS:
        """The chosen OQS reading through `session`, told the institution names through it too."""
        return self.oqs_factory(session, self.names_on(session))

    def names_on(self, session: Session) -> InstitutionNames:
        """The service's institution names, read through `session`."""
        return partial(self.institution_names, session)


def choose(*, oqs_backend: str, card_authority: str, institution_names: NamesOnSession = _no_names) -> Integrations:
    """The factories registered under these names; LookupError names the one nobody registered."""
    if oqs_backend not in OQS_BACKENDS:
        raise LookupError(f"no OQS implementation is registered as {oqs_backend!r}")
    if card_authority not in CARD_AUTHORITIES:
        raise LookupError(f"no card authority is registered as {card_authority!r}")
    return Integrations(oqs_factory=OQS_BACKENDS[oqs_backend], card_authority=CARD_AUTHORITIES[card_authority],
                        institution_names=institution_names)
