"""The online qualification system (オンライン資格確認等システム): the contract the service uses.

    from web.context import oqs_for
    oqs = oqs_for(session)            # in a view: the implementation OQS_BACKEND names
    oqs.qualification(person_id, institution_code="1341234563", care_setting=3, today=today)

This package is the contract alone: `interface.py` (the methods), `results.py` (what they
return), `errors.py`, `codes.py` (the real interface's code tables), `inputs.py` (key and month
checks) and `numbering.py` (check digits). `web/` and `ops/` import nothing else of the OQS.
The embedded implementation is `integrations/oqs/simulator/` (`make_oqs(session)` there, for
scripts and tests); `integrations/registry.py` maps OQS_BACKEND names to implementations.
"""
from __future__ import annotations

from integrations.oqs.errors import OQSError, PersonNotFound
from integrations.oqs.inputs import InvalidInput
from integrations.oqs.interface import OQS, InstitutionNames
from integrations.oqs.results import (
    BatchResult,
    CheckupRecord,
    CheckupValue,
    ClinicalInfo,
    DrugRecord,
    EntrustedTicket,
    LimitInfo,
    MedicalTicket,
    PersonIdentity,
    PersonRecord,
    Qualification,
    SpecificDiseaseCertificate,
    SurgeryInfo,
)

__all__ = [
    "OQS", "OQSError", "InstitutionNames", "InvalidInput", "PersonNotFound", "BatchResult", "CheckupRecord",
    "CheckupValue", "ClinicalInfo", "DrugRecord", "EntrustedTicket", "LimitInfo", "MedicalTicket", "PersonIdentity",
    "PersonRecord", "Qualification", "SpecificDiseaseCertificate", "SurgeryInfo",
]
