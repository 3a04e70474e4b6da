"""`flask --app app ...` commands. Bad input exits with status 2 and a clear message."""
from __future__ import annotations

import functools

import click
from flask import Flask, current_app

from consent.vocabulary import RECEPTION_SETTINGS
from integrations.registry import COMMANDS as INTEGRATION_COMMANDS
from ops import audit_cli, card_cli, disaster_cli, operator_cli, webhook_worker
from store.engine import make_engine, make_sessionmaker


def register_cli(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Database schema (Alembic migrations)."""

    @db_group.command("upgrade")
    @click.option("--revision", default="head", show_default=True)
    def db_upgrade(revision: str):
        """Apply migrations up to REVISION."""
        from store.migrate import upgrade

        upgrade(current_app.config["SETTINGS"].database_url, revision)
        click.echo(f"database at {revision}")

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str):
        """Revert migrations down to REVISION."""
        from store.migrate import downgrade

        downgrade(current_app.config["SETTINGS"].database_url, revision)
        click.echo(f"database at {revision}")

    @app.cli.group("demo")
    def demo_group():
        """Demo data for trying the service by hand (sandbox)."""

    @demo_group.command("load")
    def demo_load():
        """Load the demo pharmacy, staff and patients (idempotent)."""
        from ops.demo import load_demo

        summary = load_demo(current_app)
        click.echo(summary.describe(current_app.config["SETTINGS"]))

    @demo_group.command("info")
    def demo_info():
        """Print what to open and the demo logins (loading the demo data first if it is missing)."""
        from ops.demo import load_demo

        click.echo(load_demo(current_app).describe(current_app.config["SETTINGS"]))

    @app.cli.group("reception")
    def reception_group():
        """Institutions' reception URLs (医療機関別URL)."""

    @reception_group.command("rotate")
    @click.argument("institution_code")
    @click.option("--setting", default="online", show_default=True, type=click.Choice(list(RECEPTION_SETTINGS)),
                  help="Which entry point's URL (each has its own URL and QR).")
    def reception_rotate(institution_code: str, setting: str):
        """Give INSTITUTION_CODE a new reception URL; the old one answers 410 from now on."""
        from consent.institutions import institution_by_code, rotate_reception_token

        with current_app.extensions["sessionmaker"]() as session, session.begin():
            institution = institution_by_code(session, institution_code)
            if institution is None:
                raise click.UsageError(f"no institution with code {institution_code!r}")
            token = rotate_reception_token(session, institution, now=current_app.extensions["clock"].now(),
                                           setting=setting)
        click.echo(f"{current_app.config['SETTINGS'].origins[0]}/r/{token}")

    audit_cli.register(app)  # `flask audit verify`
    operator_cli.register(app)  # `flask institution|staff ...`
    card_cli.register(app)  # `flask card reinstate`
    disaster_cli.register(app)  # `flask disaster declare|list|end`
    for register in INTEGRATION_COMMANDS:
        register(app)  # the simulator's `flask oqs generate|show`
    webhook_worker.register(app)  # `flask webhooks deliver`
    _operator_waits(app, app.cli)


def _operator_waits(app: Flask, group: click.Group) -> None:
    """Operator commands wait long for the database (no one is at a screen); requests do not."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _operator_waits(app, command)
        elif command.callback is not None:
            command.callback = _with_operator_engine(app, command.callback)


def _with_operator_engine(app: Flask, callback):
    @functools.wraps(callback)
    def run(*args, **kwargs):
        if not app.extensions.get("operator_engine"):
            request_engine = app.extensions["engine"]
            engine = make_engine(app.config["SETTINGS"].database_url)  # no request timeouts
            # What the app bound to its engine (the audit keyring) goes along.
            engine.update_execution_options(**request_engine.get_execution_options())
            request_engine.dispose()
            app.extensions.update(engine=engine, sessionmaker=make_sessionmaker(engine), operator_engine=True)
        return callback(*args, **kwargs)

    return run
