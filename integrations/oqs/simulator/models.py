"""Tables of the embedded OQS simulator.

Only what an insurer registers is stored: people, their qualifications (資格), medical-aid
entrustments and institutions' reference numbers. Drug and checkup histories are derived
from each person's seed when read, so 100,000 people are a few hundred
thousand rows, not millions.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base


class OqsPerson(Base):
    """A person known to OQS (the insured; identified by the card through the card authority)."""

    __tablename__ = "oqs_people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Every derived history (drugs, checkups) comes from this seed: same seed, same history.
    seed: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    kana: Mapped[str] = mapped_column(String(128))
    sex: Mapped[str] = mapped_column(String(1))
    # Indexed: the disaster measure finds a person without the card by birth date and name.
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    postcode: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(40))
    town: Mapped[str] = mapped_column(String(40))
    # Household income bracket 1-5 (ア..オ for under 70; 1-3 are 現役並み at 70+) and a
    # refinement flag (後期 一般Ⅱ, 低所得Ⅰ, 境界層, 老福): they decide copay and limit class.
    income_rank: Mapped[int] = mapped_column(SmallInteger)
    income_flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Comma-separated health traits the insurer's certificates depend on (e.g. "dialysis").
    traits: Mapped[str] = mapped_column(String(64), default="")
    # population / sandbox / demo, and the day it was made (its "today").
    origin: Mapped[str] = mapped_column(String(16))
    created_on: Mapped[date] = mapped_column(Date)

    qualifications: Mapped[list["OqsQualification"]] = relationship(
        back_populates="person", order_by="OqsQualification.qualification_date", lazy="selectin"
    )
    entrustments: Mapped[list["OqsEntrustment"]] = relationship(lazy="selectin")


class OqsQualification(Base):
    """One qualification (資格) of a person: an insurance, or medical aid (card classification A1)."""

    __tablename__ = "oqs_qualifications"
    __table_args__ = (
        # Inquiries look up by number first: it is the most selective key on both databases.
        Index("ix_oqs_qualifications_lookup", "number", "insurer_number"),
        Index("ix_oqs_qualifications_recipient", "recipient_number", "public_payer_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("oqs_people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    card_classification: Mapped[str] = mapped_column(String(2))
    insurer_number: Mapped[str | None] = mapped_column(String(8), nullable=True)
    insurer_name: Mapped[str] = mapped_column(String(100))
    symbol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    branch: Mapped[str | None] = mapped_column(String(2), nullable=True)
    relationship_code: Mapped[str | None] = mapped_column(String(1), nullable=True)
    insured_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    qualification_date: Mapped[date] = mapped_column(Date)
    disqualification_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason_of_loss: Mapped[str | None] = mapped_column(String(2), nullable=True)
    public_payer_number: Mapped[str | None] = mapped_column(String(8), nullable=True)
    recipient_number: Mapped[str | None] = mapped_column(String(7), nullable=True)
    welfare_office: Mapped[str | None] = mapped_column(String(100), nullable=True)

    person: Mapped[OqsPerson] = relationship(back_populates="qualifications")


class OqsEntrustment(Base):
    """A welfare office entrusted (委託) a medical-aid recipient to an institution."""

    __tablename__ = "oqs_entrustments"
    __table_args__ = (UniqueConstraint("person_id", "institution_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("oqs_people.id"), index=True)
    institution_code: Mapped[str] = mapped_column(String(10))


class OqsReferenceNumber(Base):
    """照会番号: an institution's own patient id for a person, echoed in later results."""

    __tablename__ = "oqs_reference_numbers"
    __table_args__ = (UniqueConstraint("institution_code", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_code: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[str] = mapped_column(ForeignKey("oqs_people.id"), index=True)
    reference_number: Mapped[str] = mapped_column(String(16))
