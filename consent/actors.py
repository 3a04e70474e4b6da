"""Who is reading: a staff member (console, or an API token acting for them) or a system client."""
from __future__ import annotations

from dataclasses import dataclass

from consent.institutions import LICENSED_ROLES, ROLES
from consent.vocabulary import DEFAULT_KIND, ROLE_LABELS, role_label

ACTOR_KINDS = ("staff", "client")

CLIENT_LABEL = "薬局システム"


@dataclass(frozen=True)
class Actor:
    """The reader a decision is made for.

    kind "staff": a signed-in staff member, in the console or through an authorization-code
    token (then `client_id` names the pharmacy system acting for them).
    kind "client": a client-credentials token, a system job with no person behind it; it is
    never licensed and `limited` (consent list, qualification and limit only).
    """

    kind: str
    id: str
    institution_id: int
    licensed: bool = False
    role: str | None = None
    client_id: str | None = None
    limited: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.kind == "client" and self.licensed:
            raise ValueError("a client without a person behind it is never licensed")

    @classmethod
    def for_staff(
        cls, *, staff_id: int | str, institution_id: int, role: str, client_id: str | None = None
    ) -> "Actor":
        """A staff member; licensed exactly when the role is (有資格者: pharmacist)."""
        return cls(
            kind="staff",
            id=str(staff_id),
            institution_id=institution_id,
            licensed=role in LICENSED_ROLES,
            role=role,
            client_id=client_id,
        )

    @classmethod
    def for_client(cls, *, client_id: str, institution_id: int) -> "Actor":
        """A client-credentials token of a pharmacy system."""
        return cls(kind="client", id=client_id, institution_id=institution_id, limited=True)


def actor_display(kind: str | None, role: str | None, via_client: bool = False,
                  institution_kind: str | None = None) -> str:
    """How a reader is named to the patient: a role (医師 at a clinic), never a person's name."""
    if kind == "staff":
        label = role_label(role, institution_kind or DEFAULT_KIND) if role in ROLE_LABELS else "職員"
        return f"{label}（{CLIENT_LABEL}経由）" if via_client else label
    if kind == "client":
        return CLIENT_LABEL
    return "不明"
