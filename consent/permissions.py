"""What each role may do beyond reading, the same on every path (console, API, tablet).

Reads are judged by consent.decision; this module holds the other rules a role carries, so the
API refuses a token exactly what the console refuses its staff member, and
such a refusal is audited like a refused read.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consent import audit
from consent.actors import Actor
from consent.errors import ConsentError
from consent.institutions import LICENSED_ROLES
from consent.vocabulary import CLINICAL_SCOPES, SCOPES

# Who may end a consent for the institution (取消 reason 1 or 3, 訪問終了): the console's rule.
REVOKING_ROLES = frozenset({"admin", "pharmacist"})
NOT_PERMITTED = "not_permitted"


def may_end_consents(actor: Actor) -> bool:
    """A staff member of a revoking role; never a system job (no person behind it)."""
    return actor.kind == "staff" and actor.role in REVOKING_ROLES


def usable_scopes(role: str) -> tuple[str, ...]:
    """The OAuth scopes a staff member of `role` can use (in SCOPES order): the clinical ones only
    for a licensed role. Authorization grants no more, whatever the client asks for."""
    return tuple(s for s in SCOPES if role in LICENSED_ROLES or s not in CLINICAL_SCOPES)


def narrow_scope(scope: str, role: str) -> tuple[str, list[str]]:
    """(the scope string to grant, the requested scopes left out) for a staff member of `role`."""
    requested = scope.split()
    usable = usable_scopes(role)
    return " ".join(s for s in usable if s in requested), [s for s in SCOPES if s in requested and s not in usable]


def refuse(session: Session, *, actor: Actor, action: str, now: datetime, consent_id: str | None = None) -> None:
    """Audit the refusal and commit it (a refusal is kept, like a refused read), then raise
    ConsentError("not_permitted"). Call it at the start of the request's transaction."""
    detail = {"action": action, **({"client_id": actor.client_id} if actor.client_id else {})}
    audit.append_entry(session, institution_id=actor.institution_id, event="action_refused", now=now,
                       actor_kind=actor.kind, actor_id=actor.id, actor_role=actor.role, consent_id=consent_id,
                       reason=NOT_PERMITTED, detail=detail)
    session.commit()
    raise ConsentError(NOT_PERMITTED)
