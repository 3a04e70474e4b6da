"""Domain errors: one base with a stable code. People's words live in web/error_messages.py.

Every error the domain (consent/, integrations/) raises is a DomainError: `code` is stable (programs
and the web layer match on it), `field` names the input at fault when there is one, `detail`
carries values the message may quote (a number, a scope, an id) - never text for people. Errors
are raised, never returned. A read refused by consent.decision is not an error but a Decision.
"""
from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every domain error. Subclasses name their `domain` and declare their `codes`."""

    # Which table of web/error_messages.py answers it; codes are unique within a domain.
    domain: ClassVar[str] = "domain"
    # Every code this error may carry: raising another is a programming error (caught at once).
    codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, code: str, *, field: str | None = None, detail: Any = None) -> None:
        if code not in type(self).codes:
            raise ValueError(f"{type(self).__name__} has no code {code!r}")
        text = code if field is None else f"{code} ({field})"
        super().__init__(f"{text}: {detail}" if isinstance(detail, (str, int)) else text)
        self.code = code
        self.field = field
        self.detail = detail


class ConsentError(DomainError):
    """A consent request that cannot be honoured."""

    domain = "consent"
    codes = frozenset({
        "invalid_care_setting", "care_setting_unsupported", "date_in_past", "date_too_far", "no_categories",
        "unknown_category", "consent_revoked", "consent_expired", "not_found", "invalid_reason", "already_revoked",
        # home visits (consent/home_visits.py)
        "not_a_relationship", "visit_in_future", "visit_before_first_visit", "relationship_ended",
        "invalid_lapse_days",
        # Data categories asked of a 資格確認限定型 institution (it confirms the qualification only).
        "qualification_only",
        # A 資格確認限定型 confirmation has nothing consented to end (the console's 「同意の取消」).
        "confirmation_only",
        # A role (or a system job) that may not take the action (consent/permissions.py).
        "not_permitted",
        # A 資格確認書 confirmation on a day the card already gave a consent (consent.grants.register_certificate).
        "card_consent_exists",
        # 同意照会・更新 of a 資格確認書 confirmation (the institution's record, not the patient's consent).
        "certificate_record",
        # The photo check (目視確認): only on the tablet for 訪問診療等 and 往診, and only once a
        # staff member confirmed 「本人であることを確認しました」.
        "photo_check_unavailable", "photo_not_confirmed", "photo_card_not_found", "photo_too_many_cards",
    })


class ConsentNotFound(ConsentError):
    """No such consent at this institution (another institution's counts as none)."""

    def __init__(self) -> None:
        super().__init__("not_found")
