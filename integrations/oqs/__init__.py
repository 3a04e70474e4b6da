"""The online qualification system (オンライン資格確認等システム) behind an interface.

    from web.context import oqs_for
    oqs = oqs_for(session)            # in a view: the implementation OQS_BACKEND names
    oqs.qualification(person_id, institution_code="1341234563", care_setting=3, today=today)

`make_oqs(session)` is the embedded simulator itself (scripts, tests); `integrations/registry.py`
maps OQS_BACKEND names to implementations.

See `interface.py` for the methods, `results.py` for what they return, `generator.py` for the
synthetic population and `demo.py` for the demo people.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from integrations.oqs.errors import OQSError, PersonNotFound
from integrations.oqs.inputs import InvalidInput
from integrations.oqs.interface import OQS
from integrations.oqs.results import (
    BatchResult,
    CheckupRecord,
    CheckupValue,
    DrugRecord,
    EntrustedTicket,
    LimitInfo,
    MedicalTicket,
    PersonIdentity,
    PersonRecord,
    Qualification,
    SpecificDiseaseCertificate,
)


def make_oqs(session: Session) -> OQS:
    """The embedded simulator bound to `session` (it never commits); the app's choice is in the registry."""
    from integrations.oqs.simulator.oqs import SimulatedOQS

    return SimulatedOQS(session)


def generate_population(session: Session, *, size: int, seed: int, today, entrust_to=None):
    """Add a deterministic synthetic population (see generator.generate_population)."""
    from integrations.oqs.simulator.generator import generate_population as _generate

    return _generate(session, size=size, seed=seed, today=today, entrust_to=entrust_to)


def load_demo_population(session: Session, *, today, institution_codes: list[str]) -> list[PersonRecord]:
    """The demo people (idempotent; see demo.load_demo_population)."""
    from integrations.oqs.simulator.demo import load_demo_population as _load

    return _load(session, today=today, institution_codes=institution_codes)


__all__ = [
    "OQS", "OQSError", "InvalidInput", "PersonNotFound", "make_oqs", "generate_population",
    "load_demo_population", "BatchResult", "CheckupRecord", "CheckupValue", "DrugRecord", "EntrustedTicket",
    "LimitInfo", "MedicalTicket", "PersonIdentity", "PersonRecord", "Qualification", "SpecificDiseaseCertificate",
]
