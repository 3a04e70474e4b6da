"""The embedded card authority: issues P-256 cards and keeps their public half in the database."""
from __future__ import annotations

import secrets

from datetime import date, datetime

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from consent.clock import JST
from integrations.card.face import FaceImage, placeholder_face
from integrations.card.interface import CARD_STATUSES, Card, IssuedCard, UnknownCard
from integrations.card.models import CardRecord, UnlinkedPerson
from store.engine import begin_write


def cose_p256_public_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """COSE_Key for an ES256 key: {kty: EC2, alg: ES256, crv: P-256, x, y}."""
    numbers = public_key.public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )


def certificate_valid_until(birth_date: date, issued_on: date) -> date:
    """A card's certificate runs to the 5th birthday after issuance (発行日後5回目の誕生日).

    Someone born on 29 February has that birthday on 28 February in common years.
    """
    first_year = issued_on.year if _birthday_in(birth_date, issued_on.year) > issued_on else issued_on.year + 1
    return _birthday_in(birth_date, first_year + 4)


def _birthday_in(birth_date: date, year: int) -> date:
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


_CARD_COLUMNS = [getattr(CardRecord, name) for name in (
    "id", "person_id", "credential_id", "user_handle", "public_key", "sign_count", "status",
    "valid_from", "valid_until", "demo", "accepted_binding", "accepted_challenge_expires_at")]


# Every card read runs these: built once (building a statement costs more than running it on SQLite).
_BY_HANDLE = select(*_CARD_COLUMNS).where(CardRecord.user_handle == bindparam("user_handle"))
_BY_HANDLE_LOCKED = _BY_HANDLE.with_for_update()
# The SET clause comes from the parameters' column names.
_RECORD_USE = update(CardRecord).where(CardRecord.id == bindparam("card_id"))


def card_from_record(row: CardRecord) -> Card:
    return Card(
        card_id=row.id, person_id=row.person_id, credential_id=row.credential_id,
        user_handle=row.user_handle, public_key=row.public_key, sign_count=row.sign_count,
        status=row.status, valid_from=row.valid_from, valid_until=row.valid_until, demo=row.demo,
        accepted_binding=row.accepted_binding, accepted_challenge_expires_at=row.accepted_challenge_expires_at,
    )


class LocalCardAuthority:
    def __init__(self, session: Session) -> None:
        self.session = session

    def issue_card(self, *, person_id: str, birth_date: date, now: datetime) -> IssuedCard:
        private_key = ec.generate_private_key(ec.SECP256R1())
        issued_on = now.astimezone(JST).date()
        row = CardRecord(
            id="card_" + secrets.token_hex(12),
            person_id=person_id,
            credential_id=secrets.token_bytes(32),
            # Opaque and random: the user handle must not reveal who the holder is.
            user_handle=secrets.token_bytes(32),
            public_key=cose_p256_public_key(private_key.public_key()),
            sign_count=0,
            # A card not registered for health insurance use is refused at every read.
            status=self._status_for(person_id),
            valid_from=issued_on,
            valid_until=certificate_valid_until(birth_date, issued_on),
            demo=False,
            issued_at=now,
        )
        self.session.add(row)
        self.session.flush()
        pkcs8 = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return IssuedCard(card=card_from_record(row), private_key_pkcs8=pkcs8)

    def register_demo_card(
        self, *, person_id: str, credential_id: bytes, user_handle: bytes, public_key: bytes,
        sign_count: int, now: datetime, synced: bool = False, valid_until: date | None = None,
    ) -> Card:
        """Sandbox: a visitor's own authenticator stands in for a card of `person_id`."""
        issued_on = now.astimezone(JST).date()
        row = CardRecord(
            id="card_" + secrets.token_hex(12), person_id=person_id, credential_id=credential_id,
            user_handle=user_handle, public_key=public_key, sign_count=sign_count, status=self._status_for(person_id),
            valid_from=issued_on, valid_until=valid_until or date(issued_on.year + 5, 12, 31),
            demo=True, synced=synced, issued_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return card_from_record(row)

    def _status_for(self, person_id: str) -> str:
        """A new card's status: `unlinked` for a person who holds only a 資格確認書."""
        return "unlinked" if self.session.get(UnlinkedPerson, person_id) is not None else "active"

    def mark_unlinked(self, *, person_id: str, now: datetime) -> None:
        """The person's card is not registered for health insurance use (a 資格確認書 only); their
        cards, issued before or after, read as `unlinked`."""
        if self.session.get(UnlinkedPerson, person_id) is None:
            self.session.add(UnlinkedPerson(person_id=person_id, since=now))
        self.session.execute(update(CardRecord).where(CardRecord.person_id == person_id)
                             .values(status="unlinked", status_changed_at=now))
        self.session.flush()

    def by_user_handle(self, user_handle: bytes, *, lock: bool = False) -> Card | None:
        # Core on the session's connection: every card read passes here, and a plain row is all
        # a Card needs (no ORM identity to keep in step with record_use's update).
        query = _BY_HANDLE
        if lock:
            # Serialize sign-ins of one card: two assertions must not both pass the count check.
            begin_write(self.session)
            query = _BY_HANDLE_LOCKED
        row = self.session.connection().execute(query, {"user_handle": user_handle}).first()
        return card_from_record(row) if row else None

    def by_credential_id(self, credential_id: bytes) -> Card | None:
        row = self.session.scalar(select(CardRecord).where(CardRecord.credential_id == credential_id))
        return card_from_record(row) if row else None

    def get(self, card_id: str) -> Card | None:
        row = self.session.get(CardRecord, card_id)
        return card_from_record(row) if row else None

    def set_status(self, card_id: str, status: str, *, now: datetime) -> Card:
        if status not in CARD_STATUSES:
            raise ValueError(f"unknown card status {status!r}")
        row = self.session.get(CardRecord, card_id)
        if row is None:
            raise UnknownCard(card_id)
        row.status = status
        row.status_changed_at = now
        self.session.flush()
        return card_from_record(row)

    def record_use(
        self, card_id: str, *, sign_count: int, now: datetime, binding: str | None = None,
        challenge_expires_at: datetime | None = None,
    ) -> None:
        """`binding` (already hashed) and `challenge_expires_at` describe the accepted read."""
        self.session.connection().execute(_RECORD_USE, {
            "card_id": card_id, "sign_count": sign_count, "last_used_at": now, "accepted_binding": binding,
            "accepted_challenge_expires_at": challenge_expires_at})

    def reinstate(self, card_id: str, *, now: datetime) -> Card:
        """Clear a suspected-clone flag after the card was checked; other statuses stay."""
        row = self.session.get(CardRecord, card_id)
        if row is None:
            raise UnknownCard(card_id)
        if row.status != "suspected_clone":
            raise ValueError(f"card {card_id} is {row.status}, not suspected_clone")
        row.status = "active"
        row.status_changed_at = now
        # The holder's next read starts a fresh count: what the clone left there means nothing.
        row.accepted_binding = None
        row.accepted_challenge_expires_at = None
        self.session.flush()
        return card_from_record(row)


    def credential_ids_of(self, person_ids: list[str]) -> list[bytes]:
        if not person_ids:
            return []
        return list(self.session.scalars(
            select(CardRecord.credential_id).where(CardRecord.person_id.in_(person_ids)).order_by(CardRecord.id)))

    def face_image(self, card_id: str) -> FaceImage | None:
        """The card's face photo: in the embedded authority a drawn placeholder of its holder
        (integrations/card/face.py), never a real face."""
        card = self.get(card_id)
        return placeholder_face(card.person_id) if card else None
