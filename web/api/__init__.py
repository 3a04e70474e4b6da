"""The pharmacy-system API: JSON resources under /api, behind OAuth 2.0 bearer tokens (web/api/oauth.py).

Every data read names the consent it relies on and is judged by consent.decision.decide at the
moment of the request (and so lands in the audit log, allowed or not). Errors are the app's
`{"error", "message"}`: 401 no/bad/expired/revoked token, 403 scope or consent refuses (the code
says which), 404 unknown or another institution's consent (no hint which), 422 bad parameters,
429 too many requests. The OpenAPI document (web/api/openapi.py) describes exactly these routes: the data reads are declared
once, in DATA_READS, which both registers them and describes them; the consent object is the
`ApiConsent` dataclass, whose schema is derived from its fields.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask import Blueprint, Flask, g, jsonify, request

from consent import grants
from consent import oauth_clients
from consent.actors import Actor
from consent.category_states import current_states, item_states
from consent.clock import JST
from consent.date_input import YEAR_MONTH_PATTERN, parse_date, parse_month
from consent.app import batch, home_visits as app_home_visits, reads, revocation
from consent.decision import INSUFFICIENT_SCOPE, NOT_FOUND, QUALIFICATION_ONLY, ReadRefused
from consent.institutions import runs_function
from consent.insurance_keys import KEY_FIELDS, parse_insurance_keys
from consent.medication_review import drug_lines, record_ids
from consent.models import ConsentView
from consent.patient_keys import existing_patient_id, patient_ids_for
from consent.staff_auth import StaffIdentity, load_identity
from consent.vocabulary import (
    BINARY_FLAG, CARE_SETTINGS, CATEGORIES, CATEGORY_LABELS, CATEGORY_OF_ITEM, CONSENT_FLAGS, CONSENTS_SCOPE,
    EVENTS_SCOPE, EXPIRY_REASONS, INSURANCE_KEY_LABELS, ITEM_LABELS, ITEMS,
    REFERENCE_NUMBER_LABEL, FUNCTION_HOME_VISIT, FUNCTION_MEDICAL_AID, INSTITUTION_REVOCATION_REASONS, QUALIFICATION,
    SCOPE_OF_CATEGORY, STATUS_LABELS, SOURCES, SOURCE_CARD, VERIFICATIONS,
)
from integrations.oqs.results import (
    CheckupRecord, ClinicalInfo, DrugRecord, LimitInfo, Qualification, SpecificDiseaseCertificate, SurgeryInfo,
)
from web.context import RATE_LIMITS, client_address, engine_of_app, enforce_rate_limits, now, oqs_for, today_jst
from web import metrics
from web.api import oauth
from web.api import events as api_events
from web.db import db, lookup, reader
from web.errors import ApiError
from web import error_messages as words
from web.error_messages import TICKETS_QUALIFICATION_ONLY
from web.jsonio import json_object

bp = Blueprint("api", __name__, url_prefix="/api")

CONSENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Years 1900-2099 only: `000001` passed a looser pattern and broke the month's first day (a 500).
YEAR_MONTH = re.compile(YEAR_MONTH_PATTERN)
MAX_BATCH_ROWS = 1000  # as the console's CSV upload
BATCH_ROW_KEYS = (*KEY_FIELDS, "reference_number")
BATCH_FIELD_LABELS = {**INSURANCE_KEY_LABELS, "reference_number": REFERENCE_NUMBER_LABEL}
# Per client address and minute: requests with a missing or bad token (then 429 instead of 401).
BAD_TOKEN_LIMIT = 60
# Per client and minute: batch inquiries (up to 1,000 rows each).
BATCH_LIMIT = 30
# The TokenRefused code for a request without a bearer token (401 unauthorized, no error= hint).
MISSING = "missing"


# --- authentication ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    grant: oauth_clients.AccessGrant
    actor: Actor
    staff: StaffIdentity | None
    institution_code: str


def institution_of_request() -> int | None:
    """Whose clock an API request reads: the institution its bearer token was issued for."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    with lookup() as session:
        return oauth_clients.institution_of_access_token(session, token.strip())


def _unauthorized(refused: oauth_clients.TokenRefused):
    # Guessing tokens from one address soon meets a 429 (counted in its own transaction).
    enforce_rate_limits([("api:bad-token", client_address(), BAD_TOKEN_LIMIT)])
    g.api_challenge = 'Bearer realm="api"' + (', error="invalid_token"' if refused.code != MISSING else "")
    raise refused


def authenticate(scope: str | None) -> Caller:
    """The caller behind the bearer token, if the token is valid and carries `scope`.

    scope=None leaves the scope to the consent decision (data reads: a refusal is audited there).
    """
    now()  # read the (sandbox) clock before this request's transaction may hold SQLite's write lock
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        _unauthorized(oauth_clients.TokenRefused(MISSING))
    try:
        grant = oauth_clients.access_grant(reader(), token, now())
    except oauth_clients.TokenRefused as refused:
        _unauthorized(refused)
    staff = None
    if grant.staff_id is not None:
        # Checked on every use: a disabled staff member's tokens stop at once.
        staff = load_identity(reader(), grant.staff_id)
        if staff is None or staff.institution_id != grant.institution_id:
            _unauthorized(oauth_clients.TokenRefused(oauth_clients.REVOKED))
        actor = staff.actor(client_id=grant.client_id)
    else:
        actor = Actor.for_client(client_id=grant.client_id, institution_id=grant.institution_id)
    if scope is not None and scope not in grant.scopes:
        raise _scope_refusal(scope)
    return Caller(grant, actor, staff, grant.institution_code)


def _scope_refusal(scope: str) -> oauth_clients.TokenRefused:
    g.api_challenge = f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'
    return oauth_clients.TokenRefused(INSUFFICIENT_SCOPE, detail=scope)


@bp.after_request
def _challenge(response):
    challenge = g.pop("api_challenge", None)
    if challenge and response.status_code in (401, 403):
        response.headers["WWW-Authenticate"] = challenge
    return response




# --- parameters --------------------------------------------------------------------------------


def _invalid(name: str, message: str):
    raise ApiError(422, "invalid_parameter", message)


def _query_params_of(endpoint: str | None) -> tuple[str, ...]:
    """The query parameters a route takes (its OpenAPI document lists the same)."""
    if endpoint == "api.list_consents":
        return ("date",)
    if endpoint == "api.entrusted_tickets":
        return ("month",)
    if endpoint == "api.list_events":
        return ("after", "limit")
    for read in DATA_READS:
        if endpoint == f"api.{read.endpoint}":
            return tuple(p.name for p in read.params)
    return ()


@bp.before_request
def _known_query_parameters():
    """An unknown or empty query parameter is 422 naming it: `?since=` or `?page=2` ignored
    answered the whole list, and `?date=` (empty) answered today's, as if they had been honoured."""
    if not request.path.startswith("/api/v1/"):
        return
    allowed = _query_params_of(request.endpoint)
    for name, value in request.args.items(multi=True):
        if name not in allowed:
            _invalid(name, words.unknown_parameter(name, allowed))
        if value == "":
            _invalid(name, words.empty_parameter(name))


def _fields(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """`body`, refusing a field the operation does not take (422 naming it)."""
    for name in body:
        if name not in allowed:
            _invalid(name, words.unknown_field(name, allowed))
    return body


def _consent_id(raw: str) -> str:
    if not CONSENT_ID.match(raw):
        # Not an id we could have issued: the same answer as an unknown one.
        raise ReadRefused(NOT_FOUND)
    return raw


def _date_param(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    day = parse_date(raw)
    if day is None:
        _invalid(name, words.date_format(name))
    return day


@dataclass(frozen=True)
class QueryParam:
    """An optional query parameter of a data read, checked against `pattern`."""

    name: str
    description: str
    pattern: re.Pattern[str]
    # How to write it, said when the value does not match (after the parameter's name).
    hint: str


def _query_param(param: QueryParam) -> str | None:
    raw = request.args.get(param.name)
    if raw is None or raw == "":
        return None
    if not param.pattern.match(raw):
        _invalid(param.name, words.written_as(param.name, param.hint))
    return raw


def _iso(instant: datetime | None) -> str | None:
    """RFC 3339 in JST with its offset, to the second (2026-11-25T00:00:00+09:00)."""
    # To the second: one shape for every timestamp (some fields carried microseconds).
    return instant.astimezone(JST).isoformat(timespec="seconds") if instant is not None else None


# --- consents ------------------------------------------------------------------------------------


def _schema(**keywords: Any) -> dict[str, Any]:
    """Field metadata the OpenAPI document adds to the schema derived from the field's type."""
    return {"schema": keywords}


@dataclass(frozen=True)
class ApiPerson:
    """The person as the OQS knows them; null fields when unknown."""

    schema_name = "Person"

    name: str | None
    kana: str | None
    birth_date: date | None


@dataclass(frozen=True)
class ApiPatientInsurance:
    """The insurance keys the consent was registered with, as the real 同意済資格情報 result carries them.

    They are the qualification confirmed at reception: what a pharmacy system matches its patient
    master by."""

    schema_name = "PatientInsurance"

    insurer_number: str | None = field(metadata=_schema(description="保険者番号"))
    symbol: str | None = field(metadata=_schema(description="被保険者証記号（ないときは null）"))
    number: str | None = field(metadata=_schema(description="被保険者証番号"))
    branch: str | None = field(metadata=_schema(description="被保険者証枝番（ないときは null）"))

    @classmethod
    def of(cls, qualification) -> "ApiPatientInsurance":
        return cls(qualification.insurer_number, qualification.symbol, qualification.number, qualification.branch)


@dataclass(frozen=True)
class ApiCategoryState:
    """One category of a consent, as the real interface reports it (同意フラグ, times, 期限切れ理由)."""

    schema_name = "CategoryState"

    category: str = field(metadata=_schema(enum=list(CATEGORIES)))
    flag: int = field(metadata=_schema(
        enum=list(CONSENT_FLAGS), description="同意フラグ: " + "、".join(f"{k} {v}" for k, v in CONSENT_FLAGS.items())))
    consented_at: datetime | None
    expires_at: datetime | None = field(metadata=_schema(
        description="この時刻を含まない。期限のないもの（限度額、訪問診療等の同意のすべての項目）は null"))
    expiry_reason: int | None = field(metadata=_schema(
        enum=[*EXPIRY_REASONS, None],
        description="同意有効期限切れ理由: " + "、".join(f"{k} {v}" for k, v in EXPIRY_REASONS.items())
        + "。終わった項目だけにあり、同意したことのない項目は null"))
    ended_at: datetime | None = field(metadata=_schema(
        description="同意が終わった時刻（期限到来・取消）。続いている項目と同意したことのない項目は null。"
                    + "・".join(CATEGORY_LABELS[c] for c in BINARY_FLAG)
                    + "の同意フラグは 0 か 1 だけで、取消のあとは 0 に戻り、consented_at・ended_at・expiry_reason が残る"))


@dataclass(frozen=True)
class ApiItemState:
    """One item of 項目ごとの同意 (2025), derived from the category the patient chose that covers it."""

    schema_name = "ItemState"

    item: str = field(metadata=_schema(
        enum=list(ITEMS), description="項目: " + "、".join(
            f"{i} {ITEM_LABELS[i]}（{CATEGORY_LABELS[CATEGORY_OF_ITEM[i]]}の同意による）" for i in ITEMS)))
    flag: int = field(metadata=_schema(
        enum=list(CONSENT_FLAGS), description="同意フラグ（その項目を含む分類のもの）: "
        + "、".join(f"{k} {v}" for k, v in CONSENT_FLAGS.items())))
    consented_at: datetime | None
    available_until: datetime | None = field(metadata=_schema(
        description="閲覧できる期限（この時刻を含まない）。同意していない項目と、期限のない同意（訪問診療等）は null"))


@dataclass(frozen=True)
class ApiConsent:
    """A consent as the API answers it (the list's items and GET /api/v1/consents/{id})."""

    schema_name = "Consent"

    id: str
    patient_id: str | None = field(metadata=_schema(
        pattern=r"^pat_[A-Za-z0-9_-]{22}$",
        description="この医療機関等での患者ID（医療機関等ごとに異なり、変わらない。events の patient_id と同じ）。"
                    "患者マスタとの突き合わせのキー"))
    person: ApiPerson
    # Only for a token that also holds the qualification scope: the keys are qualification data.
    patient: ApiPatientInsurance | None = field(metadata=_schema(
        description="同意を登録したときの保険者番号・記号・番号・枝番（受付時に確認した資格情報）。"
                    "qualification のスコープを持つトークンだけに答え、それ以外は null"))
    status: str = field(metadata=_schema(enum=list(STATUS_LABELS)))
    status_label: str = field(metadata=_schema(enum=list(STATUS_LABELS.values())))
    categories: tuple[str, ...] = field(metadata=_schema(items={"type": "string", "enum": list(CATEGORIES)}))
    consultation_date: date
    care_setting: int = field(metadata=_schema(enum=list(CARE_SETTINGS)))
    consented_at: datetime
    window_end: datetime | None = field(metadata=_schema(
        description="閲覧期限（この時刻を含まない）。ISO 8601、日本時間の時差つき。訪問診療等（訪問患者）の同意は null"))
    revoked_at: datetime | None
    reference_number: str | None = field(metadata=_schema(description="照会番号"))
    house_call: bool = field(metadata=_schema(
        description="往診（診療区分 2、訪問のたびに資格確認と同意。閲覧期限は訪問日の翌日末まで）"))
    category_states: tuple[ApiCategoryState, ...] = field(metadata=_schema(
        minItems=len(CATEGORIES), maxItems=len(CATEGORIES), description="分類ごとの同意の状態（すべての分類）"))
    items: tuple[ApiItemState, ...] = field(metadata=_schema(
        minItems=len(ITEMS), maxItems=len(ITEMS),
        description="項目ごとの同意の状態（傷病名・感染症・その他アレルギー等・薬剤アレルギー等・検査・処方情報）。"
                    "患者さんが選んだ分類から決まる（診療・アレルギー・検査 → other_allergy・drug_allergy・lab、"
                    "手術・傷病名・感染症 → disease・infection、薬剤・処方 → prescription）"))
    last_visit_date: date | None = field(metadata=_schema(
        description="訪問診療等（訪問患者）の同意: 最後に記録された訪問日。その他の同意は null"))
    lapses_at: datetime | None = field(metadata=_schema(
        description="訪問診療等（訪問患者）の同意: 訪問の記録がないまま終了する時刻（この時刻を含まない。"
                    "最後の訪問日から医療機関等の設定日数＋1日後の0時、日本時間）。医療機関等が日数を設定していない"
                    "（既定）同意は訪問の記録がなくても終了せず null。訪問終了・取消で終わった同意"
                    "（revoked_at あり）とその他の同意も null"))
    updated_at: datetime = field(metadata=_schema(
        description="同意が最後に変わった時刻（登録、項目の変更、取消、訪問の記録など）"))
    source: str = field(metadata=_schema(
        enum=list(SOURCES),
        description="資格をどう確認したか: card（マイナンバーカードの読み取り、患者さんの同意）、certificate"
                    "（資格確認書の番号を職員が入力。同意の項目はなく、資格情報のほかはすべて 403 certificate_only）"))
    verification: str = field(metadata=_schema(
        enum=list(VERIFICATIONS),
        description="登録のときの本人確認: " + "、".join(f"{k} {v}" for k, v in VERIFICATIONS.items())
                    + "（カードの顔写真を職員が見比べる。医療機関等のタブレットでの訪問診療等・往診の受付だけ）。"
                    "source が certificate（資格確認書）の記録はカードを読んでいないため、pin のままで意味を持たない"))

    @classmethod
    def of(cls, consent, person, reference_number: str | None, current: datetime, *, patient_id: str | None = None,
           patient: ApiPatientInsurance | None = None) -> "ApiConsent":
        """`person`: the OQS identity (name, kana, birth date) or record, None when unknown."""
        status = grants.status_code_at(consent, current)
        states = current_states(consent, current)
        return cls(
            id=consent.id,
            patient_id=patient_id,
            person=ApiPerson(person.name, person.kana, person.birth_date) if person else ApiPerson(None, None, None),
            patient=patient,
            status=status,
            status_label=STATUS_LABELS[status],
            categories=tuple(consent.categories),
            consultation_date=consent.consultation_date,
            care_setting=consent.care_setting,
            consented_at=consent.consented_at,
            window_end=consent.window_end,
            revoked_at=consent.revoked_at,
            reference_number=reference_number,
            house_call=bool(consent.house_call),
            # Every category as at `current`: flag 1 past its expiry reads as 2 (reason 0).
            category_states=tuple(
                ApiCategoryState(s.category, s.flag, s.consented_at, s.expires_at, s.expiry_reason, s.ended_at)
                for s in states),
            items=tuple(ApiItemState(i.item, i.flag, i.consented_at, i.available_until) for i in item_states(states)),
            last_visit_date=consent.last_visit_date,
            # An ended relationship (訪問終了, the patient's 取消) lapses no more: revoked_at says when it ended.
            lapses_at=None if consent.revoked_at is not None else consent.lapses_at,
            updated_at=consent.updated_at,
            source=consent.source or SOURCE_CARD,
            verification=consent.verification,
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(value: Any) -> Any:
    """JSON of a field: instants in JST with their offset, dates as ISO, dataclasses as objects."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@bp.get("/v1/consents")
def list_consents():
    caller = authenticate("consents")
    day = _date_param("date") or today_jst()
    oqs, current = oqs_for(reader()), now()
    consents = grants.consents_for_date(reader(), institution_id=caller.grant.institution_id, consultation_date=day)
    # Two queries for the day, not two per consent.
    person_ids = [c.person_id for c in consents]
    people = oqs.identities(person_ids)
    references = oqs.reference_numbers(institution_code=caller.institution_code, person_ids=person_ids)
    patient_ids = patient_ids_for(reader(), caller.grant.institution_id, person_ids)
    response = jsonify(date=day.isoformat(), consents=[
        ApiConsent.of(c, people.get(c.person_id), references.get(c.person_id), current,
                      patient_id=patient_ids.get(c.person_id), patient=_patient_insurance(caller, oqs, c)).to_dict()
        for c in consents])
    # A poller sends back the ETag: 304 while nothing in the answer changed (an expiry changes it).
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


@bp.get("/v1/events")
def list_events():
    """The institution's events after the cursor `after`, oldest first [events]."""
    caller = authenticate(EVENTS_SCOPE)
    return api_events.feed(caller.grant.institution_id)


@bp.get("/v1/consents/<consent_id>")
def get_consent(consent_id: str):
    caller = authenticate("consents")
    consent = grants.get_consent(reader(), institution_id=caller.grant.institution_id,
                                 consent_id=_consent_id(consent_id))
    if consent is None:
        raise ReadRefused(NOT_FOUND)
    return jsonify(_api_consent(caller, consent))


@bp.post("/v1/consents/<consent_id>/revocation")
def revoke_consent(consent_id: str):
    """The institution ends a consent: {"reason": 1 (by the institution, e.g. 訪問終了) | 3 (use changed)}."""
    caller = authenticate("consents")
    consent_id = _consent_id(consent_id)
    # The console's rule on this path too, before the body is looked at: audited and refused.
    revocation.refuse_unless_permitted(db(), actor=caller.actor, consent_id=consent_id, now=now())
    reason = _fields(json_object(required=True), ("reason",)).get("reason")
    if type(reason) is not int or reason not in INSTITUTION_REVOCATION_REASONS:  # bool is no reason
        _invalid("reason", words.REVOCATION_REASON)
    consent = revocation.end_consent(db(), actor=caller.actor, consent_id=consent_id, reason=reason, now=now(),
                                     metrics=metrics)
    return jsonify(_api_consent(caller, consent))


def _api_consent(caller: Caller, consent) -> dict[str, Any]:
    oqs = oqs_for(reader())
    reference = oqs.reference_number(institution_code=caller.institution_code, person_id=consent.person_id)
    patient_id = existing_patient_id(reader(), caller.grant.institution_id, consent.person_id)
    return ApiConsent.of(consent, oqs.person(consent.person_id), reference, now(), patient_id=patient_id,
                         patient=_patient_insurance(caller, oqs, consent)).to_dict()


def _patient_insurance(caller: Caller, oqs: Any, consent) -> ApiPatientInsurance | None:
    """The keys the consent was registered with, for a token holding the qualification scope (else
    None): the qualification as confirmed at reception, as the /qualification read loads it."""
    if QUALIFICATION not in caller.grant.scopes:
        return None
    subject = reads.Subject.of_consent(consent, institution_code=caller.institution_code, today=today_jst())
    return ApiPatientInsurance.of(reads.load(QUALIFICATION, oqs, subject))


def _by(caller: Caller) -> str:
    """Who acts, for the records: the staff member behind the token, else the client."""
    by = f"staff:{caller.staff.staff_id}" if caller.staff is not None else f"client:{caller.grant.client_id}"
    return by[:64]


# --- home visits: 再照会 and recorded visits --------------------------------------------------------

REINQUIRY_KEYS = KEY_FIELDS


def _home_visits_switched_on(caller: Caller) -> None:
    """訪問診療等 switched off (環境設定) is off here too, as 医療扶助 is for the ticket fetch."""
    if not runs_function(reader(), caller.grant.institution_id, FUNCTION_HOME_VISIT):
        raise ApiError(403, "function_off", words.HOME_VISITS_OFF)


def _reinquiry_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body as consent/insurance_keys.py parses it, with the batch API's `YYYYMMDD` birth date
    (deprecated) turned into `YYYY-MM-DD` first: one client sends one form to both routes."""
    born = body.get("birth_date")
    compact = parse_date(born, compact=True) if isinstance(born, str) and born.isdigit() else None
    return {**body, "birth_date": compact.isoformat()} if compact is not None else body


@bp.post("/v1/reinquiries")
def reinquiries():
    """再照会: the current qualification by insurance keys, without the card, and this institution's
    home-visit consent of that person (or null). Nobody matching - a wrong birth date included - is
    the same 404, audited as a refused read."""
    caller = authenticate(QUALIFICATION)
    _home_visits_switched_on(caller)
    app_home_visits.count_reinquiry(RATE_LIMITS, caller.actor)
    # The console's forms take the same keys the same way (KeysRefused: 422 invalid_parameter).
    keys = parse_insurance_keys(_reinquiry_body(_fields(json_object(required=True), REINQUIRY_KEYS)))
    # Malformed keys (a wrong check digit) are the OQS's InvalidInput: 422, nothing written.
    found = app_home_visits.reinquire(db(), oqs_for(reader()), actor=caller.actor,
                                      institution_code=caller.institution_code, keys=keys, today=today_jst(),
                                      now=now(), metrics=metrics)
    if not found.found:
        raise ApiError(404, NOT_FOUND, words.REINQUIRY_NOBODY)
    return jsonify(qualification=_without_person_id(found.qualification.to_dict()),
                   consent=_api_consent(caller, found.consent) if found.consent is not None else None)


def _without_person_id(qualification: dict[str, Any]) -> dict[str, Any]:
    """A qualification found by insurance keys, as the API answers it: the service's internal
    person id is nobody's business outside it (null here and in `others`)."""
    return {**qualification, "person_id": None,
            **({"others": [_without_person_id(o) for o in qualification["others"]]}
               if qualification.get("others") else {})}


@bp.post("/v1/consents/<consent_id>/visits")
def record_visit(consent_id: str):
    """訪問を記録: {"visit_date": "YYYY-MM-DD"} - 201, or 200 for a day already recorded."""
    caller = authenticate(CONSENTS_SCOPE)
    _home_visits_switched_on(caller)
    consent_id = _consent_id(consent_id)
    visit_date = parse_date(_fields(json_object(required=True), ("visit_date",)).get("visit_date"))
    if visit_date is None:
        _invalid("visit_date", words.date_format("visit_date"))
    visit, created = app_home_visits.record_visit(db(), actor=caller.actor, consent_id=consent_id,
                                                  visit_date=visit_date, now=now())
    # The consent as just committed (the reader's snapshot may predate the visit).
    consent = grants.get_consent(db(), institution_id=caller.grant.institution_id, consent_id=consent_id)
    return jsonify(visit_date=visit.visit_date.isoformat(), consent=_api_consent(caller, consent)), (
        201 if created else 200)


# --- data reads, each judged by the decision function ---------------------------------------------


def _read(consent_id: str, category: str, shape: "Shape", args: dict[str, Any]):
    """Authenticate, decide on the named consent now (audited), then load the data (consent/app/reads.py).

    Only the decision (one lookup and the audit append) runs in the writing session; the token,
    the staff member and the data are read beside it (see reader()).
    """
    caller = authenticate(None)
    scope = SCOPE_OF_CATEGORY[category]
    if scope not in caller.grant.scopes and not CONSENT_ID.match(consent_id):
        raise _scope_refusal(scope)  # as for any id: the token's reach is answered first
    consent_id = _consent_id(consent_id)
    # The decision's audit entry is kept, allowed or refused.
    [decision] = reads.decide_reads(db(), actor=caller.actor, institution_id=caller.grant.institution_id,
                                    categories=(category,), now=now(), metrics=metrics, consent_id=consent_id,
                                    scopes=caller.grant.scopes)
    if not decision.allowed:
        if decision.reason == INSUFFICIENT_SCOPE and scope not in caller.grant.scopes:
            raise _scope_refusal(scope)
        raise ReadRefused(decision.reason, detail=decision)
    consent = decision.consent
    subject = reads.Subject.of_consent(consent, institution_code=caller.institution_code, today=today_jst(),
                                       drug_from=parse_month(args.get("from")), drug_to=parse_month(args.get("to")))
    data = reads.load(category, oqs_for(reader()), subject)  # InvalidInput: 422 invalid_parameter
    return jsonify(consent_id=consent.id, window_end=_iso(consent.window_end), **shape(data, consent, caller, args))


def _records(items) -> list[dict[str, Any]]:
    return [item.to_dict() for item in items]


# (the category's data from consent/app/reads.py's loader, the consent, the caller, the query
# parameters) -> the answer's fields.
Shape = Callable[[Any, ConsentView, Caller, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class DataRead:
    """One data read under a consent. The entry registers its route (GET, judged and audited by
    `_read`) and produces its OpenAPI path (web/api/openapi.py): nothing about it is written twice.
    """

    segment: str  # the path under /api/v1/consents/<consent_id>/
    category: str  # what `decide` judges; the token's scope follows (vocabulary.SCOPE_OF_CATEGORY)
    # The answer's fields besides consent_id and window_end, and their types (the schema).
    result: dict[str, Any]
    # The loaded data as the answer's fields; runs only when allowed.
    shape: Shape
    note: str = ""  # said after the category's heading in the summary
    params: tuple[QueryParam, ...] = ()
    # Checks the parameters together (after each alone), raising ApiError.
    check: Callable[[dict[str, Any]], None] | None = None

    @property
    def path(self) -> str:
        return f"/v1/consents/<consent_id>/{self.segment}"

    @property
    def scope(self) -> str:
        return SCOPE_OF_CATEGORY[self.category]

    @property
    def endpoint(self) -> str:
        return f"read_{self.category}"

    def serve(self, consent_id: str):
        args = {param.name: _query_param(param) for param in self.params}
        if self.check is not None:
            self.check(args)
        return _read(consent_id, self.category, self.shape, args)


def _shape_qualification(qualification, consent, *_) -> dict[str, Any]:
    # The institution's billing record: the qualification as confirmed at reception.
    return {"confirmed_at": _iso(reads.confirmed_at(consent)), "qualification": qualification.to_dict()}


_MONTHS = (
    QueryParam("from", "診療年月の始め YYYY-MM（YYYYMM も受け付けますが非推奨）", YEAR_MONTH,
               "YYYY-MM 形式の年月（例: 2026-11）"),
    QueryParam("to", "診療年月の終わり YYYY-MM（YYYYMM も受け付けますが非推奨）", YEAR_MONTH,
               "YYYY-MM 形式の年月（例: 2026-11）"),
)


# Pages of /drugs on request: `limit` rows after the row `cursor` names (no limit: everything).
MAX_DRUG_PAGE = 1000
_PAGING = (
    QueryParam("limit", f"1ページの行数（1〜{MAX_DRUG_PAGE}）。省略時はすべて", re.compile(r"^[1-9][0-9]{0,3}$"),
               f"1〜{MAX_DRUG_PAGE}の整数"),
    QueryParam("cursor", "前のページの next_cursor", re.compile(r"^[0-9a-f]{16}$"), "前のページの next_cursor"),
)


@dataclass(frozen=True)
class ApiDrugRow(DrugRecord):
    """One drug record with its stable id and its dispensing's id (a claims row and an
    e-prescription row of one dispensing share dispensing_id)."""

    schema_name = "DrugRecord"

    id: str = field(default="", metadata=_schema(description="この記録の固定のID（読み取りのたびに同じ）"))
    dispensing_id: str = field(default="", metadata=_schema(
        description="調剤（調剤日・薬局・処方元）のID。同じ調剤のレセプトの行と電子処方箋の行は同じ値"))


def _drug_rows(records, consent, caller, args) -> dict[str, Any]:
    # Ids differ between institutions and stay the same on every read of one, as the patient_id
    # they are scoped by (consent/patient_keys.py; a consent from before the keys: the same pair,
    # institution and person, digested inside record_ids).
    patient_id = existing_patient_id(reader(), caller.grant.institution_id, consent.person_id)
    ids = record_ids(drug_lines(records), scope=patient_id or f"{caller.institution_code}:{consent.person_id}")
    rows = [{"id": record_id, "dispensing_id": dispensing_id, **r.to_dict()}
            for r, (record_id, dispensing_id) in zip(records, ids)]
    if args["limit"] is None:
        return {"drugs": rows, "next_cursor": None}
    if int(args["limit"]) > MAX_DRUG_PAGE:
        _invalid("limit", words.page_limit(MAX_DRUG_PAGE))
    start = 0
    if args["cursor"] is not None:
        after = [n for n, row in enumerate(rows) if row["id"] == args["cursor"]]
        if not after:
            _invalid("cursor", words.STALE_CURSOR)
        start = after[0] + 1
    page = rows[start:start + int(args["limit"])]
    more = start + len(page) < len(rows)
    return {"drugs": page, "next_cursor": page[-1]["id"] if more and page else None}


def _months_in_order(args: dict[str, Any]) -> None:
    if args["from"] and args["to"] and parse_month(args["from"]) > parse_month(args["to"]):
        _invalid("from", words.MONTHS_OUT_OF_ORDER)


DATA_READS: tuple[DataRead, ...] = (
    DataRead("qualification", QUALIFICATION, {"confirmed_at": datetime, "qualification": Qualification},
             _shape_qualification, note="（受付時に確認したもの）"),
    DataRead("limit", "limit", {"limit": LimitInfo | None},
             lambda info, consent, *_: {"limit": info.to_dict() if info is not None else None},
             note="（限度額適用認定証関連情報）"),
    # Claims and e-prescription data, newest first, each item naming its "source".
    DataRead("drugs", "drug", {"drugs": list[ApiDrugRow], "next_cursor": str | None}, _drug_rows,
             params=(*_MONTHS, *_PAGING), check=_months_in_order),
    DataRead("checkups", "checkup", {"checkups": list[CheckupRecord]},
             lambda records, consent, *_: {"checkups": _records(records)}),
    DataRead("clinical", "clinical", {"clinical": ClinicalInfo}, lambda info, consent, *_: {"clinical": info.to_dict()}),
    DataRead("surgery", "surgery", {"surgery": SurgeryInfo}, lambda info, consent, *_: {"surgery": info.to_dict()}),
    DataRead("specific-disease", "specific_disease", {"specific_disease": list[SpecificDiseaseCertificate]},
             lambda records, consent, *_: {"specific_disease": _records(records)}),
)

for _entry in DATA_READS:
    bp.add_url_rule(_entry.path, endpoint=_entry.endpoint, view_func=_entry.serve, methods=["GET"])


# --- batch inquiry (一括照会) ----------------------------------------------------------------------


def _row_problem(row: Any) -> tuple[str, str] | None:
    """Why a row cannot be inquired as sent (types, characters), and the field; or None."""
    if not isinstance(row, dict):
        return "行", "行はオブジェクトで指定してください。"
    for key in BATCH_ROW_KEYS:
        value = row.get(key)
        if value is None:
            continue
        label = BATCH_FIELD_LABELS[key]
        if not isinstance(value, str):
            return label, f"{label}（{key}）は文字列で指定してください。"
        # Control characters and lone surrogates never belong in these fields (and PostgreSQL
        # refuses NUL): an error row, not a 500.
        if len(value) > 100 or any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            return label, f"{label}（{key}）に使えない文字が含まれているか、長すぎます。"
    return None


@bp.post("/v1/batch-inquiries")
def batch_inquiries():
    caller = authenticate("batch")
    enforce_rate_limits([("api:batch", caller.grant.client_id, BATCH_LIMIT)])
    body = _fields(json_object(required=True), ("rows",))
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        _invalid("rows", words.ROWS_REQUIRED)
    if len(rows) > MAX_BATCH_ROWS:
        _invalid("rows", words.too_many_rows(MAX_BATCH_ROWS))
    problems = [_row_problem(row) for row in rows]
    clean_rows = [row if problem is None else None for row, problem in zip(rows, problems)]
    answers = batch.inquire(oqs_for(reader()), clean_rows, institution_code=caller.institution_code,
                            today=today_jst())
    results = []
    for answer, problem in zip(answers, problems):
        item: dict[str, Any] = {
            "row": answer.row, "status": answer.status,
            "reason": problem[1] if problem else answer.reason,
            "reference_number": answer.reference_number,
            "error_fields": [problem[0]] if problem else list(answer.error_fields),
        }
        if answer.qualification is not None and problem is None:
            item["qualification"] = _without_person_id(answer.qualification.to_dict())
        results.append(item)
    return jsonify(results=results)


@bp.get("/v1/medical-aid/entrusted-tickets")
def entrusted_tickets():
    """委託先資格情報の一括取得: the month's 医療券・調剤券 naming this institution [batch]."""
    caller = authenticate("batch")
    if not runs_function(reader(), caller.grant.institution_id, FUNCTION_MEDICAL_AID):
        raise ApiError(403, "function_off", words.MEDICAL_AID_OFF)
    sent = request.args.get("month", "")
    month = parse_month(sent) if YEAR_MONTH.fullmatch(sent) else None  # YYYYMM, whichever form was sent
    if month is None:
        _invalid("month", words.month_format("month"))
    # Audited like every read: the fetch is written down before the tickets leave. A future month
    # is the OQS's InvalidInput: 422 invalid_parameter like any bad parameter.
    found = batch.fetch_entrusted_tickets(db(), reader(), oqs_for(reader()), actor=caller.actor,
                                          institution_code=caller.institution_code, month=month, today=today_jst(),
                                          now=now())
    if found is None:
        # Names, birth dates and 傷病名: beyond the qualification a 資格確認限定型 institution reads.
        raise ApiError(403, QUALIFICATION_ONLY, TICKETS_QUALIFICATION_ONLY)
    return jsonify(month=sent, tickets=[entry.to_dict() for entry in found])


# --- wiring --------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """The API and its OAuth 2.0 server."""
    oauth.init_app(app)
    app.register_blueprint(bp)

