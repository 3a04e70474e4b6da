"""The thin web layer: blueprints, request plumbing, templates. Domain rules live in consent/."""
from __future__ import annotations

from flask import Flask, request

from web import db, errors, metrics, requestlog, security
from web.errors import ApiError


def _json_size_limit():
    # JSON bodies have a tighter limit than file uploads (1 MiB against 2 MiB).
    from flask import current_app

    if request.is_json and (request.content_length or 0) > current_app.config["MAX_JSON_BYTES"]:
        raise ApiError(413, "payload_too_large", "JSONは1MiB以下にしてください。")


def _refuse_nul_characters():
    # PostgreSQL refuses NUL in text, so one in a path, query or form field became a 500 wherever
    # it met the database (a lookup as much as a write); no page of ours ever needs one. The API
    # checks each of its parameters against a pattern and answers as its OpenAPI document says.
    if request.path.startswith("/api/"):
        return
    fields = [request.path, *(k + v for k, v in request.args.items(multi=True))]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        fields += (k + v for k, v in request.form.items(multi=True))
    if any("\x00" in field for field in fields):
        raise ApiError(400, "invalid_request", "使用できない文字（NUL）が含まれています。")


def init_app(app: Flask) -> None:
    from web.body_limits import ChunkedBodyLimit, refuse_oversized_stream, refuse_unreadable_request

    requestlog.init_app(app)
    errors.init_app(app)
    from web.context import rate_limit_headers

    app.after_request(rate_limit_headers)
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    app.before_request(refuse_unreadable_request)
    app.before_request(refuse_oversized_stream)
    app.before_request(_json_size_limit)
    app.before_request(_refuse_nul_characters)
    security.init_app(app)
    db.init_app(app)

    from consent.window import format_jst
    from web import console, health
    from web.console import admin, api_clients, disaster, home_visits, medical_aid, passkeys, webhooks
    from web.patient import card, pages, reception, tablet

    from consent.vocabulary import ROLE_LABELS

    app.jinja_env.filters["jst"] = format_jst
    app.jinja_env.filters["role_label"] = ROLE_LABELS.get
    from web.consent_view import insurance_keys_text

    app.jinja_env.globals["insurance_keys"] = insurance_keys_text  # 「記号なし・60732944・枝番なし」
    from consent.units import unit_label
    from consent.wareki import format_birth_date

    app.jinja_env.filters["unit"] = unit_label  # one spelling per unit on every page (consent/units.py)
    app.jinja_env.filters["birth_date"] = format_birth_date  # 「1954年2月1日（昭和29年）」
    from web.staff_session import console_title, staff_institution_runs

    app.jinja_env.globals["staff_institution_runs"] = staff_institution_runs
    app.jinja_env.globals["console_title"] = console_title  # by the institution's kind
    # The pharmacy-system API, its OpenAPI document and its OAuth 2.0 server.
    from web import api
    from web.api import oauth, openapi
    from web import problems

    api.init_app(app)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(problems.bp)  # the pages problem details' `type` names
    app.register_blueprint(health.bp)
    metrics.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(card.bp)
    app.register_blueprint(reception.bp)
    app.register_blueprint(tablet.bp)
    from web.patient import reception_qualification

    app.register_blueprint(reception_qualification.bp)  # 資格確認限定型: 「資格確認をする」
    from web.patient import reception_certificate

    app.register_blueprint(reception_certificate.bp)  # the tablet's 「資格確認書で確認」
    from web.patient import reception_photo

    app.register_blueprint(reception_photo.bp)  # the tablet's photo check: 「暗証番号を使わずに確認（目視確認）」
    from web.patient.reception_place import contact_context

    # App-wide, not per blueprint: the error pages (web/errors.py) of a patient URL name whom to ask too.
    app.context_processor(contact_context)
    console_bp = console.blueprint(
        admin.routes, medical_aid.routes, home_visits.routes, disaster.routes, passkeys.routes, api_clients.routes,
        webhooks.routes)
    # Every console page shows the disasters covering the institution (and the 「災害時閲覧」 entry).
    console_bp.context_processor(disaster.notices)
    api_clients.init_app(app)  # the admin page's 「API連携」 section
    webhooks.init_app(app)  # ... and its webhook endpoints
    app.register_blueprint(console_bp)
    # Whose clock each audience's requests read (the sandbox lets an institution have its own).
    from web import staff_session
    from web.context import tell_institution_of_requests
    from web.patient import reception_place

    for blueprint in (reception.bp, tablet.bp, reception_qualification.bp, reception_certificate.bp,
                      reception_photo.bp, card.bp):
        tell_institution_of_requests(app, blueprint.name, reception_place.institution_of_request)
    tell_institution_of_requests(app, console_bp.name, staff_session.institution_of_request)
    tell_institution_of_requests(app, api.bp.name, api.institution_of_request)
    tell_institution_of_requests(app, oauth.bp.name, oauth.institution_of_request)
    if app.config["SETTINGS"].sandbox:
        # Not merely guarded: outside sandbox mode these routes do not exist (404).
        from web import sandbox
        from web.sandbox import demo_cards

        app.register_blueprint(sandbox.bp)
        tell_institution_of_requests(app, sandbox.bp.name, sandbox.institution_of_request)
        app.register_blueprint(demo_cards.bp)
