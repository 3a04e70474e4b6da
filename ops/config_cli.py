"""`flask --app app config check`: validate the environment without starting the app.

Registered as a `flask.commands` entry point (pyproject.toml), so it runs even when the app
itself refuses to start on a bad configuration: that is when an operator needs it.
"""
from __future__ import annotations

import click


@click.group("config")
def config() -> None:
    """The configuration read from the environment."""


@config.command("check")
def check() -> None:
    """Validate the environment: one line per problem, exit status 2 if any."""
    from web.config import ConfigError, Settings

    try:
        settings = Settings.from_env(check_only=True)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            click.echo(line, err=True)
        raise SystemExit(2) from None
    click.echo(f"configuration OK (APP_ENV={settings.app_env})")
