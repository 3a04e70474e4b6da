"""The QA sandbox API (sandbox mode only; the blueprint is not even registered elsewhere).

QA automation depends on these exact JSON shapes (docs/qa.md "The sandbox API", e2e/sandbox_client.py).
"""
from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent import disasters, home_visits, oauth_clients
from consent.clock import JST, DatabaseClock
from consent.date_input import parse_date
from consent.disasters import PREFECTURE_CODES
from consent.institution_removal import remove_institution
from consent.institutions import (
    ALL_FUNCTIONS, MAX_LAPSE_DAYS, MIN_LAPSE_DAYS, ROLES, FunctionNotAllowed, Institution, add_staff, allowed_functions,
    check_phone, check_privacy_url, create_institution, institution_by_code, set_contact,
)
from consent.qualification_only import set_qualification_only
from consent.vocabulary import (
    CLIENT_CREDENTIALS_SCOPES, DEFAULT_KIND, FUNCTIONS, INSTITUTION_KINDS, VALIDITY, role_label,
)
from integrations.card.interface import SETTABLE_STATUSES
from integrations.oqs.numbering import make_institution_code
from web.context import card_authority_for, now, oqs_for, settings, today_jst
from web.db import db, lookup, reader
from web import error_messages as words
from web.errors import ApiError
from web.jsonio import json_object
from webauthn.helpers import bytes_to_base64url

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


@bp.before_request
def _json_bodies_only():
    """Sandbox routes are exempt from CSRF because they take JSON, which a cross-site form cannot
    send: so refuse form, text and any other body (an empty form post created institutions).
    A request with neither a body nor a Content-Type (DELETE /sandbox/clock) goes through."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.is_json:
        return
    if request.mimetype or request.content_length:
        raise ApiError(415, "unsupported_media_type", words.JSON_BODY_ONLY)


# The body fields each route takes. Anything else is 422 invalid_parameter naming it: a QA suite's
# typo ("validty") silently ignored made a patient other than the one the test meant.
BODY_FIELDS: dict[str, tuple[str, ...]] = {
    "create_sandbox_institution": ("prefecture", "kind"),  # and INSTITUTION_FIELDS (below)
    "change_sandbox_institution": (),  # INSTITUTION_FIELDS
    "create_sandbox_patient": ("birth_date", "validity", "medical_aid", "insured", "entrusted_institution_codes",
                               "seed", "card"),
    "entrust_sandbox_patient": ("institution_code",),
    "create_sandbox_card": ("person_id",),
    "set_card_status": ("status",),
    "declare_sandbox_disaster": ("name", "prefectures", "institution_codes", "from", "until"),
    "set_clock": ("now",),
    "set_institution_clock": ("now",),
}
_WITH_INSTITUTION_FIELDS = ("create_sandbox_institution", "change_sandbox_institution")


@bp.before_request
def _no_query_parameters():
    """No sandbox route takes a query parameter: one sent is 422 naming it, never ignored."""
    for name in request.args:
        raise ApiError(422, "invalid_parameter", words.unknown_parameter(name, ()))


def _require_json():
    body = json_object(required=False)
    endpoint = (request.endpoint or "").rpartition(".")[2]
    allowed = BODY_FIELDS.get(endpoint)
    if allowed is not None:
        known = (*allowed, *INSTITUTION_FIELDS) if endpoint in _WITH_INSTITUTION_FIELDS else allowed
        for name in body:
            if name not in known:
                raise ApiError(422, "invalid_parameter", words.unknown_field(name, tuple(known)))
    return body


def _string(body: dict, key: str, *, max_len: int, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ApiError(422, "invalid_field", words.text_field(key, max_len))
    # Control characters and lone surrogates ("\ud800" is valid JSON) cannot be stored (PostgreSQL
    # refuses NUL; no database takes a lone surrogate): a 500 and nothing created, before.
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ApiError(422, "invalid_field", words.bad_characters(key))
    return value.strip()


def _parse_name(value: Any) -> str:
    name = _string({"name": value}, "name", max_len=100)
    if name is None:
        raise ApiError(422, "invalid_field", words.text_field("name", 100))
    return name


def _parse_functions(value: Any) -> dict[str, bool]:
    if (not isinstance(value, dict) or set(value) - set(FUNCTIONS)
            or not all(isinstance(on, bool) for on in value.values())):
        raise ApiError(422, "invalid_field",
                       words.functions_object(tuple(FUNCTIONS)))
    return value


def _apply_functions(institution: Institution, value: dict[str, bool]) -> None:
    try:
        institution.set_functions(value)
    except FunctionNotAllowed as refused:
        raise ApiError(422, "invalid_field", words.function_not_allowed(refused.kind, refused.function)) from None


def _parse_lapse_days(value: Any) -> int | None:
    """null: no lapse (the default); else 1..MAX. 0 is refused, as 環境設定 refuses it: it would end a
    relationship the day after each visit, and "never" is null."""
    if value is not None and (type(value) is not int  # bool is no number of days
                              or not MIN_LAPSE_DAYS <= value <= MAX_LAPSE_DAYS):
        raise ApiError(422, "invalid_field", words.lapse_days_range("home_visit_lapse_days", MIN_LAPSE_DAYS,
                                                                    MAX_LAPSE_DAYS))
    return value


def _apply_lapse_days(institution: Institution, days: int | None) -> None:
    if institution.id is None:  # not created yet (POST validates on a blank institution first)
        institution.home_visit_lapse_days = days
        return
    db().flush()  # the fields applied before this one
    # The institution's open relationships follow the new rule at once.
    home_visits.set_lapse_days(db(), institution_id=institution.id, days=days, now=now())


def _parse_boolean(key: str) -> Callable[[Any], bool]:
    def parse(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ApiError(422, "invalid_field", words.boolean_field(key))
        return value
    return parse


def _apply_qualification_only(institution: Institution, on: bool) -> None:
    """資格確認限定型 on or off: switching on ends the open consents' data categories (reason 3),
    audited (consent/qualification_only.py). An institution not yet stored (POST checking its
    body first) just takes the value."""
    if institution.id is None:
        institution.qualification_only = on
        return
    db().flush()  # the fields applied before this one, kept when the switch reloads the row
    set_qualification_only(db(), institution_id=institution.id, on=on, by="sandbox", now=now())


@dataclass(frozen=True)
class InstitutionField:
    """A field that POST /sandbox/institutions accepts and PATCH /sandbox/institutions/<code> changes."""

    # The JSON value -> what `apply` takes; raises ApiError 422 when it is malformed.
    parse: Callable[[Any], Any]
    apply: Callable[[Institution, Any], None]
    # The field in both answers.
    show: Callable[[Institution], Any]

    @classmethod
    def attribute(cls, name: str, parse: Callable[[Any], Any]) -> "InstitutionField":
        """A field stored as the Institution attribute of the same name."""
        return cls(parse, lambda institution, value: setattr(institution, name, value),
                   lambda institution: getattr(institution, name))


# One line per field: the sandbox's POST and PATCH, and their answers, follow this table. A field
# the body leaves out keeps its value (at creation: the model's default, or what POST sets first).
INSTITUTION_FIELDS: dict[str, InstitutionField] = {
    "name": InstitutionField.attribute("name", _parse_name),
    # Partial: {"functions": {"home_visit": false}} switches that one off and leaves the others.
    "functions": InstitutionField(_parse_functions, _apply_functions, lambda i: i.functions),
    # Home visits: days without a recorded visit before a relationship lapses (the project's rule);
    # null (the default) or PATCHed null: no lapse.
    "home_visit_lapse_days": InstitutionField(_parse_lapse_days, _apply_lapse_days,
                                              lambda i: i.home_visit_lapse_days),
    # 資格確認限定型 (default false).
    "qualification_only": InstitutionField(_parse_boolean("qualification_only"), _apply_qualification_only,
                                           lambda i: bool(i.qualification_only)),
    # Whom the patient asks, on every patient page and error page ("" clears; default "").
    "phone": InstitutionField(check_phone, lambda i, value: set_contact(i, phone=value), lambda i: i.phone or ""),
    "privacy_url": InstitutionField(check_privacy_url, lambda i, value: set_contact(i, privacy_url=value),
                                    lambda i: i.privacy_url or ""),
}


def _apply_fields(institution: Institution, body: dict, *, strict: bool = True) -> None:
    """Every field of INSTITUTION_FIELDS in the body, all validated before any is applied.
    `strict`: refuse a field not in the table (PATCH); POST leaves other keys to its own code."""
    unknown = set(body) - set(INSTITUTION_FIELDS)
    if unknown and strict:
        raise ApiError(422, "invalid_field", words.field_not_allowed(sorted(unknown)[0]))
    parsed = {key: field.parse(body[key]) for key, field in INSTITUTION_FIELDS.items() if key in body}
    for key, value in parsed.items():
        INSTITUTION_FIELDS[key].apply(institution, value)


def _institution_json(institution: Institution) -> dict:
    urls = reception_urls(institution)
    return {
        "institution_code": institution.institution_code,
        "kind": institution.kind,
        "reception_url": urls["online"],
        "reception_urls": urls,
        **{key: field.show(institution) for key, field in INSTITUTION_FIELDS.items()},
    }


@bp.post("/institutions")
def create_sandbox_institution():
    body = _require_json()
    kind = _kind(body)
    name = (_parse_name(body["name"]) if body.get("name") is not None
            else f"サンドボックス{INSTITUTION_KINDS[kind].place} {secrets.token_hex(2).upper()}")
    prefecture = _prefecture(body)
    session = db()
    # Validated before anything is written.
    _apply_fields(Institution(name=name, kind=kind),
                  {k: v for k, v in body.items() if not (k == "name" and v is None)}, strict=False)
    for _ in range(5):
        code = make_institution_code(prefecture=int(prefecture), table=INSTITUTION_KINDS[kind].table,
                                     serial=secrets.randbelow(1_000_000))
        try:
            # The sandbox switches on every function the kind may run, unless told otherwise.
            institution = create_institution(session, code=code, name=name, now=now(),
                                             functions=allowed_functions(kind, ALL_FUNCTIONS))
            institution.sandbox_made = True  # DELETE /sandbox/institutions/<code> may remove it
            break
        except IntegrityError:
            session.rollback()
    else:  # pragma: no cover - a million codes make five collisions in a row unthinkable
        raise ApiError(409, "conflict", words.CODE_NOT_ASSIGNED)
    _apply_fields(institution, {k: v for k, v in body.items() if k != "name"}, strict=False)
    session.flush()
    staff = []
    suffix = secrets.token_hex(4)
    for role in ROLES:
        login_id = f"{role}-{suffix}"
        password = secrets.token_urlsafe(12)
        add_staff(session, institution, login_id=login_id, password=password, role=role, now=now())
        staff.append({"login_id": login_id, "password": password, "role": role,
                      "role_label": role_label(role, kind)})
    result = {**_institution_json(institution), "staff": staff}
    result.update(_api_client(session, institution))
    session.commit()
    return jsonify(result), 201


def _api_client(session: Session, institution: Institution) -> dict[str, Any]:
    """The `api_client` key of POST /sandbox/institutions: a client-credentials API client for QA."""
    client, secret = oauth_clients.register_client(
        session, institution_id=institution.id, name="サンドボックス連携（システム処理）",
        grant_type=oauth_clients.CLIENT_CREDENTIALS, scopes=sorted(CLIENT_CREDENTIALS_SCOPES), now=now(),
    )
    return {"api_client": {"client_id": client.client_id, "client_secret": secret}}


def _kind(body: dict) -> str:
    """`"kind"`: pharmacy (default), clinic, dental or visiting_nurse; the code gets its 点数表番号."""
    value = body.get("kind", DEFAULT_KIND)
    if not isinstance(value, str) or value not in INSTITUTION_KINDS:
        raise ApiError(422, "invalid_field", f"kind は {', '.join(INSTITUTION_KINDS)} のいずれかで指定してください。")
    return value


def _prefecture(body: dict) -> str:
    """`"prefecture"`: the institution code's first two digits (01-47, default "13" 東京都), so QA
    can place institutions inside and outside a disaster's area."""
    value = body.get("prefecture", "13")
    if not isinstance(value, str) or value not in PREFECTURE_CODES:
        raise ApiError(422, "invalid_field", words.PREFECTURE_CODE)
    return value


def _sandbox_institution(session: Session, code: str) -> Institution:
    institution = institution_by_code(session, code[:10])
    if institution is None:
        raise ApiError(404, "not_found", words.NO_SUCH_INSTITUTION)
    return institution


def institution_of_request() -> int | None:
    """Whose clock a sandbox request reads: the institution its URL names (PATCH, its clock)."""
    code = (request.view_args or {}).get("code")
    if not isinstance(code, str):
        return None
    with lookup() as session:
        institution = institution_by_code(session, code[:10])
        return institution.id if institution is not None else None


@bp.patch("/institutions/<code>")
def change_sandbox_institution(code: str):
    body = _require_json()
    session = db()
    institution = _sandbox_institution(session, code)
    _apply_fields(institution, body)
    session.flush()
    result = _institution_json(institution)
    session.commit()
    return jsonify(result)


@bp.delete("/institutions/<code>")
def delete_sandbox_institution(code: str):
    """Clean-up after a QA suite: the institution made through the sandbox goes with everything it
    holds (consents, visits, staff, API clients, events, its audit chain): 204. The demo's and an
    operator's are 409 (`flask --app app demo reset` restores the demo's)."""
    session = db()
    remove_institution(session, _sandbox_institution(session, code))  # RemovalError: 409
    session.commit()
    return "", 204


def reception_url(token: str) -> str:
    base = settings().origins[0]
    if "reception.top" in current_app.view_functions:
        return base + url_for("reception.top", token=token)
    return f"{base}/r/{token}"


def reception_urls(institution: Institution) -> dict[str, str]:
    """Absolute URLs, one per entry point (vocabulary.RECEPTION_SETTINGS); `online` is reception_url."""
    return {name: reception_url(token) for name, token in institution.reception_tokens.items()}


def _parse_birth_date(body: dict) -> date | None:
    raw = body.get("birth_date")
    if raw is None:
        return None
    value = parse_date(raw)  # YYYY-MM-DD only (not a week date like 2026-W50-1)
    if value is None:
        raise ApiError(422, "invalid_field", words.BIRTH_DATE_FORMAT)
    if value > today_jst() or value.year < 1900:
        raise ApiError(422, "invalid_field", words.BIRTH_DATE_RANGE)
    return value


@bp.post("/patients")
def create_sandbox_patient():
    body = _require_json()
    birth_date = _parse_birth_date(body)
    validity = body.get("validity")
    if validity is not None and (not isinstance(validity, int) or isinstance(validity, bool) or validity not in VALIDITY):
        raise ApiError(422, "invalid_field", words.integer_range("validity", min(VALIDITY), max(VALIDITY)))
    medical_aid = body.get("medical_aid", False)
    if not isinstance(medical_aid, bool):
        raise ApiError(422, "invalid_field", words.boolean_field("medical_aid"))
    # 併用: health insurance kept beside the medical aid (the simulator refuses it without medical_aid).
    insured = body.get("insured", False)
    if not isinstance(insured, bool):
        raise ApiError(422, "invalid_field", words.boolean_field("insured"))
    entrusted = body.get("entrusted_institution_codes")
    if entrusted is not None:
        if (not isinstance(entrusted, list) or len(entrusted) > 50
                or not all(isinstance(c, str) and c.isdigit() and len(c) == 10 for c in entrusted)):
            raise ApiError(422, "invalid_field", words.ENTRUSTED_CODES)
        if not medical_aid:
            raise ApiError(422, "invalid_field", words.ENTRUSTED_NEEDS_MEDICAL_AID)
    # false: the person holds only a 資格確認書 (their card is not registered for health insurance
    # use): a card made for them (POST /sandbox/cards) is refused at every read, card_unlinked.
    holds_card = body.get("card", True)
    if not isinstance(holds_card, bool):
        raise ApiError(422, "invalid_field", words.boolean_field("card"))
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**62):
        raise ApiError(422, "invalid_field", words.SEED_FIELD)
    session = db()
    # `seed` (optional, ours): the same seed gives the same histories, for repeatable tests.
    # The simulator's own refusals (InvalidInput) are answered 422 invalid_field.
    person = oqs_for(session).create_person(
        today=today_jst(), birth_date=birth_date, validity=validity, medical_aid=medical_aid,
        entrusted_institution_codes=entrusted, seed=seed, insured=insured,
    )
    if not holds_card:
        card_authority_for(session).mark_unlinked(person_id=person.person_id, now=now())
    session.commit()
    result = {
        "person_id": person.person_id,
        "name": person.name,
        "birth_date": person.birth_date.isoformat(),
        "insurer_number": person.insurer_number,
        "symbol": person.symbol,
        "number": person.number,
        "branch": person.branch,
        "card": holds_card,
    }
    if medical_aid:
        result.update(
            public_payer_number=person.public_payer_number,
            recipient_number=person.recipient_number,
            entrusted_institution_codes=list(person.entrusted_institution_codes),
        )
    return jsonify(result), 201


@bp.post("/patients/<person_id>/entrustments")
def entrust_sandbox_patient(person_id: str):
    """The welfare office entrusts a medical-aid recipient to an institution, e.g. after a visit there
    answered 6 (未委託): its tickets then appear in the bulk fetch. 201 when new, 200 when already so."""
    body = _require_json()
    code = _string(body, "institution_code", max_len=10)
    if code is None:
        raise ApiError(422, "invalid_field", words.field_required("institution_code"))
    session = db()
    if institution_by_code(session, code) is None:
        # The sandbox entrusts to this service's institutions only (a made-up code went through: 201).
        raise ApiError(422, "invalid_field", words.institution_not_registered(code))
    # Unknown person: 404 not_found; no medical aid or a malformed code: 422 invalid_field.
    added = oqs_for(session).register_entrustment(person_id=person_id[:64], institution_code=code)
    session.commit()
    return jsonify(person_id=person_id, institution_code=code), 201 if added else 200


@bp.post("/cards")
def create_sandbox_card():
    body = _require_json()
    person_id = _string(body, "person_id", max_len=64)
    if person_id is None:
        raise ApiError(422, "invalid_field", words.field_required("person_id"))
    session = db()
    person = oqs_for(session).person(person_id)
    if person is None:
        raise ApiError(404, "not_found", words.NO_SUCH_PERSON)
    issued = card_authority_for(session).issue_card(person_id=person_id, birth_date=person.birth_date, now=now())
    session.commit()
    card = issued.card
    return jsonify(
        card_id=card.card_id,
        rp_id=settings().rp_id,
        credential_id=bytes_to_base64url(card.credential_id),
        user_handle=bytes_to_base64url(card.user_handle),
        # Standard base64 of PKCS#8 DER: what Chromium's WebAuthn.addCredential takes.
        private_key=base64.b64encode(issued.private_key_pkcs8).decode(),
        sign_count=card.sign_count,
        valid_from=card.valid_from.isoformat(),
        valid_until=card.valid_until.isoformat(),
    ), 201


@bp.get("/cards/<card_id>")
def get_sandbox_card(card_id: str):
    """The card's status and the sign count last accepted: a QA test that installs the card in a
    new browser context starts its virtual authenticator there, or its first read looks cloned."""
    card = card_authority_for(db()).get(card_id[:40])
    if card is None:
        raise ApiError(404, "not_found", words.NO_SUCH_CARD)
    return jsonify(card_id=card.card_id, status=card.status, sign_count=card.sign_count)


@bp.post("/cards/<card_id>/status")
def set_card_status(card_id: str):
    body = _require_json()
    status = body.get("status")
    if status not in SETTABLE_STATUSES:
        raise ApiError(422, "invalid_field", words.CARD_STATUS_CHOICES)
    session = db()
    card = card_authority_for(session).set_status(card_id, status, now=now())  # UnknownCard: 404 not_found
    session.commit()
    return jsonify(card_id=card.card_id, status=card.status)


def _instant(body: dict, key: str) -> datetime:
    """An ISO 8601 instant with its offset (2026-12-04T23:59:59+09:00), else 422."""
    raw = body.get(key)
    try:
        instant = None
        if isinstance(raw, str) and len(raw) <= 40:
            instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if instant is not None and instant.tzinfo is not None:
            instant = instant if instant.astimezone(timezone.utc).year in CLOCK_YEARS else None
    except (ValueError, OverflowError):
        instant = None
    if instant is None or instant.tzinfo is None:
        raise ApiError(422, "invalid_field", words.timestamp_field(key))
    return instant


def _code_list(body: dict, key: str, *, max_items: int = 200) -> list[str]:
    value = body.get(key, [])
    if (not isinstance(value, list) or len(value) > max_items
            or not all(isinstance(v, str) and len(v) <= 20 for v in value)):
        raise ApiError(422, "invalid_field", words.string_list(key))
    return value


@bp.post("/disasters")
def declare_sandbox_disaster():
    """Declare a disaster (災害時特別措置) as an operator would: 201 {"disaster_id"}; 422 for an empty
    area, an unknown prefecture or institution, `until` not after `from`, or an area and period
    intersecting an active disaster's (nothing written)."""
    body = _require_json()
    name = body.get("name")
    if not isinstance(name, str):
        raise ApiError(422, "invalid_field", words.text_field("name", 100))
    prefectures, codes = _code_list(body, "prefectures", max_items=47), _code_list(body, "institution_codes")
    starts_at, ends_at = _instant(body, "from"), _instant(body, "until")
    session = db()
    disaster = disasters.declare(session, name=name, prefectures=prefectures, institution_codes=codes,
                                 starts_at=starts_at, ends_at=ends_at, now=now())  # DisasterError: 422
    session.commit()
    return jsonify(disaster_id=disaster.id), 201


# The years the sandbox clock may be set to. Every request computes from it (a window's end,
# 30 days ahead, years of history, a synthetic life): near the calendar's ends those fail, so a
# clock set there turned every later request into a 500.
CLOCK_YEARS = range(2000, 2100)


def _db_clock() -> DatabaseClock:
    clock = current_app.extensions["clock"]
    if not isinstance(clock, DatabaseClock):
        raise ApiError(409, "clock_not_settable", words.CLOCK_NOT_SETTABLE)
    return clock


def _clock_instant(body: dict) -> datetime:
    """The body's `now`: an ISO 8601 instant with its offset, in CLOCK_YEARS; else 422."""
    raw = body.get("now")
    try:
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00")) if isinstance(raw, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise ApiError(422, "invalid_field", words.timestamp_field("now", "2026-12-04T23:59:59+09:00"))
    try:
        year = instant.astimezone(timezone.utc).year
    except OverflowError:  # 0001-01-01T00:00+09:00 has no UTC instant
        year = None
    if year not in CLOCK_YEARS:
        raise ApiError(422, "invalid_field", words.clock_years(CLOCK_YEARS[0], CLOCK_YEARS[-1]))
    return instant


@bp.put("/clock")
def set_clock():
    """The global clock, shared by every institution without a clock of its own (and by every
    suite on this sandbox): a suite running beside others moves its institution's clock instead."""
    frozen = _db_clock().freeze(_clock_instant(_require_json()))
    return jsonify(now=_rfc3339(frozen))


@bp.delete("/clock")
def reset_clock():
    clock = _db_clock()
    clock.thaw()
    return jsonify(now=_rfc3339(clock.now()))


@bp.get("/clock")
def get_clock():
    return jsonify(now=_rfc3339(current_app.extensions["clock"].now()))


@bp.put("/institutions/<code>/clock")
def set_institution_clock(code: str):
    """The institution's own clock: it wins over the global one for everything evaluated for the
    institution (its reception, console, tablets, API, disasters, lapses, events) until deleted."""
    body = _require_json()
    clock = _db_clock()
    institution_id = _sandbox_institution(reader(), code).id
    return jsonify(now=_rfc3339(clock.freeze_institution(institution_id, _clock_instant(body))))


@bp.delete("/institutions/<code>/clock")
def reset_institution_clock(code: str):
    """Back to the global clock for this institution: 200 with the time it now reads."""
    clock = _db_clock()
    return jsonify(now=_rfc3339(clock.thaw_institution(_sandbox_institution(reader(), code).id)))


@bp.get("/institutions/<code>/clock")
def get_institution_clock(code: str):
    _sandbox_institution(reader(), code)  # 404 for an unknown code
    return jsonify(now=_rfc3339(now()))


def _rfc3339(instant: datetime) -> str:
    """The clock as the API writes every timestamp: JST (+09:00), to the second."""
    return instant.astimezone(JST).isoformat(timespec="seconds")
