"""Searches that can identify a person, audited like reads.

An entry says who searched, when, on what basis and by which kind of criteria (insurance
numbers, name and address) and how it ended - never the criteria themselves; the person found,
when exactly one was, by id.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import audit
from consent.actors import Actor

# How a search ended.
FOUND, NOT_FOUND, SEVERAL, INCOMPLETE = "found", "not_found", "several", "incomplete"


def record_search(session: Session, *, actor: Actor, by: str, outcome: str, now: datetime,
                  person_id: str | None = None, basis: Mapping[str, Any] | None = None) -> None:
    """Append a `person_searched` entry to the actor's institution's chain; the caller commits.

    `by`: the kind of criteria ("insurance", "name"); `basis`: what the search rests on (e.g. the
    disaster's id), ids only."""
    audit.append_entry(session, institution_id=actor.institution_id, event="person_searched", now=now,
                       actor_kind=actor.kind, actor_id=actor.id, actor_role=actor.role,
                       person_id=person_id if outcome == FOUND else None,
                       detail={"by": by, "outcome": outcome, **(basis or {})})
