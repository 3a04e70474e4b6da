"""Institutions (医療機関等), their staff accounts, reception URLs and appointments: tables and services."""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, false, or_, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from consent.errors import DomainError
from consent.passwords import hash_password
from consent.vocabulary import (
    DEFAULT_KIND, FUNCTION_HOME_VISIT, FUNCTION_ONLINE, FUNCTIONS, INSTITUTION_KINDS, RECEPTION_ONLINE, RECEPTION_SETTINGS, InstitutionKind,
    ReceptionSetting, kind_of_code,
)
from store.base import Base
from store.types import UTCDateTime

# Days without a recorded visit after which a home-visit relationship lapses, when the
# institution sets any (環境設定; sandbox and CLI: home_visit_lapse_days): the project's own rule,
# off (None) unless set. MIN..MAX when set.
MIN_LAPSE_DAYS = 1
MAX_LAPSE_DAYS = 3650


class Institution(Base):
    """A clinic or pharmacy (医療機関等) using the reception service."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Opaque tokens in the institution's reception URLs (医療機関別URL), one per entry point
    # (vocabulary.RECEPTION_SETTINGS; TOKEN_COLUMNS); each rotatable on its own.
    reception_token: Mapped[str] = mapped_column(String(64), unique=True)  # online (the patient's phone)
    # Nullable in the schema only (migration 0015 adds them in place); create_institution sets them.
    outpatient_token: Mapped[str] = mapped_column(String(64), nullable=True, unique=True, index=True)
    home_visit_token: Mapped[str] = mapped_column(String(64), nullable=True, unique=True, index=True)
    house_call_token: Mapped[str] = mapped_column(String(64), nullable=True, unique=True, index=True)
    # 環境設定: the functions switched on (vocabulary.FUNCTIONS). Online only unless told otherwise.
    function_home_visit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    function_online: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    function_medical_aid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Home visits: a relationship lapses after this many days without a recorded visit (the
    # project's own rule; consent/home_visits.py); None (the default): it never lapses, it lasts
    # until 訪問終了 or the patient's 取消.
    home_visit_lapse_days: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    # 資格確認限定型: the card confirms the qualification and nothing else - no data categories
    # are offered and every data read is refused (consent/qualification_only.py switches it).
    qualification_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Made through the sandbox (POST /sandbox/institutions): only these may be removed by it
    # (DELETE /sandbox/institutions/<code>); the demo's and the operator's may not.
    sandbox_made: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whom the patient asks (issue 36): shown on every patient page and error page when set; ""
    # when not. Changed through set_contact (its checks), never directly.
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    privacy_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # pharmacy, clinic, dental or visiting_nurse (vocabulary.INSTITUTION_KINDS): always the one the
    # code's 点数表番号 names (create_institution; migration 0023 for the rows before it).
    kind: Mapped[str] = mapped_column(String(16), default=DEFAULT_KIND, server_default=DEFAULT_KIND)

    @property
    def kind_info(self) -> InstitutionKind:
        """The kind's words and allowed functions."""
        return INSTITUTION_KINDS[self.kind or DEFAULT_KIND]

    def token_of(self, setting: str) -> str:
        return getattr(self, TOKEN_COLUMNS[setting])

    @property
    def reception_tokens(self) -> dict[str, str]:
        """Every entry point's token, by setting name (online first)."""
        return {name: self.token_of(name) for name in RECEPTION_SETTINGS}

    @property
    def functions(self) -> dict[str, bool]:
        """What runs: switched on, and one the kind may run (whatever an older row says)."""
        allowed = self.kind_info.functions
        return {name: bool(getattr(self, f"function_{name}")) and name in allowed for name in FUNCTIONS}

    def set_functions(self, changes: dict[str, bool]) -> None:
        """Switch functions on or off; FunctionNotAllowed for switching on one the kind may not run."""
        for name, on in changes.items():
            if name not in FUNCTIONS:
                raise ValueError(f"unknown function {name!r}")
        refused = [name for name, on in changes.items() if on and name not in self.kind_info.functions]
        if refused:
            raise FunctionNotAllowed(self.kind, refused[0])
        for name, on in changes.items():
            setattr(self, f"function_{name}", bool(on))

    def runs(self, setting: ReceptionSetting) -> bool:
        """Whether the function behind this entry point is switched on."""
        return self.functions[setting.function]


class FunctionNotAllowed(ValueError):
    """A function (環境設定) switched on at a kind that may not run it (a visiting-nurse station: 訪問 only)."""

    def __init__(self, kind: str, function: str):
        super().__init__(f"a {kind} institution cannot run {function}")
        self.kind, self.function = kind, function


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
    # The institution's own note (e.g. its patient id); never shown to patients.
    memo: Mapped[str] = mapped_column(String(200), default="")
    # The appointment's time (JST, `HH:MM`), or None: the patient's done page says when to expect
    # the call (issue 36); its reception link carries it.
    start_time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The deep link's opaque reference (`/r/<reception token>?a=<token>`): the link names neither
    # the date nor the patient. Nullable in the schema only (migration 0021 fills old rows).
    token: Mapped[str] = mapped_column(String(32), nullable=True, unique=True)
    # The patient the appointment is for, when the institution says so: kept here, never in a URL
    # and never shown to the patient (their card names them).
    patient_kana: Mapped[str] = mapped_column(String(100), default="", server_default="")
    patient_birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)


# The column holding each entry point's token; `reception_token` stays the online one.
TOKEN_COLUMNS: dict[str, str] = {
    name: "reception_token" if name == RECEPTION_ONLINE else f"{name}_token" for name in RECEPTION_SETTINGS
}
# What `institution create` (and an institution from before the functions existed) runs.
DEFAULT_FUNCTIONS: dict[str, bool] = {name: name == FUNCTION_ONLINE for name in FUNCTIONS}
ALL_FUNCTIONS: dict[str, bool] = {name: True for name in FUNCTIONS}

class InstitutionError(DomainError):
    """An institution setting that cannot be stored (its phone number or privacy notice URL)."""

    domain = "institution"
    codes = frozenset({"invalid_phone", "invalid_privacy_url"})


PHONE_MAX, PRIVACY_URL_MAX = 20, 500
# A Japanese number as people write it: 0 first, digits in groups joined by hyphens, 10 or 11
# digits in all (03-1234-5678, 0120-123-456, 090-1234-5678).
_PHONE = re.compile(r"0[0-9]+(-[0-9]+)*")


def check_phone(raw: str) -> str:
    """`raw` trimmed ("" clears it); InstitutionError invalid_phone when it is not a phone number."""
    value = raw.strip() if isinstance(raw, str) else None
    if value is None:
        raise InstitutionError("invalid_phone", field="phone")
    if value and (len(value) > PHONE_MAX or not _PHONE.fullmatch(value)
                  or sum(ch.isdigit() for ch in value) not in (10, 11)):
        raise InstitutionError("invalid_phone", field="phone")
    return value


def check_privacy_url(raw: str) -> str:
    """`raw` trimmed ("" clears it): an absolute http(s) URL without credentials or spaces."""
    value = raw.strip() if isinstance(raw, str) else None
    if value is None:
        raise InstitutionError("invalid_privacy_url", field="privacy_url")
    if not value:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InstitutionError("invalid_privacy_url", field="privacy_url") from None
    if (len(value) > PRIVACY_URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.username or parts.password or any(ch.isspace() or ord(ch) < 32 for ch in value)):
        raise InstitutionError("invalid_privacy_url", field="privacy_url")
    return value


def set_contact(institution: Institution, *, phone: str | None = None, privacy_url: str | None = None) -> None:
    """Change the phone number and/or the privacy notice URL (None: leave it); both checked
    before either is set."""
    checked_phone = None if phone is None else check_phone(phone)
    checked_url = None if privacy_url is None else check_privacy_url(privacy_url)
    if checked_phone is not None:
        institution.phone = checked_phone
    if checked_url is not None:
        institution.privacy_url = checked_url


ROLES = ("pharmacist", "clerk", "admin")
# Only these roles are 有資格者 (licensed): they alone may view clinical categories.
LICENSED_ROLES = frozenset({"pharmacist"})


def new_reception_token() -> str:
    """An opaque, unguessable token for the institution's reception URL (医療機関別URL)."""
    return secrets.token_urlsafe(18)


def default_functions(kind: str) -> dict[str, bool]:
    """What `institution create` runs at first: online only; a visiting-nurse station visits."""
    if FUNCTION_ONLINE in INSTITUTION_KINDS[kind].functions:
        return dict(DEFAULT_FUNCTIONS)
    return {name: name == FUNCTION_HOME_VISIT for name in FUNCTIONS}


def allowed_functions(kind: str, wanted: dict[str, bool]) -> dict[str, bool]:
    """`wanted` with what the kind may not run switched off (the sandbox's all-on default)."""
    return {name: on and name in INSTITUTION_KINDS[kind].functions for name, on in wanted.items()}


def create_institution(session: Session, *, code: str, name: str, now: datetime,
                       functions: dict[str, bool] | None = None, qualification_only: bool = False) -> Institution:
    """A new institution with a reception URL per entry point; its kind is the one its code names;
    `functions` default: online only (a visiting-nurse station: home visits). FunctionNotAllowed
    for a function the kind may not run."""
    kind = kind_of_code(code)
    institution = Institution(
        institution_code=code, name=name, created_at=now, qualification_only=qualification_only, kind=kind,
        **{column: new_reception_token() for column in TOKEN_COLUMNS.values()},
    )
    institution.set_functions({**default_functions(kind), **(functions or {})})
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


def runs_function(session: Session, institution_id: int, function: str) -> bool:
    """Whether the institution has this function (vocabulary.FUNCTIONS) switched on."""
    column = getattr(Institution, f"function_{function}")  # AttributeError: no such function
    row = session.execute(select(column, Institution.kind).where(Institution.id == institution_id)).first()
    return row is not None and bool(row[0]) and function in INSTITUTION_KINDS[row[1] or DEFAULT_KIND].functions


def institution_by_code(session: Session, code: str) -> Institution | None:
    return session.scalar(select(Institution).where(Institution.institution_code == code))


def names_by_code(session: Session, institution_codes: Collection[str]) -> dict[str, str]:
    """Names of the institutions among these codes (unknown codes left out): what the service
    tells its OQS of itself (integrations/oqs/interface.py: InstitutionNames)."""
    if not institution_codes:
        return {}
    return dict(session.execute(select(Institution.institution_code, Institution.name).where(
        Institution.institution_code.in_(list(institution_codes)))).all())


def rotate_reception_token(session: Session, institution: Institution, *, now: datetime,
                           setting: str = RECEPTION_ONLINE) -> str:
    """Give the institution a new URL for one entry point; the old one then answers 「使用できません」 (410)."""
    column = TOKEN_COLUMNS[setting]  # KeyError: not an entry point
    session.add(RetiredReceptionToken(token=getattr(institution, column), institution_id=institution.id,
                                      retired_at=now))
    setattr(institution, column, new_reception_token())
    session.flush()
    return getattr(institution, column)


def institution_by_reception_token(session: Session, token: str) -> tuple[Institution | None, str | None, bool]:
    """The institution of a reception URL token, the entry point (a RECEPTION_SETTINGS name) it opens,
    and whether the token is a retired one."""
    columns = {name: getattr(Institution, column) for name, column in TOKEN_COLUMNS.items()}
    institution = session.scalar(select(Institution).where(or_(*(c == token for c in columns.values()))))
    if institution is not None:
        setting = next(name for name in columns if institution.token_of(name) == token)
        return institution, setting, False
    retired = session.get(RetiredReceptionToken, token)
    return None, None, retired is not None


class StaffChangeError(DomainError):
    """A change to a staff account refused by 「管理」's rules; nothing was changed."""

    domain = "staff"
    codes = frozenset({
        # no such member at this institution (another institution's counts as none)
        "not_found",
        # an admin may not stop, reset or change the role of their own account here
        "own_account",
        # no role chosen, or an unknown one: there is no default role
        "no_role",
        "login_id_taken", "invalid_login_id",
        "already_disabled", "not_disabled", "same_role",
    })


def member_of(session: Session, *, institution_id: int, staff_id: int) -> Staff:
    """A staff member of this institution, or StaffChangeError("not_found")."""
    staff = session.scalar(select(Staff).where(Staff.id == staff_id, Staff.institution_id == institution_id))
    if staff is None:
        raise StaffChangeError("not_found")
    return staff


def enable_staff(session: Session, staff: Staff) -> None:
    """「利用再開」: a stopped account signs in again (with the password it had)."""
    if staff.disabled_at is None:
        raise StaffChangeError("not_disabled")
    staff.disabled_at = None
    session.flush()


def set_staff_role(session: Session, staff: Staff, role: str) -> str:
    """Change a member's role; return the role before."""
    if role not in ROLES:
        raise StaffChangeError("no_role", field="role")
    if role == staff.role:
        raise StaffChangeError("same_role")
    before, staff.role = staff.role, role
    session.flush()
    return before


def reset_staff_password(session: Session, staff: Staff, password: str) -> None:
    """A one-time password chosen by an admin: the member must choose their own at the next sign-in."""
    staff.password_hash = hash_password(password)
    staff.must_change_password = True
    session.flush()


def institution_of_retired_token(session: Session, token: str) -> Institution | None:
    """Whose reception URL a rotated-away token was (its page names the institution)."""
    retired = session.get(RetiredReceptionToken, token)
    return session.get(Institution, retired.institution_id) if retired is not None else None


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
                       now: datetime, patient_kana: str = "", patient_birth_date: date | None = None,
                       start_time: str | None = None) -> Appointment:
    appointment = Appointment(institution_id=institution_id, consultation_date=consultation_date,
                              memo=memo, created_at=now, token=secrets.token_urlsafe(12),
                              patient_kana=patient_kana, patient_birth_date=patient_birth_date,
                              start_time=start_time)
    session.add(appointment)
    session.flush()
    return appointment


def appointment_of(session: Session, *, institution_id: int, appointment_id: int) -> Appointment | None:
    return session.scalar(select(Appointment).where(Appointment.id == appointment_id,
                                                    Appointment.institution_id == institution_id))


def appointment_by_token(session: Session, *, institution_id: int, token: str) -> Appointment | None:
    """The appointment behind a deep link's `a=` (only the institution's own)."""
    if not token or len(token) > 32:
        return None
    return session.scalar(select(Appointment).where(Appointment.token == token,
                                                    Appointment.institution_id == institution_id))


def appointments_of(session: Session, institution_id: int, *, since: date) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment).where(Appointment.institution_id == institution_id,
                                  Appointment.consultation_date >= since)
        .order_by(Appointment.consultation_date, Appointment.id)
    ))
