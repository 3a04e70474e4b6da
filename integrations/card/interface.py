"""What the service needs from a card authority. The embedded one is LocalCardAuthority."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from consent.errors import DomainError
from integrations.card.face import FaceImage

# `unlinked`: the holder's card is not registered for health insurance use (保険証利用登録なし);
# they show a 資格確認書 instead (LocalCardAuthority.mark_unlinked).
CARD_STATUSES = ("active", "expired", "revoked", "locked", "suspected_clone", "unlinked")
# Statuses the sandbox may set (a suspected clone only arises from a sign-count regression).
SETTABLE_STATUSES = ("active", "expired", "revoked", "locked")


@dataclass(frozen=True)
class Card:
    card_id: str
    person_id: str
    credential_id: bytes
    user_handle: bytes
    public_key: bytes
    sign_count: int
    status: str
    valid_from: date
    valid_until: date
    demo: bool
    # The last accepted read's browser binding (hashed) and challenge expiry (race detection).
    accepted_binding: str | None = None
    accepted_challenge_expires_at: datetime | None = None

    def effective_status(self, today: date) -> str:
        """The status a reader sees today: an out-of-date certificate is expired whatever was set."""
        if self.status == "active" and not (self.valid_from <= today <= self.valid_until):
            return "expired"
        return self.status


@dataclass(frozen=True)
class IssuedCard:
    """A new card and, once only, its private key (PKCS#8 DER) for the holder's authenticator."""

    card: Card
    private_key_pkcs8: bytes


class UnknownCard(DomainError, LookupError):
    """No card with this id."""

    domain = "card_authority"
    codes = frozenset({"not_found"})

    def __init__(self, card_id: str) -> None:
        super().__init__("not_found", detail=card_id)


class CardAuthority(Protocol):
    def issue_card(self, *, person_id: str, birth_date: date, now: datetime) -> IssuedCard: ...

    def register_demo_card(
        self, *, person_id: str, credential_id: bytes, user_handle: bytes, public_key: bytes,
        sign_count: int, now: datetime, synced: bool = False,
    ) -> Card: ...

    def mark_unlinked(self, *, person_id: str, now: datetime) -> None:
        """The person holds no card usable for health insurance (a 資格確認書 only): every card
        issued to them from now on reads as `unlinked`."""
        ...

    def by_user_handle(self, user_handle: bytes, *, lock: bool = False) -> Card | None: ...

    def by_credential_id(self, credential_id: bytes) -> Card | None: ...

    def get(self, card_id: str) -> Card | None: ...

    def set_status(self, card_id: str, status: str, *, now: datetime) -> Card: ...

    def record_use(
        self, card_id: str, *, sign_count: int, now: datetime, binding: str | None = None,
        challenge_expires_at: datetime | None = None,
    ) -> None: ...

    def reinstate(self, card_id: str, *, now: datetime) -> Card: ...

    def credential_ids_of(self, person_ids: list[str]) -> list[bytes]:
        """The credential ids of these people's cards (the photo check names them in its card read:
        a card read without the PIN finds no card by itself)."""
        ...

    def face_image(self, card_id: str) -> FaceImage | None:
        """The face photo printed on the card (for the photo check, 目視確認); None: no such card."""
        ...
