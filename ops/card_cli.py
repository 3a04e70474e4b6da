"""`flask --app app card reinstate --person PERSON_ID`: clear a card's clone suspicion.

A sign-count regression flags a card `suspected_clone` and nothing the patient does unlocks
it. Once the card was checked (the holder came with it), an operator clears the flag; operators
know people, not card ids, so the command takes the person. Each reinstatement is recorded in
the security log.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from consent.security_log import record_event
from web.context import card_authority_for
from integrations.card.models import CardRecord


def register(app: Flask) -> None:
    @app.cli.group("card")
    def card_group():
        """Patients' cards (the embedded card authority)."""

    @card_group.command("reinstate")
    @click.option("--person", "person_id", required=True, help="The person whose card was checked.")
    def card_reinstate(person_id: str):
        """Clear the suspected-clone flag of PERSON's card (audited)."""
        now = current_app.extensions["clock"].now()
        with current_app.extensions["sessionmaker"]() as session, session.begin():
            flagged = session.scalars(
                select(CardRecord.id).where(CardRecord.person_id == person_id.strip(),
                                            CardRecord.status == "suspected_clone")
                .order_by(CardRecord.issued_at)
            ).all()
            if not flagged:
                raise click.UsageError(f"person {person_id!r} has no card flagged suspected_clone")
            authority = card_authority_for(session)
            for card_id in flagged:
                authority.reinstate(card_id, now=now)
                record_event(session, event="card_reinstated", subject=card_id, now=now,
                             reason="checked_by_operator", detail={"person_id": person_id.strip()})
        for card_id in flagged:
            click.echo(f"reinstated {card_id} (person {person_id.strip()})")
