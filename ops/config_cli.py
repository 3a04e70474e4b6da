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
    if settings.production and settings.audit_keyed_since is None:
        # Not a refusal (a deployment upgrading has to find the instant first), but said every time.
        click.echo("warning: AUDIT_KEYED_SINCE is not set: `audit verify` cannot tell a keyed audit chain "
                   "rewritten as version-1 (unkeyed) entries from one written before keying. Set it to the "
                   "instant this deployment started keying (for a new deployment, its first start), "
                   "e.g. 2026-11-01T00:00:00+09:00.", err=True)
