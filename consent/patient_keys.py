"""`patient_id`: how a pharmacy system names a patient without learning who they are.

One definition for the API's consent objects and every event (GET /api/v1/events, webhooks):
stable per institution, different between institutions, never the internal person id (the OQS
simulator's, which another institution's data also carries).

Why a table rather than a keyed derivation (HMAC of institution and person): a patient_id is a
key the institution's systems store forever, so it must survive the rotation of every secret of
this service; a random value kept in a row does, and reveals nothing even to someone holding
the keys. The row is written once, in the transaction of the patient's first consent at the
institution (consent.events calls `patient_id_for`), so reads only look it up.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import Connection, ForeignKey, String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base
from store.prepared import Prepared

PREFIX = "pat_"


class PatientKey(Base):
    """The patient_id of one person at one institution."""

    __tablename__ = "patient_keys"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "pat_" and 22 URL-safe characters (128 random bits): unique across every institution.
    patient_id: Mapped[str] = mapped_column(String(32), unique=True)


_keys = PatientKey.__table__


def new_patient_id() -> str:
    return PREFIX + secrets.token_urlsafe(16)


def patient_id_for(session: Session | Connection, institution_id: int, person_id: str) -> str:
    """The person's patient_id at the institution, made on first use (in the caller's writing
    transaction). Two first uses racing agree: the loser's insert does nothing and both read the
    winner's row."""
    conn = session.connection() if isinstance(session, Session) else session
    found = _lookup(conn, institution_id, person_id)
    if found is not None:
        return found
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(_keys)
        .values(institution_id=institution_id, person_id=person_id, patient_id=new_patient_id())
        .on_conflict_do_nothing(index_elements=["institution_id", "person_id"])
    )
    return _lookup(conn, institution_id, person_id)


def existing_patient_id(session: Session | Connection, institution_id: int, person_id: str) -> str | None:
    """The person's patient_id at the institution, or None when none was made (a read: one
    prepared lookup, as every data read asks it)."""
    conn = session.connection() if isinstance(session, Session) else session
    return _lookup(conn, institution_id, person_id)


def patient_ids_for(session: Session | Connection, institution_id: int, person_ids: Iterable[str]) -> dict[str, str]:
    """person_id -> patient_id for those that have one (a read: one query for a whole list)."""
    conn = session.connection() if isinstance(session, Session) else session
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(_keys.c.person_id, _keys.c.patient_id)
        .where(_keys.c.institution_id == institution_id, _keys.c.person_id.in_(wanted))
    )
    return dict(rows.all())


# Prepared (store/prepared.py): data reads and event writes ask it for one person at a time.
_ONE = Prepared(select(_keys.c.patient_id).where(
    _keys.c.institution_id == bindparam("institution_id"), _keys.c.person_id == bindparam("person_id")))


def _lookup(conn: Connection, institution_id: int, person_id: str) -> str | None:
    rows = _ONE.execute(conn, {"institution_id": institution_id, "person_id": person_id})
    return rows[0][0] if rows else None
