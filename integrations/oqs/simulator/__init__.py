"""The embedded OQS simulator: one implementation of the contract (integrations/oqs/interface.py)
over a synthetic population, its histories derived on read from each person's seed.

`oqs.py` answers the interface (`SimulatedOQS`), `generator.py` plans and stores the population,
`demo.py` the demo people; the rest derives histories (drugs, e-prescriptions, checkups, clinical
data, benefits, medical-aid tickets) from a person's facts. The app reaches it only through
`integrations/registry.py`; scripts and tests use the functions below.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from integrations.oqs.interface import InstitutionNames
from integrations.oqs.results import PersonRecord
from integrations.oqs.simulator.generator import generate_population
from integrations.oqs.simulator.oqs import SimulatedOQS, no_institution_names


def make_oqs(session: Session, institution_names: InstitutionNames = no_institution_names) -> SimulatedOQS:
    """The simulator bound to `session` (it never commits); the app's choice is in the registry."""
    return SimulatedOQS(session, institution_names)


def load_demo_population(session: Session, *, today: date, institution_codes: list[str]) -> list[PersonRecord]:
    """The demo people (idempotent; see demo.py)."""
    return SimulatedOQS(session).load_demo_population(today=today, institution_codes=institution_codes)


__all__ = ["SimulatedOQS", "generate_population", "load_demo_population", "make_oqs"]
