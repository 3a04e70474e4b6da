"""Batch reads: 委託先資格情報の一括取得 (the month's 医療券・調剤券), for the console and the API alike."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import ticket_reads
from consent.actors import Actor
from consent.decision import QUALIFICATION_ONLY
from consent.errors import DomainError


def fetch_entrusted_tickets(session: Session, reader: Session, oqs: Any, *, actor: Actor, institution_code: str, month: str,
                            today: date, now: datetime) -> list[Any] | None:
    """The month's tickets naming this institution, the fetch audited and committed before they
    leave (consent/ticket_reads.py); None, audited as refused, at a 資格確認限定型 institution (names,
    birth dates and 傷病名 are beyond the qualification it reads).

    `reader`: a read-only session for the institution's mode, so the writing `session` (on SQLite
    it holds the write lock from its first statement) is not opened while the OQS answers.
    `oqs`: the OQS contract (integrations/oqs/interface.py); a future month is its InvalidInput.
    """
    if ticket_reads.refusal(reader, actor.institution_id) is not None:
        ticket_reads.record_fetch(session, actor=actor, month=month, person_ids=(), now=now,
                                  reason=QUALIFICATION_ONLY)
        session.commit()
        return None
    found = oqs.entrusted_tickets(institution_code=institution_code, month=month, today=today)
    ticket_reads.record_fetch(session, actor=actor, month=month, person_ids=[t.person_id for t in found], now=now)
    session.commit()
    return found


def inquire(oqs: Any, rows: list[Any], *, institution_code: str, today: date) -> list[Any]:
    """一括照会: each row answered 有効 / 無効 / エラー by the OQS; one bad row never stops the rest.
    Reads only: nothing to commit. The console's CSV upload and the API send the same rows."""
    return oqs.batch_inquiry(rows, institution_code=institution_code, today=today)


def register_reference_number(session: Session, oqs: Any, *, institution_code: str, person_id: str,
                              reference_number: str) -> None:
    """The institution's 照会番号 for a person (echoed by later batch answers). `oqs` writes through
    `session`; a malformed number is its InvalidInput, raised with nothing written."""
    try:
        oqs.register_reference_number(institution_code=institution_code, person_id=person_id,
                                      reference_number=reference_number)
    except DomainError:
        session.rollback()
        raise
    session.commit()
