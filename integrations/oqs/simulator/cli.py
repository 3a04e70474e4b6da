"""`flask --app app oqs ...`: the synthetic population and a look at one person.

Bad input exits with status 2 and a clear message (click's usage errors).
"""
from __future__ import annotations

import json
from datetime import date

import click
from flask import Flask, current_app

from consent.clock import today_jst
from consent.vocabulary import OUTPATIENT
from integrations.oqs.numbering import is_valid_institution_code
from integrations.oqs.simulator.generator import MAX_SIZE, generate_population
from integrations.oqs.simulator.oqs import SimulatedOQS


def _today(value: str | None) -> date:
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DD, e.g. 2026-11-23", param_hint="--today") from None
    return today_jst(current_app.extensions["clock"])


def _institution_codes(values: tuple[str, ...]) -> list[str]:
    for code in values:
        if not is_valid_institution_code(code):
            raise click.BadParameter(
                f"{code!r} is not a 10-digit institution code with a valid check digit", param_hint="--entrust-to")
    return list(values)


def register(app: Flask) -> None:
    @app.cli.group("oqs")
    def oqs_group():
        """The OQS simulator: synthetic population and lookups."""

    @oqs_group.command("generate")
    @click.option("--size", type=click.IntRange(1, MAX_SIZE), required=True, help="Number of people.")
    @click.option("--seed", type=click.IntRange(0, None), required=True,
                  help="Population seed (same seed, same people).")
    @click.option("--today", default=None,
                  help="The day the population is as of (YYYY-MM-DD; default: the app's today in JST).")
    @click.option("--entrust-to", multiple=True,
                  help="Institution code some medical-aid recipients are entrusted to (repeatable).")
    def generate(size: int, seed: int, today: str | None, entrust_to: tuple[str, ...]):
        """Add SIZE synthetic people of population SEED (idempotent: existing people are skipped)."""
        day = _today(today)
        codes = _institution_codes(entrust_to)
        with current_app.extensions["sessionmaker"]() as session, session.begin():
            summary = generate_population(session, size=size, seed=seed, today=day, entrust_to=codes)
        click.echo(summary.describe())

    @oqs_group.command("show")
    @click.argument("person_id")
    @click.option("--institution", "institution_code", default="1341234563", show_default=True,
                  help="Institution asking (decides the medical-aid display).")
    @click.option("--today", default=None, help="YYYY-MM-DD (default: the app's today in JST).")
    def show(person_id: str, institution_code: str, today: str | None):
        """Print a person's qualification (as JSON) and counts of drug and checkup records."""
        if len(institution_code) != 10 or not institution_code.isascii() or not institution_code.isdigit():
            raise click.BadParameter("an institution code has 10 digits", param_hint="--institution")
        day = _today(today)
        with current_app.extensions["sessionmaker"]() as session:
            oqs = SimulatedOQS(session, current_app.extensions["integrations"].names_on(session))
            if oqs.person(person_id) is None:
                raise click.BadParameter(f"no person {person_id!r}", param_hint="PERSON_ID")
            qualification = oqs.qualification(person_id, institution_code=institution_code, care_setting=OUTPATIENT,
                                              today=day, limit_consent=True)
            output = {
                "qualification": qualification.to_dict(),
                "drug_records": len(oqs.drugs(person_id, today=day)),
                "checkups": len(oqs.checkups(person_id, today=day)),
            }
        click.echo(json.dumps(output, ensure_ascii=False, indent=2))
