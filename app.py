"""Application factory and CLI: `flask --app app db upgrade`, `flask --app app demo load`, ...

Production serves it with gunicorn: `gunicorn -c python:web.gunicorn_conf -w 4 'app:create_app()'`.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import web
from consent import passwords
from consent.audit import AuditKeyring, use_keyring
from consent.clock import Clock, DatabaseClock, SystemClock
from consent.institutions import names_by_code
from integrations.registry import choose
from store.engine import Timeouts, make_engine, make_sessionmaker
from store.location import instance_dir  # noqa: F401 - re-exported for operators' scripts
from web.config import ConfigError, Settings

# Templates and static files are read through the web package, wherever it is installed.
WEB = Path(web.__file__).resolve().parent


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, **overrides) -> Flask:
    """Build the app. `settings` defaults to the environment; `clock` to real (or sandbox) time."""
    from web.logs import configure_logging

    configure_logging()
    if settings is None:
        settings = Settings.from_env(**overrides)
    app = Flask(__name__, template_folder=str(WEB / "templates"), static_folder=str(WEB / "static"),
                instance_path=str(instance_dir()))
    if settings.trusted_proxies:
        # Believe exactly N hops of X-Forwarded-For/-Proto (nginx in front: 1); without it the
        # headers are ignored, as anyone can send them.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        MAX_JSON_BYTES=settings.max_json_bytes,
        LOG_REQUESTS=settings.log_requests,
        SESSION_COOKIE_NAME="session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False

    engine = make_engine(settings.database_url, Timeouts(connect=settings.db_connect_timeout,
                                                         statement=settings.db_statement_timeout))
    # The audit key travels with every connection (before any sessionmaker is derived).
    use_keyring(engine, AuditKeyring.from_secrets(settings.audit_key, settings.audit_keys))
    app.extensions["engine"] = engine
    passwords.configure(settings.password_hashing)
    app.extensions["sessionmaker"] = make_sessionmaker(engine)
    if settings.redis_url:
        from store.ratelimit import RedisCounts

        # Rate limits then cost no database write (web/context.py).
        app.extensions["rate_counts"] = RedisCounts(settings.redis_url, prefix=settings.redis_prefix)
    if clock is None:
        # Only the sandbox may move time, and it keeps the setting in the database
        # so that every worker process agrees on "now".
        clock = DatabaseClock(engine) if settings.sandbox else SystemClock()
    app.extensions["clock"] = clock
    # The OQS and card authority are chosen here, once; views reach them through web.context.
    try:
        app.extensions["integrations"] = choose(oqs_backend=settings.oqs_backend,
                                                card_authority=settings.card_authority,
                                                institution_names=names_by_code)
    except LookupError as exc:
        raise ConfigError(str(exc)) from None
    # Real time for session lifetimes and login throttling, whatever the sandbox clock says.
    app.extensions["wall_clock"] = SystemClock()

    from web import init_app
    from web.sessions import DatabaseSessionInterface

    app.session_interface = DatabaseSessionInterface(
        settings.staff_idle_minutes, staff_absolute_hours=settings.staff_absolute_hours)
    init_app(app)

    @app.context_processor
    def _globals():
        return {"synthetic_data_banner": settings.uses_simulators, "settings": settings}

    from ops.cli import register_cli

    register_cli(app)
    return app
