"""The table of the sandbox's per-institution clocks (consent/clock.py's DatabaseClock reads it).

A module of its own: the OQS simulator imports consent/clock.py (for JST) and must see none of the
service's tables.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base
from store.types import UTCDateTime


class InstitutionClock(Base):
    """The sandbox: one institution's own frozen instant (PUT /sandbox/institutions/<code>/clock).

    It goes with its institution (ON DELETE CASCADE)."""

    __tablename__ = "institution_clocks"

    institution_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True)
    instant: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
