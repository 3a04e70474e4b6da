"""Staff sign-in: password check with a constant-time miss, and what a signed-in staff may do."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from consent.actors import Actor
from consent.errors import DomainError
from consent.institutions import LICENSED_ROLES
from consent.vocabulary import DEFAULT_KIND, INSTITUTION_KINDS, InstitutionKind, role_label
from consent.passwords import hash_password, needs_rehash, verify_password, verify_unknown
from consent.institutions import Institution, Staff
from store.prepared import Prepared


@dataclass(frozen=True)
class StaffIdentity:
    """A signed-in staff member, as the web layer keeps it between requests."""

    staff_id: int
    institution_id: int
    institution_name: str
    institution_code: str
    login_id: str
    role: str
    display_name: str
    must_change_password: bool = False
    # pharmacy, clinic, dental or visiting_nurse: fixes the console's words (vocabulary.INSTITUTION_KINDS).
    institution_kind: str = DEFAULT_KIND

    @property
    def kind(self) -> InstitutionKind:
        return INSTITUTION_KINDS[self.institution_kind]

    @property
    def role_label(self) -> str:
        """The role's label at this institution: the licensed role is 薬剤師, 医師, 歯科医師 or 看護師."""
        return role_label(self.role, self.institution_kind)

    @property
    def licensed(self) -> bool:
        return self.role in LICENSED_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def actor(self, client_id: str | None = None) -> Actor:
        return Actor.for_staff(staff_id=self.staff_id, institution_id=self.institution_id, role=self.role,
                               client_id=client_id)


def _identity(staff: Staff, institution: Institution) -> StaffIdentity:
    return StaffIdentity(
        staff_id=staff.id, institution_id=institution.id, institution_name=institution.name,
        institution_code=institution.institution_code, login_id=staff.login_id, role=staff.role,
        display_name=staff.display_name, must_change_password=bool(staff.must_change_password),
        institution_kind=institution.kind or DEFAULT_KIND,
    )


def authenticate(session: Session, *, login_id: str, password: str) -> StaffIdentity | None:
    """The staff member for these credentials, or None. Disabled accounts never sign in.

    A hash made with older Argon2 parameters is replaced (pending in `session`: the caller
    commits), so raising the parameters upgrades every account at its next sign-in.
    """
    row = session.execute(
        select(Staff, Institution).join(Institution, Institution.id == Staff.institution_id)
        .where(Staff.login_id == login_id)
    ).first()
    if row is None:
        verify_unknown(password)  # same cost as a real miss: ids stay unguessable
        return None
    staff, institution = row
    if not verify_password(staff.password_hash, password) or staff.disabled_at is not None:
        return None
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
        session.flush()
    return _identity(staff, institution)


_staff, _institutions = Staff.__table__.c, Institution.__table__.c
# Every console page and API call loads its staff member: a fixed statement (store/prepared.py).
# Its columns come in StaffIdentity's field order.
_IDENTITY = Prepared(
    select(_staff.id, _institutions.id, _institutions.name, _institutions.institution_code, _staff.login_id,
           _staff.role, _staff.display_name, _staff.must_change_password, _institutions.kind)
    .join_from(Staff.__table__, Institution.__table__, _institutions.id == _staff.institution_id)
    .where(_staff.id == bindparam("staff_id"), _staff.disabled_at.is_(None))
)


def load_identity(session: Session, staff_id: int) -> StaffIdentity | None:
    """The staff member behind a session or token, or None when unknown or disabled."""
    if not isinstance(staff_id, int):
        return None
    rows = _IDENTITY.execute(session.connection(), {"staff_id": staff_id})
    if not rows:
        return None
    *fields, must_change, kind = rows[0]
    return StaffIdentity(*fields, must_change_password=bool(must_change), institution_kind=kind or DEFAULT_KIND)


def login_id_taken(session: Session, login_id: str) -> bool:
    return session.scalar(select(Staff.id).where(Staff.login_id == login_id)) is not None


MIN_PASSWORD_LENGTH = 12


class PasswordChangeError(DomainError):
    """A password change refused; nothing was changed."""

    domain = "password"
    codes = frozenset({"account_unavailable", "wrong_current", "mismatch", "too_short", "unchanged"})


def change_password(session: Session, *, staff_id: int, current: str, new: str, confirm: str) -> None:
    """Change a password, or raise PasswordChangeError (nothing is changed)."""
    staff = session.get(Staff, staff_id)
    if staff is None or staff.disabled_at is not None:
        raise PasswordChangeError("account_unavailable")
    if not verify_password(staff.password_hash, current):
        raise PasswordChangeError("wrong_current", field="current")
    if new != confirm:
        raise PasswordChangeError("mismatch", field="confirm")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise PasswordChangeError("too_short", field="new", detail=MIN_PASSWORD_LENGTH)
    if new == current:
        raise PasswordChangeError("unchanged", field="new")
    staff.password_hash = hash_password(new)
    staff.must_change_password = False
    session.flush()
