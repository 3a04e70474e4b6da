"""The OQS integration's errors (DomainError codes; web/error_messages.py words them).

InvalidInput, a malformed argument, lives beside the input checks in inputs.py.
"""
from __future__ import annotations

from consent.errors import DomainError


class OQSError(DomainError):
    """Base of the OQS integration's errors."""

    domain = "oqs"


class PersonNotFound(OQSError, LookupError):
    """A write named a person OQS does not know."""

    codes = frozenset({"person_not_found"})

    def __init__(self, person_id: str) -> None:
        super().__init__("person_not_found", detail=person_id)
