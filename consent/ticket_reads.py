"""委託先資格情報の一括取得 (the month's 医療券・調剤券 with their qualifications) as the read it is.

The tickets name recipients, their birth dates and 傷病名: a 資格確認限定型 institution, which reads
nothing beyond the qualification, is refused (QUALIFICATION_ONLY), and every fetch is audited like
any read - an allowed fetch with one entry per recipient it named (so each patient's 閲覧の記録
shows it), a refused one with one entry. The entries say the source and the month in `detail`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import audit
from consent.actors import Actor
from consent.decision import QUALIFICATION_ONLY
from consent.institutions import Institution
from consent.vocabulary import QUALIFICATION
from store.engine import begin_write

SOURCE = "entrusted_tickets"


def refusal(session: Session, institution_id: int) -> str | None:
    """Why the institution may not fetch tickets (QUALIFICATION_ONLY), or None."""
    only = session.scalar(select(Institution.qualification_only).where(Institution.id == institution_id))
    return QUALIFICATION_ONLY if only else None


def record_fetch(session: Session, *, actor: Actor, month: str, person_ids: Iterable[str], now: datetime,
                 reason: str | None = None) -> None:
    """Append the fetch to the institution's chain (the caller commits): one read_allowed entry per
    recipient named, or one read_denied entry with `reason`."""
    begin_write(session)
    detail = {"source": SOURCE, "month": month, **({"client_id": actor.client_id} if actor.client_id else {})}
    common = {"institution_id": actor.institution_id, "now": now, "actor_kind": actor.kind, "actor_id": actor.id,
              "actor_role": actor.role, "category": QUALIFICATION, "detail": detail}
    if reason is not None:
        audit.append_entry(session, event="read_denied", reason=reason, **common)
        return
    for person_id in dict.fromkeys(person_ids):  # a recipient with two tickets is one read
        audit.append_entry(session, event="read_allowed", person_id=person_id, **common)
