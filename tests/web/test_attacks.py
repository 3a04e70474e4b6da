"""The attack run of issue 31 as a table: one row per attack, each refused with the status and
code (or Japanese words) a user would check, writing nothing but the audit entries its refusal
owes. Extend it with a row: how to get there (`prepare`), the request (`send`), what must come
back, and which tables it may write.

Rows run on the database of the suite (SQLite, or PostgreSQL with TEST_DATABASE_URL). Findings
that are no single request are tested beside their code: the audit chain's downgrade (1) in
tests/ops/test_audit_keyed_since.py, 再照会's statements and junk keys (12) in
tests/web/api/test_reinquiry_probes.py, gunicorn's over-long URLs and broken chunked bodies (13) in
tests/web/test_request_limits.py, the sandbox's entrustment to an unknown institution (13) in
tests/web/console/test_medical_aid_web.py.
"""
from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from consent.clock import FixedClock
from api_support import (
    bearer, console_login, csrf_of, staff_token, system_token,
)
from ops.schema import load_all_models

# Written by every request whatever it does (sessions, counters, the security log), or the chain's
# own bookkeeping: not what "nothing written" is about.
BOOKKEEPING = frozenset({"web_sessions", "rate_limit_counters", "security_events", "settings",
                         "webauthn_challenges", "audit_chain_heads", "audit_entries"})


class Attacker:
    """The `world` fixture of tests/conftest.py (本町薬局 with staff of each role, a patient with a consent, API
    clients) and what a row's `prepare` left for its `send`."""

    def __init__(self, world, monkeypatch) -> None:
        self.world = world
        self.monkeypatch = monkeypatch
        self.app = world.app
        self.kept: dict[str, Any] = {}

        self.token: dict | None = None  # "token:ROLE" / "token:system" rows
        self.browser = None  # "console:ROLE" rows: signed in

    def sign_in(self, who: str) -> None:
        kind, _, role = who.partition(":")
        if kind == "token":
            self.token = (system_token(self.app, self.world.system_client) if role == "system"
                          else staff_token(self.app, self.world.code_client, role))
        elif kind == "console":
            self.browser = console_login(self.app, role)

    def api(self, method: str, path: str, token: dict | None = None, **kwargs):
        return self.app.test_client().open(path, method=method, headers=bearer(token or self.token), **kwargs)

    def post_form(self, browser, page_path: str, path: str, **form):
        """A console form: the CSRF token from the page it sits on."""
        page = browser.get(page_path).get_data(as_text=True)
        return browser.post(path, data={"csrf_token": csrf_of(page), **form})


@dataclass(frozen=True)
class Attack:
    id: str
    finding: int  # the finding's number in issue 31
    # Who attacks, signed in before the row starts counting: "token:ROLE" (an authorization-code
    # token of a staff member), "token:system" (client credentials), "console:ROLE", or "".
    who: str
    send: Callable[[Attacker], Any]
    status: int
    # The JSON "error" code, or words the page shows.
    says: str
    # Audit entries the answer appends (a refused read is audited like any read).
    audited: int = 0
    prepare: Callable[[Attacker], None] | None = None
    # Tables (besides BOOKKEEPING) the row may write: what it must not write is everything else.
    writes: frozenset[str] = field(default_factory=frozenset)
    # More to check on the answer.
    then: Callable[[Attacker, Any], None] | None = None


def _snapshot(app) -> dict[str, Any]:
    """Every table's rows (a digest of their content: an update counts as a write too), and the
    number of audit entries."""
    state: dict[str, Any] = {}
    with app.extensions["sessionmaker"]() as session:
        for table in load_all_models().sorted_tables:
            if table.name == "audit_entries":
                state[table.name] = session.scalar(select(func.count()).select_from(table))
            elif table.name not in BOOKKEEPING:
                rows = sorted(repr(tuple(row)) for row in session.execute(select(table)))
                state[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return state


def _says(response) -> str:
    if response.is_json:
        return str(response.get_json().get("error"))
    return response.get_data(as_text=True)


# --- finding 5 and 13: dates and months out of range or in other ISO shapes --------------------


ATTACKS: list[Attack] = [
    Attack("api-entrusted-tickets-year-0", 5, "token:system",
           lambda a: a.api("GET", "/api/v1/medical-aid/entrusted-tickets?month=000001"),
           422, "invalid_parameter"),
    Attack("console-tickets-year-0", 5, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/medical-aid/tickets?month=0000-01"),
           400, "診療年月は「2026-11」のような年月で指定してください。"),
    Attack("console-tickets-csv-year-0", 5, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/medical-aid/tickets.csv?month=0000-01"), 400, 'lang="ja"'),
    Attack("api-consent-list-year-1", 5, "token:system",
           lambda a: a.api("GET", "/api/v1/consents?date=0001-01-01"), 422, "invalid_parameter"),
    Attack("api-drugs-month-year-0", 5, "token:pharmacist",
           lambda a: a.api("GET", f"/api/v1/consents/{a.world.consent}/drugs?from=000001"),
           422, "invalid_parameter"),
    Attack("console-list-week-date", 13, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/?date=2026-W50-1"), 400, 'lang="ja"'),
    Attack("console-list-year-2100", 5, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/?date=2100-01-01"), 400, 'lang="ja"'),
    Attack("console-visit-week-date", 13, "console:pharmacist",
           lambda a: a.post_form(a.browser, "/pharmacy/home-visits",
                                 f"/pharmacy/home-visits/{a.kept['relationship']}/visits", visit_date="2026-W47-1"),
           422, "訪問日を正しく入力してください",
           prepare=lambda a: a.kept.update(relationship=_relationship(a))),
]


# --- finding 2: the API ends consents for the console's roles only ----------------------------


def _last_audit(a: Attacker):
    """本町薬局's latest audit entry."""
    from consent.models import AuditEntry

    with a.world.session() as s:
        return s.scalars(select(AuditEntry).where(AuditEntry.institution_id == a.world.here)
                         .order_by(AuditEntry.seq.desc()).limit(1)).one()


def _refusal_audited(action: str, actor_kind: str):
    def check(a: Attacker, response) -> None:
        entry = _last_audit(a)
        assert (entry.event, entry.reason, entry.actor_kind) == ("action_refused", "not_permitted", actor_kind)
        assert entry.consent_id == a.world.consent and f'"action":"{action}"' in entry.detail
    return check


ATTACKS += [
    Attack("api-revocation-by-a-clerk", 2, "token:clerk",
           lambda a: a.api("POST", f"/api/v1/consents/{a.world.consent}/revocation", json={"reason": 1}),
           403, "not_permitted", audited=1, then=_refusal_audited("revocation", "staff")),
    Attack("api-revocation-by-a-system-job", 2, "token:system",
           lambda a: a.api("POST", f"/api/v1/consents/{a.world.consent}/revocation", json={"reason": 1}),
           403, "not_permitted", audited=1, then=_refusal_audited("revocation", "client")),
]


# --- finding 3: a token carries only the scopes its staff member's role can use ----------------


def _clerk_token_lacks_clinical_scopes(a: Attacker, response) -> None:
    granted = set(a.token["scope"].split())
    assert {"consents", "qualification", "limit", "specific_disease", "batch"} <= granted
    assert granted.isdisjoint({"drug", "checkup", "clinical", "surgery"})
    entry = _last_audit(a)
    assert (entry.event, entry.reason, entry.category) == ("read_denied", "insufficient_scope", "drug")


def _authorize(a: Attacker, scope: str):
    return _authorize_on(a.browser, a, scope)


def _approve_nothing_grantable(a: Attacker):
    from api_support import authorize_url, pkce_pair

    url = authorize_url(a.world.code_client, scope="drug checkup", challenge=pkce_pair()[1])
    page = a.browser.get(url).get_data(as_text=True)
    assert "許可する</button>" not in page and "許可できる情報はありません" in page
    return a.browser.post(url, data={"csrf_token": csrf_of(page), "decision": "approve"})


def _redirected_with(error: str):
    def check(a: Attacker, response) -> None:
        from api_support import query_of

        assert query_of(response.headers["Location"])["error"] == error
    return check


ATTACKS += [
    Attack("api-drug-read-with-a-clerks-token", 3, "token:clerk",
           lambda a: a.api("GET", f"/api/v1/consents/{a.world.consent}/drugs"),
           403, "insufficient_scope", audited=1, then=_clerk_token_lacks_clinical_scopes),
    Attack("authorize-page-says-what-a-clerk-is-not-granted", 3, "console:clerk",
           lambda a: _authorize(a, "consents drug checkup limit"),
           200, "「薬剤情報」「特定健診情報」は許可に含まれません"),
    Attack("authorize-nothing-a-clerk-can-grant", 3, "console:clerk", _approve_nothing_grantable,
           302, "", then=_redirected_with("invalid_scope")),
]


# --- findings 6 and 7: the tablet in 「受付モード」 is in a patient's hands -------------------------


def _tablet(a: Attacker, role: str = "clerk") -> None:
    """本町薬局's outpatient tablet URL, a staff member signed in there, 「受付モード」 started."""
    from consent.institutions import Institution

    with a.world.session() as s:
        url = "/r/" + s.get(Institution, a.world.here).reception_tokens["outpatient"]
    tablet = a.app.test_client()
    page = tablet.get(url).get_data(as_text=True)
    tablet.post(f"{url}/staff/login", data={"csrf_token": csrf_of(page), "login_id": role,
                                            "password": f"{role}-password"})
    page = tablet.get(url).get_data(as_text=True)
    assert "受付モード" in page
    assert tablet.post(f"{url}/tablet/start", data={"csrf_token": csrf_of(page)}).status_code == 303
    a.kept.update(tablet=tablet, tablet_url=url)


def _leave(a: Attacker, password: str):
    url = a.kept["tablet_url"]
    page = a.kept["tablet"].get(f"{url}/tablet/leave").get_data(as_text=True)
    return a.kept["tablet"].post(f"{url}/tablet/leave", data={"csrf_token": csrf_of(page), "password": password})


def _wrong_passwords_at_the_tablet(a: Attacker, n: int = 5) -> None:
    _tablet(a)
    assert [_leave(a, f"guess-{i}").status_code for i in range(n)] == [401] * n


def _console_login_from_the_same_address(a: Attacker):
    fresh = a.app.test_client()
    page = fresh.get("/pharmacy/login").get_data(as_text=True)
    return fresh.post("/pharmacy/login", data={"csrf_token": csrf_of(page), "login_id": "clerk",
                                               "password": "clerk-password"})


def _back_to_the_reception_start(a: Attacker, response) -> None:
    assert response.headers["Location"].endswith(a.kept["tablet_url"])
    # Still in 「受付モード」: the start is the patient's, not the staff's login or home.
    start = a.kept["tablet"].get(a.kept["tablet_url"]).get_data(as_text=True)
    assert "同意登録をする" in start and "受付モードを終了（職員用）" in start


def _still_slowed_with_the_right_password(a: Attacker, response) -> None:
    assert _leave(a, "clerk-password").status_code == 429
    assert _console_login_from_the_same_address(a).status_code == 303


ATTACKS += [
    Attack("tablet-leave-guesses-do-not-lock-the-console-login", 6, "",
           _console_login_from_the_same_address, 303, "", prepare=_wrong_passwords_at_the_tablet),
    Attack("tablet-leave-sixth-guess-is-slowed", 6, "", lambda a: _leave(a, "guess-6"),
           429, "5分ほど待ってからお試しください（職員のログインには影響しません）",
           prepare=_wrong_passwords_at_the_tablet, then=_still_slowed_with_the_right_password),
    Attack("authorize-on-a-tablet-in-reception-mode", 7, "",
           lambda a: _authorize_on(a.kept["tablet"], a, "consents qualification"), 303, "",
           prepare=_tablet, then=_back_to_the_reception_start),
    Attack("approve-on-a-tablet-in-reception-mode", 7, "",
           lambda a: _authorize_on(a.kept["tablet"], a, "consents qualification", method="POST"), 303, "",
           prepare=_tablet, then=_back_to_the_reception_start),
    Attack("console-login-page-on-a-tablet-in-reception-mode", 7, "",
           lambda a: a.kept["tablet"].get("/pharmacy/login"), 303, "",
           prepare=_tablet, then=_back_to_the_reception_start),
    Attack("console-logout-on-a-tablet-in-reception-mode", 7, "",
           lambda a: a.kept["tablet"].post("/pharmacy/logout", data={"csrf_token": _tablet_csrf(a)}), 303, "",
           prepare=_tablet, then=_back_to_the_reception_start),
]


def _authorize_on(browser, a: Attacker, scope: str, method: str = "GET"):
    from api_support import authorize_url, pkce_pair

    url = authorize_url(a.world.code_client, scope=scope, challenge=pkce_pair()[1])
    if method == "GET":
        return browser.get(url)
    return browser.post(url, data={"csrf_token": _tablet_csrf(a), "decision": "approve"})


def _tablet_csrf(a: Attacker) -> str:
    """The tablet session's CSRF token (from the form a patient can open there)."""
    return csrf_of(a.kept["tablet"].get(f"{a.kept['tablet_url']}/tablet/leave").get_data(as_text=True))


# --- finding 10: downloads that name patients are never cached -------------------------------


def _batch_uploaded(a: Attacker) -> None:
    person = a.world.person
    line = f"{person.insurer_number},{person.symbol or ''},{person.number},{person.branch or ''},{person.birth_date},"
    csv_text = "保険者番号,記号,番号,枝番,生年月日,照会番号\r\n" + line + "\r\n"
    page = a.browser.get("/pharmacy/batch").get_data(as_text=True)
    uploaded = a.browser.post("/pharmacy/batch", data={"csrf_token": csrf_of(page),
                                                        "file": (io.BytesIO(csv_text.encode()), "list.csv")})
    assert uploaded.status_code == 200


def _not_cached(a: Attacker, response) -> None:
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"


ATTACKS += [
    Attack("tickets-csv-cached", 10, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/medical-aid/tickets.csv"), 200, "受給者番号", then=_not_cached),
    Attack("batch-result-csv-cached", 10, "console:clerk",
           lambda a: a.browser.get("/pharmacy/batch/result.csv"), 200, "結果", prepare=_batch_uploaded,
           then=_not_cached),
]


# --- finding 11: 訪問診療等 switched off is off on every path ----------------------------------


def _home_visits_off(a: Attacker) -> None:
    from consent.institutions import Institution
    from consent.vocabulary import FUNCTIONS, FUNCTION_HOME_VISIT

    a.kept.update(relationship=_relationship(a))
    with a.world.session() as s:
        s.get(Institution, a.world.here).set_functions({name: name != FUNCTION_HOME_VISIT for name in FUNCTIONS})
        s.commit()


def _keys_of(person, **changes) -> dict[str, str]:
    return {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat(), **changes}


OFF = "訪問診療等の機能は環境設定で停止中です"
ATTACKS += [
    Attack("console-home-visit-patients-switched-off", 11, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/home-visits"), 404, OFF, prepare=_home_visits_off),
    Attack("console-reinquiry-switched-off", 11, "console:clerk",
           lambda a: a.post_form(a.browser, "/pharmacy/", "/pharmacy/home-visits/reinquiry",
                                 **_keys_of(a.world.person)), 404, OFF, prepare=_home_visits_off),
    Attack("console-visit-switched-off", 11, "console:clerk",
           lambda a: a.post_form(a.browser, "/pharmacy/", f"/pharmacy/home-visits/{a.kept['relationship']}/visits"),
           404, OFF, prepare=_home_visits_off),
    Attack("console-visit-end-switched-off", 11, "console:pharmacist",
           lambda a: a.post_form(a.browser, "/pharmacy/", f"/pharmacy/home-visits/{a.kept['relationship']}/end",
                                 confirm="yes"), 404, OFF, prepare=_home_visits_off),
    Attack("api-reinquiry-switched-off", 11, "token:pharmacist",
           lambda a: a.api("POST", "/api/v1/reinquiries", json=_keys_of(a.world.person)),
           403, "function_off", prepare=_home_visits_off),
    Attack("api-visit-switched-off", 11, "token:pharmacist",
           lambda a: a.api("POST", f"/api/v1/consents/{a.kept['relationship']}/visits",
                           json={"visit_date": "2026-11-23"}), 403, "function_off", prepare=_home_visits_off),
]


# --- finding 8: the medical-aid ticket fetch is a read: audited, and not for qualification-only ---


def _recipient(a: Attacker) -> None:
    """A medical-aid recipient the welfare office entrusted to 本町薬局."""
    from conftest import TODAY
    from integrations.oqs.simulator import make_oqs

    with a.world.session() as s:
        person = make_oqs(s).create_person(today=TODAY, birth_date=TODAY.replace(year=1950), medical_aid=True,
                                           entrusted_institution_codes=["1341234563"], seed=31)
        s.commit()
    a.kept["recipient"] = person.person_id


def _qualification_only(a: Attacker) -> None:
    from consent.institutions import Institution

    _recipient(a)
    with a.world.session() as s:
        s.get(Institution, a.world.here).qualification_only = True
        s.commit()


def _fetch_refused_audited(a: Attacker, response) -> None:
    entry = _last_audit(a)
    assert (entry.event, entry.reason, entry.category, entry.person_id) == (
        "read_denied", "qualification_only", "qualification", None)
    assert '"source":"entrusted_tickets"' in entry.detail


def _fetch_audited_per_recipient(a: Attacker, response) -> None:
    from consent.audit import reads_of_person

    assert [t["person_id"] for t in response.get_json()["tickets"]] == [a.kept["recipient"]]
    entry = _last_audit(a)
    assert (entry.event, entry.person_id, entry.actor_kind) == ("read_allowed", a.kept["recipient"], "client")
    with a.world.session() as s:
        assert [r.institution_name for r in reads_of_person(s, person_id=a.kept["recipient"])] == ["本町薬局"]


TICKETS_REFUSED = "資格確認限定型の医療機関等では、医療券・調剤券（氏名・生年月日・傷病名を含む）の一括取得はできません。"
ATTACKS += [
    Attack("api-tickets-at-a-qualification-only-institution", 8, "token:system",
           lambda a: a.api("GET", "/api/v1/medical-aid/entrusted-tickets?month=202611"), 403, "qualification_only",
           audited=1, prepare=_qualification_only, then=_fetch_refused_audited),
    Attack("console-tickets-at-a-qualification-only-institution", 8, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/medical-aid/tickets?month=2026-11"), 403, TICKETS_REFUSED,
           audited=1, prepare=_qualification_only, then=_fetch_refused_audited),
    Attack("console-tickets-csv-at-a-qualification-only-institution", 8, "console:admin",
           lambda a: a.browser.get("/pharmacy/medical-aid/tickets.csv?month=2026-11"), 403, TICKETS_REFUSED,
           audited=1, prepare=_qualification_only, then=_fetch_refused_audited),
    Attack("api-tickets-fetched-unaudited", 8, "token:system",
           lambda a: a.api("GET", "/api/v1/medical-aid/entrusted-tickets?month=202611"), 200, "",
           audited=1, prepare=_recipient, then=_fetch_audited_per_recipient),
]


# --- findings 4 and 9: 災害時閲覧's search identifies people: audited, keyed by birth date, limited ---


def _declare(a: Attacker, *, prefectures: list[str], starts: timedelta, ends: timedelta, name: str) -> int:
    from consent import disasters

    current = a.app.extensions["clock"].now()
    with a.world.session() as s:
        disaster = disasters.declare(s, name=name, prefectures=prefectures, starts_at=current + starts,
                                     ends_at=current + ends, now=current - timedelta(days=2))
        s.commit()
        return disaster.id


def _tokyo_disaster(a: Attacker) -> None:
    a.kept["disaster"] = _declare(a, prefectures=["13"], starts=-timedelta(hours=1), ends=timedelta(days=7),
                                  name="東京の地震")


def _insurance_search(a: Attacker, *, birth_date: bool = True, browser=None):
    person = a.world.person
    form = {"how": "insurance", "disaster_id": str(a.kept["disaster"]), "insurer_number": person.insurer_number,
            "symbol": person.symbol or "", "number": person.number, "branch": person.branch or ""}
    if birth_date:
        form["birth_date"] = person.birth_date.isoformat()
    return a.post_form(browser or a.browser, "/pharmacy/", "/pharmacy/disaster/search", **form)


def _search_audited(outcome: str, found: bool):
    def check(a: Attacker, response) -> None:
        entry = _last_audit(a)
        assert (entry.event, entry.actor_role) == ("person_searched", "pharmacist")
        assert entry.person_id == (a.world.person.person_id if found else None)
        assert json.loads(entry.detail) == {"by": "insurance", "outcome": outcome, "disaster_id": a.kept["disaster"]}
    return check


def _budget_spent_by_a_colleague(a: Attacker) -> None:
    from consent.institutions import Institution, add_staff
    from consent.app import disaster as app_disaster

    _tokyo_disaster(a)
    a.monkeypatch.setattr(app_disaster, "INSTITUTION_SEARCHES_PER_MINUTE", 3)
    assert [_insurance_search(a, birth_date=True).status_code for _ in range(3)] == [303] * 3
    with a.world.session() as s:
        add_staff(s, s.get(Institution, a.world.here), login_id="new-pharmacist", password="pharmacist-password",
                  role="pharmacist", now=a.app.extensions["clock"].now())
        s.commit()
    a.kept["newcomer"] = console_login(a.app, "new-pharmacist")


def _searched_disaster_over_another_elsewhere(a: Attacker) -> None:
    """東京's disaster (the page was shown for it) ended a second ago; another is in effect in 大阪."""
    from consent import disasters

    _tokyo_disaster(a)
    a.kept["page"] = a.browser.get("/pharmacy/disaster").get_data(as_text=True)
    a.kept["elsewhere"] = _declare(a, prefectures=["27"], starts=-timedelta(hours=1), ends=timedelta(days=3),
                                   name="大阪の水害")
    with a.world.session() as s:
        disasters.end(s, disaster_id=a.kept["disaster"], now=a.app.extensions["clock"].now() - timedelta(seconds=1))
        s.commit()


def _refused_naming_the_searched_disaster(a: Attacker, response) -> None:
    entry = _last_audit(a)
    assert (entry.event, entry.reason) == ("read_denied", "disaster_not_in_effect")
    assert json.loads(entry.detail)["disaster_id"] == a.kept["disaster"] != a.kept["elsewhere"]
    assert "対象地域外" not in response.get_data(as_text=True)


ATTACKS += [
    Attack("disaster-search-by-numbers-without-birth-date", 4, "console:pharmacist",
           lambda a: _insurance_search(a, birth_date=False), 400, "生年月日を入力してください", audited=1,
           prepare=_tokyo_disaster, then=_search_audited("incomplete", found=False)),
    Attack("disaster-search-unaudited", 4, "console:pharmacist", _insurance_search, 303, "", audited=1,
           prepare=_tokyo_disaster, then=_search_audited("found", found=True)),
    Attack("disaster-search-fresh-budget-per-new-account", 4, "console:pharmacist",
           lambda a: _insurance_search(a, browser=a.kept["newcomer"]), 429, "短時間に操作が集中しました",
           prepare=_budget_spent_by_a_colleague),
    Attack("disaster-search-after-the-end-names-another-disaster", 9, "console:pharmacist",
           lambda a: a.browser.post("/pharmacy/disaster/search", data={
               "csrf_token": csrf_of(a.kept["page"]), "how": "insurance", "disaster_id": str(a.kept["disaster"])}),
           403, "閲覧できません：災害時特別措置の期間外です", audited=1, prepare=_searched_disaster_over_another_elsewhere,
           then=_refused_naming_the_searched_disaster),
    Attack("disaster-page-after-the-end-says-out-of-area", 9, "console:pharmacist",
           lambda a: a.browser.get("/pharmacy/disaster"), 403, "閲覧できません：災害時特別措置の期間外です", audited=1,
           prepare=_searched_disaster_over_another_elsewhere, then=_refused_naming_the_searched_disaster),
]


# --- finding 12: 再照会 by a stranger (tests/web/api/test_reinquiry_probes.py has the rest) -------------


def _late_elderly(a: Attacker) -> None:
    """A 後期高齢者 (insurer 39..., no 記号, no 枝番): junk there was ignored and matched them."""
    from conftest import TODAY
    from integrations.oqs.simulator import make_oqs

    with a.world.session() as s:
        a.kept["elderly"] = make_oqs(s).create_person(today=TODAY, birth_date=TODAY.replace(year=1940), validity=1,
                                                      seed=3)
        s.commit()
    assert a.kept["elderly"].insurer_number.startswith("39") and not a.kept["elderly"].symbol


def _no_internal_id(a: Attacker, response) -> None:
    assert response.get_json()["consent"] is None and response.get_json()["qualification"]["person_id"] is None
    assert a.world.person.person_id not in response.get_data(as_text=True)


ATTACKS += [
    Attack("api-reinquiry-nul-in-symbol", 12, "token:pharmacist",
           lambda a: a.api("POST", "/api/v1/reinquiries", json=_keys_of(a.world.person, symbol="\x00")),
           422, "invalid_parameter"),
    Attack("api-reinquiry-letters-in-a-late-elderly-branch", 12, "token:pharmacist",
           lambda a: a.api("POST", "/api/v1/reinquiries", json=_keys_of(a.kept["elderly"], branch="ＡＢ")),
           422, "invalid_parameter", prepare=_late_elderly),
    Attack("api-reinquiry-emoji-in-a-late-elderly-symbol", 12, "token:pharmacist",
           lambda a: a.api("POST", "/api/v1/reinquiries", json=_keys_of(a.kept["elderly"], symbol="😀")),
           422, "invalid_parameter", prepare=_late_elderly),
    Attack("api-reinquiry-internal-id-to-a-stranger", 12, "token:pharmacist",
           lambda a: a.api("POST", "/api/v1/reinquiries", json=_keys_of(a.world.person)), 200, "",
           audited=1, then=_no_internal_id),
]


def _relationship(a: Attacker) -> str:
    """A home-visit relationship of 本町薬局 (first visit today)."""
    from consent import home_visits
    from conftest import TODAY
    from integrations.oqs.simulator import make_oqs

    with a.world.session() as s:
        person = make_oqs(s).create_person(today=TODAY, birth_date=TODAY.replace(year=1940), validity=1, seed=7)
        consent = home_visits.register_first_visit(
            s, institution_id=a.world.here, person_id=person.person_id, card_id="card_hv",
            categories=["drug", "checkup", "limit"], now=a.app.extensions["clock"].now(), validity_code=1)
        s.commit()
        return consent.id


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: f"{attack.finding}-{attack.id}")
def test_the_attack_is_answered_and_writes_nothing_more(world, attack: Attack, monkeypatch, one_rate_minute):
    # Real time stands still for the rows that count failures or requests (one window, no flakes).
    world.app.extensions["wall_clock"] = FixedClock(datetime(2026, 11, 23, 1, 0, 30, tzinfo=timezone.utc))
    attacker = Attacker(world, monkeypatch)
    attacker.sign_in(attack.who)
    if attack.prepare is not None:
        attack.prepare(attacker)
    before = _snapshot(world.app)
    response = attack.send(attacker)
    assert response.status_code == attack.status, response.get_data(as_text=True)[:2000]
    said = _says(response)
    assert (said == attack.says) if response.is_json and attack.status >= 400 else (attack.says in said), said[:2000]
    after = _snapshot(world.app)
    assert after["audit_entries"] - before["audit_entries"] == attack.audited
    changed = {name for name in after if after[name] != before[name]} - BOOKKEEPING - attack.writes
    assert changed == set()
    if attack.then is not None:
        attack.then(attacker, response)


# --- what the fixes leave working -------------------------------------------------------------


def test_a_token_of_a_pharmacist_later_made_a_clerk_is_refused_clinical_data_by_role(world):
    """Narrowing happens at authorization; the decision still judges the role at every read."""
    from consent.institutions import Staff

    attacker = Attacker(world, None)
    attacker.sign_in("token:pharmacist")
    with world.session() as s:
        s.get(Staff, world.staff["pharmacist"]).role = "clerk"
        s.commit()
    response = attacker.api("GET", f"/api/v1/consents/{world.consent}/drugs")
    assert response.status_code == 403 and response.get_json()["error"] == "not_licensed"


@pytest.mark.parametrize("role", ["admin", "pharmacist"])
def test_the_roles_the_console_lets_end_a_consent_may_end_it_through_the_api(world, role):
    attacker = Attacker(world, None)
    attacker.sign_in(f"token:{role}")
    response = attacker.api("POST", f"/api/v1/consents/{world.consent}/revocation", json={"reason": 1})
    assert response.status_code == 200 and response.get_json()["status"] == "revoked"
