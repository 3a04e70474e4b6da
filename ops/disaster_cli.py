"""Operator commands for the disaster measure (災害時特別措置), in every mode:

    flask --app app disaster declare --name "令和8年 能登半島地震" --prefectures 17,16 \\
        --institutions 1341234563 --from 2026-11-23T00:00:00+09:00 --until 2026-12-23T00:00:00+09:00
    flask --app app disaster list
    flask --app app disaster end 3

A refused declaration (empty area, unknown prefecture or institution, --until not after --from,
an area and period meeting an active disaster's) writes nothing and exits with status 2 and the
reason. Each declaration and end is audited (consent.disasters).
"""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask import Flask, current_app

from consent import disasters
from consent.clock import JST
from consent.disasters import DisasterError
from consent.window import format_jst

# The operator's words for each refusal (people's words for the sandbox: web/error_messages.py).
REFUSALS = {
    "invalid_name": "--name must be 1 to 100 characters",
    "empty_area": "name an area: --prefectures and/or --institutions",
    "unknown_prefecture": "{detail!s} is not a prefecture code (01 to 47)",
    "unknown_institution": "no institution with code {detail!s}",
    "invalid_period": "--until must be after --from",
    "intersects_active": "the area and period meet those of active disaster {detail!s} (end it first)",
    "not_found": "no disaster {detail!s}",
    "already_over": "disaster {detail!s} is over already",
}


# The sandbox clock's years (web/sandbox/__init__.py CLOCK_YEARS): a period outside them is a typo.
YEARS = range(2000, 2100)


def _instant(value: str, option: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        # In UTC (how it is stored) inside the years the service computes with (0001+09:00 is not).
        if instant.tzinfo is not None and instant.astimezone(timezone.utc).year not in YEARS:
            instant = None
    except (ValueError, OverflowError):
        instant = None
    if instant is None or instant.tzinfo is None:
        raise click.UsageError(f"{option} must be an ISO 8601 instant with its offset between the years "
                               f"{YEARS.start} and {YEARS.stop - 1}, e.g. 2026-12-01T09:00:00+09:00")
    return instant


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _describe(disaster, now: datetime) -> str:
    if disaster.ended_at is not None:
        state = f"ended {format_jst(disaster.ended_at)}"
    elif disaster.in_effect(now):
        state = "in effect"
    elif now < disaster.starts_at:
        state = "declared"
    else:
        state = "over"
    area = ",".join(disaster.prefecture_list) or "-"
    institutions = ",".join(disaster.institution_list) or "-"
    # In JST, as declared (stored in UTC).
    return (f"{disaster.id}  {state}  {disaster.name}  from {disaster.starts_at.astimezone(JST).isoformat()}  until "
            f"{disaster.ends_at.astimezone(JST).isoformat()}  prefectures {area}  institutions {institutions}")


def register(app: Flask) -> None:
    @app.cli.group("disaster")
    def disaster_group():
        """The disaster measure (災害時特別措置): declared areas and periods."""

    @disaster_group.command("declare")
    @click.option("--name", required=True, help="The disaster's name, shown in the console.")
    @click.option("--prefectures", default="", help="Prefecture codes, comma-separated (13,14).")
    @click.option("--institutions", default="", help="Institution codes, comma-separated.")
    @click.option("--from", "starts", required=True, help="Start (inclusive), ISO 8601 with offset.")
    @click.option("--until", "ends", required=True, help="End (exclusive), ISO 8601 with offset.")
    def disaster_declare(name: str, prefectures: str, institutions: str, starts: str, ends: str):
        """Declare a disaster: its area (the union of prefectures and institutions) and period."""
        starts_at, ends_at = _instant(starts, "--from"), _instant(ends, "--until")
        now = current_app.extensions["clock"].now()
        try:
            with current_app.extensions["sessionmaker"]() as session, session.begin():
                disaster = disasters.declare(
                    session, name=name, prefectures=_codes(prefectures), institution_codes=_codes(institutions),
                    starts_at=starts_at, ends_at=ends_at, now=now)
                covered = len(disasters.covered_institutions(session, disaster))
                line = _describe(disaster, now)
        except DisasterError as exc:
            raise click.UsageError(REFUSALS[exc.code].format(detail=exc.detail)) from None
        click.echo(f"declared {line}")
        click.echo(f"institutions covered now: {covered}")

    @disaster_group.command("list")
    def disaster_list():
        """List every declared disaster, newest first."""
        now = current_app.extensions["clock"].now()
        with current_app.extensions["sessionmaker"]() as session:
            for disaster in disasters.all_disasters(session):
                click.echo(_describe(disaster, now))

    @disaster_group.command("end")
    @click.argument("disaster_id", type=click.IntRange(1, 2**31 - 1))  # the id column's range
    def disaster_end(disaster_id: int):
        """End DISASTER_ID now: reads under it are refused from this instant."""
        now = current_app.extensions["clock"].now()
        try:
            with current_app.extensions["sessionmaker"]() as session, session.begin():
                disaster = disasters.end(session, disaster_id=disaster_id, now=now)
                line = _describe(disaster, now)
        except DisasterError as exc:
            raise click.UsageError(REFUSALS[exc.code].format(detail=exc.detail)) from None
        click.echo(f"ended {line}")
