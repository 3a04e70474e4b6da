"""Institutions (医療機関等), their staff accounts, reception URLs and appointments: tables and services."""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from consent.passwords import hash_password
from store.base import Base
from store.types import UTCDateTime


class Institution(Base):
    """A clinic or pharmacy (医療機関等) using the reception service."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Opaque token in the institution's reception URL (医療機関別URL); rotatable.
    reception_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # 資格確認限定型: the card confirms the qualification and nothing else - no data categories
    # are offered and every data read is refused (consent/qualification_only.py switches it).
    qualification_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

class Staff(Base):
    """A console user of one institution. Roles: pharmacist (licensed), clerk, admin."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    login_id: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A one-time password from an operator: the console asks for a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

class RetiredReceptionToken(Base):
    """A reception URL token that was rotated away: its URL answers 410, not 404."""

    __tablename__ = "retired_reception_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime())

class Appointment(Base):
    """A reserved online consultation; its deep link pre-fills the consultation date."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    consultation_date: Mapped[date] = mapped_column(Date)
    # The institution's own note (e.g. a time or its patient id); never shown to patients.
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


ROLES = ("pharmacist", "clerk", "admin")
# Only these roles are 有資格者 (licensed): they alone may view clinical categories.
LICENSED_ROLES = frozenset({"pharmacist"})


def new_reception_token() -> str:
    """An opaque, unguessable token for the institution's reception URL (医療機関別URL)."""
    return secrets.token_urlsafe(18)


def create_institution(session: Session, *, code: str, name: str, now: datetime,
                       qualification_only: bool = False) -> Institution:
    institution = Institution(
        institution_code=code, name=name, reception_token=new_reception_token(), created_at=now,
        qualification_only=qualification_only,
    )
    session.add(institution)
    session.flush()
    return institution


def add_staff(
    session: Session,
    institution: Institution,
    *,
    login_id: str,
    password: str,
    role: str,
    now: datetime,
    display_name: str = "",
    must_change_password: bool = False,
) -> Staff:
    """A staff member; `must_change_password` for a password someone else chose (one-time)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    staff = Staff(
        institution_id=institution.id,
        login_id=login_id,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        created_at=now,
        must_change_password=must_change_password,
    )
    session.add(staff)
    session.flush()
    return staff


def institution_by_code(session: Session, code: str) -> Institution | None:
    return session.scalar(select(Institution).where(Institution.institution_code == code))


def rotate_reception_token(session: Session, institution: Institution, *, now: datetime) -> str:
    """Give the institution a new reception URL; the old one then answers 「使用できません」 (410)."""
    session.add(RetiredReceptionToken(token=institution.reception_token, institution_id=institution.id, retired_at=now))
    institution.reception_token = new_reception_token()
    session.flush()
    return institution.reception_token


def institution_by_reception_token(session: Session, token: str) -> tuple[Institution | None, bool]:
    """The institution of a reception URL token, and whether the token is a retired one."""
    institution = session.scalar(select(Institution).where(Institution.reception_token == token))
    if institution is not None:
        return institution, False
    retired = session.get(RetiredReceptionToken, token)
    return None, retired is not None


def staff_of(session: Session, institution_id: int) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.institution_id == institution_id).order_by(Staff.id)))


def disable_staff(session: Session, *, institution_id: int, staff_id: int, now: datetime) -> Staff | None:
    """Disable a staff member of this institution (None if there is no such member).

    The web layer also ends their sessions; tokens check the account on every use.
    """
    staff = session.scalar(select(Staff).where(Staff.id == staff_id, Staff.institution_id == institution_id))
    if staff is None:
        return None
    if staff.disabled_at is None:
        staff.disabled_at = now
    session.flush()
    return staff


def create_appointment(session: Session, *, institution_id: int, consultation_date: date, memo: str,
                       now: datetime) -> Appointment:
    appointment = Appointment(institution_id=institution_id, consultation_date=consultation_date,
                              memo=memo, created_at=now)
    session.add(appointment)
    session.flush()
    return appointment


def appointments_of(session: Session, institution_id: int, *, since: date) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment).where(Appointment.institution_id == institution_id,
                                  Appointment.consultation_date >= since)
        .order_by(Appointment.consultation_date, Appointment.id)
    ))
