"""資格確認限定型 (qualification-only institutions): the reception confirms the qualification and
records it, every data read there is refused by the decision function (console, API, any role,
any token), and switching an institution into the mode ends its open consents' data categories
with reason 3 (利用目的の変更) while switching back grants nothing."""
from __future__ import annotations

import json
import re
import threading
from datetime import date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, text

from api_support import ALL_SCOPES, bearer, console_login, staff_token, system_token
from conftest import TEST_DATABASE_URL, TODAY
from consent import grants
from consent.actors import Actor
from consent.category_states import states_at
from consent.clock import JST
from consent.decision import QUALIFICATION_ONLY, decide
from consent.errors import ConsentError
from consent.institutions import Institution, create_institution, institution_by_code
from consent.models import AuditEntry, Consent
from consent.qualification_only import set_qualification_only
from consent.vocabulary import CATEGORIES, QUALIFICATION, READ_CATEGORIES, USE_CHANGED
from integrations.card import make_card_authority
from integrations.card.soft_authenticator import SoftCard
from integrations.oqs.simulator import make_oqs
from web.api import DATA_READS
from web.error_messages import decision_message

ORIGIN = "http://localhost:5000"
TODAY_AT_TEN = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
DATA_CATEGORIES = [c for c in READ_CATEGORIES if c != QUALIFICATION]


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=JST)


def audit_events(session, institution_id: int, event: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.institution_id == institution_id,
                                                         AuditEntry.event == event).order_by(AuditEntry.seq)))


def flags(consent, now) -> dict[str, tuple]:
    return {s.category: (s.flag, s.expiry_reason) for s in states_at(consent.category_states, now)}


# --- the decision ---------------------------------------------------------------------------------


@pytest.fixture
def clinic(sessions, clock) -> int:
    with sessions() as session:
        made = create_institution(session, code="1311234577", name="健診クリニック", now=clock.now(),
                                  qualification_only=True)
        session.commit()
        return made.id


ACTORS = {
    "pharmacist": lambda inst: Actor.for_staff(staff_id=1, institution_id=inst, role="pharmacist"),
    "clerk": lambda inst: Actor.for_staff(staff_id=2, institution_id=inst, role="clerk"),
    "admin": lambda inst: Actor.for_staff(staff_id=3, institution_id=inst, role="admin"),
    "system job": lambda inst: Actor.for_client(client_id="job", institution_id=inst),
}


@pytest.mark.parametrize("who", list(ACTORS))
def test_every_data_read_is_refused_for_every_reader_and_the_qualification_is_not(sessions, clinic, clock, who):
    with sessions() as session:
        consent = grants.register_consent(session, institution_id=clinic, person_id="p-1", card_id="c-1",
                                          care_setting=3, categories=(), consultation_date=TODAY,
                                          now=clock.now(), validity_code=1)
        session.commit()
        actor = ACTORS[who](clinic)
        for scopes in (None, set(ALL_SCOPES.split())):
            for category in READ_CATEGORIES:
                decision = decide(session, institution_id=clinic, actor=actor, person_id="p-1", category=category,
                                  now=clock.now(), consent_id=consent.id if scopes else None, scopes=scopes)
                session.commit()
                if category == QUALIFICATION:
                    assert decision.allowed, (category, decision.reason)
                else:
                    # Before roles, scopes and consents: a clerk is not told "not licensed" here.
                    assert (decision.allowed, decision.reason) == (False, QUALIFICATION_ONLY), category
                    assert decision_message(decision).startswith("資格確認限定型の医療機関等では")
        denied = audit_events(session, clinic, "read_denied")
        assert len(denied) == 2 * len(DATA_CATEGORIES)
        assert {e.reason for e in denied} == {QUALIFICATION_ONLY}
        # The patient's read log names the person even when the API named only the consent.
        assert {e.person_id for e in denied} == {"p-1"}


def test_a_confirmation_has_no_categories_and_data_cannot_be_consented_to(sessions, clinic, institution_id, clock):
    with sessions() as session:
        with pytest.raises(ConsentError) as refused:
            grants.register_consent(session, institution_id=clinic, person_id="p-1", card_id="c-1", care_setting=3,
                                    categories=["drug"], consultation_date=TODAY, now=clock.now())
        assert refused.value.code == "qualification_only"
        session.rollback()
        consent = grants.register_consent(session, institution_id=clinic, person_id="p-1", card_id="c-1",
                                          care_setting=3, categories=(), consultation_date=TODAY, now=clock.now(),
                                          validity_code=1)
        session.commit()
        assert consent.categories == ()
        assert flags(consent, clock.now()) == {c: (0, None) for c in CATEGORIES}
        assert [e.event for e in audit_events(session, clinic, "consent_registered")] == ["consent_registered"]
        # Elsewhere a consent without categories is still refused.
        with pytest.raises(ConsentError) as empty:
            grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c-1",
                                    care_setting=3, categories=(), consultation_date=TODAY, now=clock.now())
        assert empty.value.code == "no_categories"
        session.rollback()
        with pytest.raises(ConsentError) as change:
            grants.change_categories(session, institution_id=clinic, consent_id=consent.id, person_id="p-1",
                                     categories=["drug"], now=clock.now())
        assert change.value.code == "qualification_only"


# --- switching the mode ----------------------------------------------------------------------------


def test_switching_on_ends_the_data_categories_of_open_consents_with_reason_3(sessions, institution_id, clock):
    now = at(23, 10)
    with sessions() as session:
        def register(person, day, categories, when):
            return grants.register_consent(session, institution_id=institution_id, person_id=person, card_id="c",
                                           care_setting=3, categories=categories, consultation_date=date(2026, 11, day),
                                           now=when, max_days_ahead=30)
        open_ = register("p-open", 23, ["drug", "checkup", "limit"], at(23, 9))
        # The window closed on the 22nd at 00:00: drug expired (reason 0), 限度額 runs on.
        past = register("p-past", 20, ["drug", "limit"], at(20, 9))
        revoked = register("p-revoked", 23, ["drug"], at(23, 9))
        grants.revoke_consent(session, institution_id=institution_id, consent_id=revoked.id, by="patient", reason=2,
                              now=at(23, 9, 30))
        session.commit()

        ended = set_qualification_only(session, institution_id=institution_id, on=True, by="operator", now=now)
        session.commit()
        assert {c.id for c in ended} == {open_.id, past.id}
        by_id = {c.id: c for c in session.scalars(select(Consent))}
        later = now + timedelta(hours=1)
        assert flags(by_id[open_.id], later) == {**{c: (0, None) for c in CATEGORIES},
                                                 "drug": (2, USE_CHANGED), "checkup": (2, USE_CHANGED),
                                                 "limit": (0, USE_CHANGED)}  # 限度額: flag 0 or 1 only
        assert {s.category: s.ended_at for s in by_id[open_.id].category_states} == {
            "drug": now, "checkup": now, "limit": now}
        assert flags(by_id[past.id], later)["drug"] == (2, 0) and flags(by_id[past.id], later)["limit"] == (0, 3)
        assert flags(by_id[revoked.id], later)["drug"] == (2, 2)  # already ended by the patient: untouched
        assert by_id[open_.id].status == "active"  # the confirmed qualification stays the billing record

        # Audited: the switch, and each consent it changed with what ended.
        (mode,) = audit_events(session, institution_id, "institution_mode_changed")
        assert (mode.actor_kind, json.loads(mode.detail)) == ("operator", {"by": "operator", "qualification_only": True})
        changed = {e.consent_id: e for e in audit_events(session, institution_id, "consent_use_changed")}
        assert set(changed) == {open_.id, past.id}
        assert (changed[open_.id].reason, changed[open_.id].person_id) == ("3", "p-open")
        assert json.loads(changed[open_.id].detail)["categories_ended"] == ["drug", "checkup", "limit"]

        # Switching on again changes nothing and is not audited again.
        assert set_qualification_only(session, institution_id=institution_id, on=True, by="operator", now=later) == []
        session.commit()
        assert len(audit_events(session, institution_id, "institution_mode_changed")) == 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite lets one writer in at a time: no interleaving")
def test_a_switch_between_a_registrations_check_and_its_write_still_ends_its_categories(
        sessions, institution_id, clock, monkeypatch):
    """PostgreSQL: the switch runs right after a registration has checked the mode (off) and before
    it writes. The registration must not end up with its categories running at a qualification-only
    institution (a later switch back would make them readable): the switch waits for it."""
    now = at(23, 10)
    switched, threads = {}, []

    def switch():
        with sessions() as session:
            switched["ended"] = set_qualification_only(session, institution_id=institution_id, on=True,
                                                        by="operator", now=now)
            session.commit()

    checked = grants.is_qualification_only

    def check_then_let_the_switch_run(session, institution_id, **kwargs):
        answer = checked(session, institution_id, **kwargs)
        thread = threading.Thread(target=switch)
        thread.start()
        threads.append(thread)
        # Until the switch is done (nothing held it) or waits on a lock this registration holds.
        with sessions() as watcher:
            while thread.is_alive() and not watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                watcher.rollback()
                thread.join(0.05)
        return answer

    monkeypatch.setattr(grants, "is_qualification_only", check_then_let_the_switch_run)
    with sessions() as registering:
        consent_id = grants.register_consent(
            registering, institution_id=institution_id, person_id="p-midway", card_id="c", care_setting=3,
            categories=["drug"], consultation_date=date(2026, 11, 23), now=now, max_days_ahead=30).id
        registering.commit()
    threads[0].join(120)
    with sessions() as session:
        assert flags(session.get(Consent, consent_id), now + timedelta(hours=1))["drug"] == (2, USE_CHANGED)
        assert [c.id for c in switched["ended"]] == [consent_id]


def test_switching_back_grants_nothing_until_the_patient_consents_again(sessions, institution_id, clock):
    pharmacist = Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist")
    with sessions() as session:
        consent = grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c",
                                          care_setting=3, categories=["drug", "limit"], consultation_date=TODAY,
                                          now=at(23, 9))
        session.commit()
        set_qualification_only(session, institution_id=institution_id, on=True, by="operator", now=at(23, 10))
        session.commit()

        def read(category, when):
            decision = decide(session, institution_id=institution_id, actor=pharmacist, person_id="p-1",
                              category=category, now=when)
            session.commit()
            return decision

        assert read("drug", at(23, 10, 0, 1)).reason == QUALIFICATION_ONLY
        set_qualification_only(session, institution_id=institution_id, on=False, by="operator", now=at(23, 11))
        session.commit()
        refused = read("drug", at(23, 11, 0, 1))
        assert refused.reason == "consent_revoked" and "利用目的の変更" in decision_message(refused)
        assert read("limit", at(23, 11, 0, 1)).reason == "consent_revoked"
        assert read(QUALIFICATION, at(23, 11, 0, 1)).allowed

        # The patient registers the same categories again: consented anew (not an "identical repeat").
        grants.register_consent(session, institution_id=institution_id, person_id="p-1", card_id="c",
                                care_setting=3, categories=["drug", "limit"], consultation_date=TODAY, now=at(23, 12))
        session.commit()
        assert read("drug", at(23, 12, 0, 1)).allowed and read("limit", at(23, 12, 0, 1)).allowed
        session.refresh(consent)
        assert {s.category: s.consented_at for s in consent.category_states} == {"drug": at(23, 12),
                                                                                "limit": at(23, 12)}


# --- the counter: the institution's own device (test client, software card) -------------------------


@pytest.fixture
def counter(place):
    """conftest's `place` switched to 資格確認限定型: its reception URLs are its counter device."""
    with place["app"].extensions["sessionmaker"]() as session:
        set_qualification_only(session, institution_id=place["id"], on=True, by="operator", now=TODAY_AT_TEN)
        qualification = make_oqs(session).qualification(place["person"].person_id, institution_code="1341234563",
                                                        care_setting=1, today=TODAY)
        session.commit()
    return {**place, "qualification": qualification}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html).group(1)


def read_card(client, soft, purpose, verify_path, page_path):
    page = client.get(page_path).get_data(as_text=True)
    csrf = csrf_of(page)
    options = client.post(f"/card/options?purpose={purpose}", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    return client.post(verify_path, json={"credential": soft.assertion(options, origin=ORIGIN)},
                       headers={"X-CSRF-Token": csrf})


def consents_of(app) -> list[Consent]:
    with app.extensions["sessionmaker"]() as session:
        return list(session.scalars(select(Consent)))


@pytest.mark.parametrize("entry", ["online", "outpatient", "home_visit"])
def test_with_nobody_signed_in_the_counter_url_shows_the_staff_login_and_reads_no_card(counter, entry):
    from patient_support import csrf_of as page_csrf

    client = counter["app"].test_client()
    url = counter["urls"][entry]
    for path in (url, f"{url}/qualify", f"{url}/qualify/done", f"{url}/review", f"{url}/revoke"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "職員ログイン" in html, path
        assert "資格確認を始めるには、職員がログインしてください" in html and "資格確認をする" not in html
    # A card read posted without a staff member: refused, nothing written.
    csrf = page_csrf(client.get(url).get_data(as_text=True))
    verify = client.post(f"{url}/qualify/verify", json={"credential": {}}, headers={"X-CSRF-Token": csrf})
    assert verify.status_code == 401 and consents_of(counter["app"]) == []
    # The 受付モード of a tablet is not the counter's: it leads back to the start.
    assert client.post(f"{url}/tablet/start", data={"csrf_token": csrf}).status_code == 303


def test_another_institutions_staff_member_is_refused_at_the_counter(counter):
    from patient_support import staff_login

    client = counter["app"].test_client()
    url = counter["urls"]["online"]
    refused = staff_login(client, url, login_id="there-clerk")
    assert refused.status_code == 403 and "この医療機関の職員のログインIDでログインしてください" in refused.get_data(
        as_text=True)
    # Signed in at their own institution's tablet, then the counter URL opened on that browser.
    assert staff_login(client, counter["there"]["outpatient"], login_id="there-clerk").status_code == 303
    for path in (url, f"{url}/qualify"):
        page = client.get(path)
        assert page.status_code == 403 and "この端末でログインしている職員の医療機関の受付ではありません" in page.get_data(
            as_text=True)
        assert "資格確認をする" not in page.get_data(as_text=True)


@pytest.mark.parametrize("entry", ["outpatient", "home_visit", "house_call"])
def test_the_counter_offers_neither_the_certificate_form_nor_the_photo_check(counter, entry):
    """The tablet's 「資格確認書で確認」 and photo check are consent flows of the tablet: the counter
    device of a qualification-only institution (which answers at the tablet URLs too) has neither."""
    from patient_support import staff_login

    client = counter["app"].test_client()
    url = counter["urls"][entry]
    assert staff_login(client, url).status_code == 303
    top = client.get(url).get_data(as_text=True)
    assert "資格確認をする" in top and "資格確認書で確認" not in top
    assert client.get(f"{url}/certificate").status_code == 404
    assert client.get(f"{url}/photo").status_code == 404
    assert consents_of(counter["app"]) == []


def test_signed_in_the_staff_member_confirms_a_card_and_sees_the_qualification_once(counter):
    from patient_support import staff_login

    app, person, q = counter["app"], counter["person"], counter["qualification"]
    client = app.test_client()
    url = counter["urls"]["online"]
    assert staff_login(client, url).status_code == 303
    top = client.get(url).get_data(as_text=True)
    assert "資格確認をする" in top and "同意登録をする" not in top and "同意照会・更新" not in top
    assert "すべての同意を取消す" not in top and "健康保険の資格情報" in top
    # No categories to choose here, even through an old link.
    form = client.get(f"{url}/consent")
    assert form.status_code == 303 and form.headers["Location"].endswith(url)

    page = client.get(f"{url}/qualify").get_data(as_text=True)
    assert "読み取り開始" in page and 'type="checkbox"' not in page and "この端末の読み取り位置" in page
    done = read_card(client, counter["card"], "register", f"{url}/qualify/verify", f"{url}/qualify")
    assert done.status_code == 200, done.get_json()
    shown = client.get(done.get_json()["redirect"])
    html = shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    assert "資格確認が完了しました" in html and 'role="alert"' not in html
    # The 資格確認書's items (docs/sources.md [000]): 氏名, 負担割合, 保険者, 有効期限, and the validity.
    assert f"<dt>氏名</dt><dd>{q.name}" in html and f"<dt>負担割合</dt><dd>{q.copay_ratio_text}" in html
    assert f"<dt>保険者</dt><dd>{q.insurer_name} （{q.insurer_number}）</dd>" in html
    until = q.card_valid_until
    assert f"<dt>有効期限</dt><dd>{until.year}年{until.month}月{until.day}日</dd>" in html if until else True
    assert "<dt>資格の状態</dt><dd>1：有効</dd>" in html and "次の方の資格確認へ" in html

    # Shown once: back to it, or a reload, keeps nothing of the person.
    again = client.get(f"{url}/qualify/done").get_data(as_text=True)
    assert "この資格確認は終了しています" in again and person.name not in again and q.insurer_name not in again
    # The next person: the start again, the staff member still signed in, nothing of the last one.
    after = client.get(url).get_data(as_text=True)
    assert "資格確認をする" in after and person.name not in after

    (consent,) = consents_of(app)
    assert (consent.categories, consent.consultation_date, consent.validity_code) == ((), TODAY, 1)
    assert (consent.care_setting, consent.house_call, consent.confirmation_only) == (1, False, True)
    assert {s.flag for s in states_at(consent.category_states, consent.created_at)} == {0}
    # A second confirmation the same day changes nothing (a double tap, the person again).
    assert read_card(client, counter["card"], "register", f"{url}/qualify/verify", f"{url}/qualify").status_code == 200
    assert len(consents_of(app)) == 1


def test_the_counter_offers_no_consent_review_or_revocation(counter):
    from patient_support import staff_login

    client = counter["app"].test_client()
    url = counter["urls"]["outpatient"]
    staff_login(client, url)
    for path in ("review", "revoke", "review/consents", "revoke/confirm"):
        page = client.get(f"{url}/{path}")
        assert page.status_code == 303 and page.headers["Location"].endswith(url), path
    # A card read posted there reads nothing and leads back to the start.
    csrf = csrf_of(client.get(f"{url}/qualify").get_data(as_text=True))
    for purpose in ("review", "revoke"):
        answer = client.post(f"{url}/{purpose}/verify", json={"credential": {}}, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 200 and answer.get_json()["redirect"] == url


def test_an_institution_that_is_not_qualification_only_has_no_qualification_flow(place):
    client = place["app"].test_client()
    normal = place["urls"]["online"]
    assert "同意登録をする" in client.get(normal).get_data(as_text=True)
    resp = client.get(f"{normal}/qualify")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(normal)
    # A card read posted there (the mode switched off meanwhile) registers nothing.
    csrf = csrf_of(client.get(f"{normal}/review").get_data(as_text=True))
    verify = client.post(f"{normal}/qualify/verify", json={"credential": {}}, headers={"X-CSRF-Token": csrf})
    assert verify.status_code == 409 and "やり直してください" in verify.get_json()["message"]
    assert consents_of(place["app"]) == []


def test_on_a_tablet_url_the_counter_needs_no_reception_mode_and_records_an_outpatient_confirmation(counter):
    from patient_support import staff_login

    client = counter["app"].test_client()
    url = counter["urls"]["home_visit"]
    staff_login(client, url)
    top = client.get(url).get_data(as_text=True)
    assert "資格確認をする" in top and "受付モード" not in top
    done = read_card(client, counter["card"], "register", f"{url}/qualify/verify", f"{url}/qualify")
    assert done.status_code == 200, done.get_json()
    (consent,) = consents_of(counter["app"])
    assert (consent.care_setting, consent.relationship, consent.categories) == (1, False, ())


# --- console and API ---------------------------------------------------------------------------------


@pytest.fixture
def switched(world, clock):
    """api_support's world with its pharmacy switched to 資格確認限定型, and a confirmation there."""
    with world.session() as session:
        set_qualification_only(session, institution_id=world.here, on=True, by="operator", now=clock.now())
        oqs = make_oqs(session)
        person = oqs.create_person(today=TODAY, birth_date=date(1970, 1, 5), validity=1)
        confirmation = grants.register_consent(session, institution_id=world.here, person_id=person.person_id,
                                               card_id="card_y", care_setting=3, categories=(),
                                               consultation_date=TODAY, now=clock.now(), validity_code=1)
        session.commit()
        world.confirmation = confirmation.id
        world.confirmed_name = person.name
    return world


@pytest.mark.parametrize("role", ["pharmacist", "clerk", "admin"])
def test_the_console_shows_a_confirmation_as_its_qualification_alone_and_an_older_consent_refused(switched, role):
    browser = console_login(switched.app, role)
    listing = browser.get("/pharmacy/?date=2026-11-23").get_data(as_text=True)
    assert "この医療機関等は資格確認限定型です" in listing
    row = re.search(r'<tr data-id="%s".*?</tr>' % switched.confirmation, listing, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    # 受付 (the time), 氏名, ..., 同意 (none), 診療区分 「資格確認」, 同意項目 (none), 閲覧期限まで (none).
    assert re.fullmatch(r"\d\d:\d\d", cells[0]) and switched.confirmed_name in cells[1]
    assert (cells[5], cells[6], cells[7], cells[8]) == ("", "資格確認", "", "")
    # It has no 診療区分: a filter by one does not list it.
    assert switched.confirmed_name not in browser.get("/pharmacy/?date=2026-11-23&setting=3").get_data(as_text=True)

    html = browser.get(f"/pharmacy/consents/{switched.confirmation}").get_data(as_text=True)
    assert '<h2 id="h-qualification">資格情報</h2>' in html and "被保険者証区分" in html
    assert "<dt>資格確認</dt>" in html
    for absent in ("閲覧できません：", "項目ごとの同意", "0：同意なし", "同意の取消", "この同意を取り消す", "<dt>診療区分</dt>",
                   "確認事項", 'id="h-drug"', 'id="h-checkup"', 'id="h-limit"'):
        assert absent not in html, absent
    assert browser.get(f"/pharmacy/consents/{switched.confirmation}/print").status_code == 200
    # A 「同意の取消」 posted all the same (an old form, a forged one) ends nothing.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    for confirm in ("", "yes"):
        refused = browser.post(f"/pharmacy/consents/{switched.confirmation}/cancel",
                               data={"csrf_token": csrf, "reason": "1", "confirm": confirm})
        assert refused.status_code in ((409,) if role != "clerk" else (403,)), refused.status_code
    with switched.session() as session:
        assert session.get(Consent, switched.confirmation).status == "active"
    with switched.session() as session:
        assert audit_events(session, switched.here, "read_denied") == []

    # A consent from before the switch still shows its rows and one refusal for the data.
    html = browser.get(f"/pharmacy/consents/{switched.consent}").get_data(as_text=True)
    assert '<h2 id="h-qualification">資格情報</h2>' in html and "項目ごとの同意" in html
    assert html.count("閲覧できません：") == 1
    assert "閲覧できません：資格確認限定型の医療機関等では、資格情報以外の情報" in html
    for heading in ("h-drug", "h-checkup", "h-limit"):
        assert f'<h2 id="{heading}">' not in html
    with switched.session() as session:
        denied = audit_events(session, switched.here, "read_denied")
        assert {e.reason for e in denied} == {QUALIFICATION_ONLY}
        assert {e.category for e in denied} == {"limit", "drug", "checkup"}
        assert {e.actor_role for e in denied} == {role}


@pytest.mark.parametrize("token_of", ["pharmacist", "clerk", "system job"])
def test_every_api_data_path_is_403_qualification_only(switched, token_of):
    app = switched.app
    if token_of == "system job":
        token = system_token(app, switched.system_client)
    else:
        token = staff_token(app, switched.code_client, token_of)
    client = app.test_client()
    for consent_id in (switched.confirmation, switched.consent):
        for read in DATA_READS:
            resp = client.get(f"/api/v1/consents/{consent_id}/{read.segment}", headers=bearer(token))
            if read.category == QUALIFICATION:
                assert resp.status_code == 200, resp.get_json()
                continue
            assert resp.status_code == 403, (read.segment, resp.get_json())
            body = resp.get_json()
            assert body["error"] == "qualification_only", read.segment
            assert body["message"].startswith("閲覧できません：資格確認限定型の医療機関等では")
    listing = client.get("/api/v1/consents?date=2026-11-23", headers=bearer(token)).get_json()["consents"]
    confirmation = next(c for c in listing if c["id"] == switched.confirmation)
    assert confirmation["categories"] == [] and {s["flag"] for s in confirmation["category_states"]} == {0}
    switched_before = next(c for c in listing if c["id"] == switched.consent)
    assert {s["category"]: (s["flag"], s["expiry_reason"]) for s in switched_before["category_states"]
            if s["flag"] or s["expiry_reason"] is not None} == {"drug": (2, 3), "checkup": (2, 3), "limit": (0, 3)}
    with switched.session() as session:
        assert {e.reason for e in audit_events(session, switched.here, "read_denied")} == {QUALIFICATION_ONLY}


def test_the_api_ends_no_confirmation_it_has_nothing_consented(switched):
    # The console offers no 「同意の取消」 for a confirmation; a pharmacy system's revocation of one is
    # refused the same way (409 confirmation_only), and the confirmation stays as it was.
    client = switched.app.test_client()
    token = staff_token(switched.app, switched.code_client, "pharmacist")
    resp = client.post(f"/api/v1/consents/{switched.confirmation}/revocation", json={"reason": 1},
                       headers=bearer(token))
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["error"] == "confirmation_only"
    assert resp.get_json()["type"].endswith("/problems/confirmation_only")
    with switched.session() as session:
        assert session.get(Consent, switched.confirmation).status == "active"
    # A consent from before the switch is the institution's to end, as before.
    assert client.post(f"/api/v1/consents/{switched.consent}/revocation", json={"reason": 3},
                       headers=bearer(token)).status_code == 200


def test_the_openapi_document_names_the_refusal(client):
    assert "qualification_only" in client.get("/api/openapi.json").get_data(as_text=True)


# --- operator commands and the sandbox ------------------------------------------------------------


def test_operator_commands_create_and_switch_the_mode(cli, clock):
    made = cli("institution", "create", "--code", "1311234577", "--name", "健診クリニック", "--kind", "clinic",
               "--qualification-only")
    assert made.exit_code == 0, made.output
    assert "資格確認限定型" in made.output
    cli("institution", "create", "--code", "1341234563", "--name", "本町薬局", "--kind", "pharmacy")
    listing = cli("institution", "list").output
    assert re.search(r"1311234577 .*健診クリニック .*資格確認限定型", listing)
    assert "資格確認限定型" not in next(line for line in listing.splitlines() if "1341234563" in line)

    with cli.app.extensions["sessionmaker"]() as session:
        pharmacy = institution_by_code(session, "1341234563")
        grants.register_consent(session, institution_id=pharmacy.id, person_id="p-1", card_id="c", care_setting=3,
                                categories=["drug"], consultation_date=TODAY, now=clock.now())
        session.commit()
    on = cli("institution", "set", "1341234563", "--qualification-only", "on")
    assert on.exit_code == 0, on.output
    assert "qualification-only on" in on.output and "1 open consent" in on.output
    off = cli("institution", "set", "1341234563", "--qualification-only", "off")
    assert off.exit_code == 0 and "ended" not in off.output
    with cli.app.extensions["sessionmaker"]() as session:
        modes = dict(session.execute(select(Institution.institution_code, Institution.qualification_only)).all())
        assert modes == {"1311234577": True, "1341234563": False}
        (consent,) = session.scalars(select(Consent)).all()
        assert flags(consent, clock.now())["drug"] == (2, USE_CHANGED)

    assert cli("institution", "set", "0000000000", "--qualification-only", "on").exit_code == 2
    assert cli("institution", "set", "1341234563", "--qualification-only", "maybe").exit_code == 2
    assert cli("institution", "set", "1341234563").exit_code == 2


def test_the_sandbox_creates_a_qualification_only_institution(make_app):
    app = make_app("sandbox", use_clock=False)
    client = app.test_client()
    made = client.post("/sandbox/institutions", json={"qualification_only": True})
    assert made.status_code == 201 and made.get_json()["qualification_only"] is True
    url = made.get_json()["reception_url"].removeprefix(ORIGIN)
    top = client.get(url).get_data(as_text=True)
    assert "資格確認を始めるには、職員がログインしてください" in top and "資格確認をする" not in top
    clerk = next(s for s in made.get_json()["staff"] if s["role"] == "clerk")
    signed_in = client.post(f"{url}/staff/login", data={"csrf_token": csrf_of(top), "login_id": clerk["login_id"],
                                                         "password": clerk["password"]})
    assert signed_in.status_code == 303 and "資格確認をする" in client.get(url).get_data(as_text=True)
    normal = client.post("/sandbox/institutions", json={}).get_json()
    assert normal["qualification_only"] is False
    for bad in ("yes", 1, None):
        resp = client.post("/sandbox/institutions", json={"qualification_only": bad})
        assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_field"


def test_the_sandbox_switches_an_institution_with_patch_and_ends_its_open_consents(make_app):
    app = make_app("sandbox", use_clock=False)
    client = app.test_client()
    made = client.post("/sandbox/institutions", json={}).get_json()
    code = made["institution_code"]
    with app.extensions["sessionmaker"]() as session:
        institution = institution_by_code(session, code)
        clock = app.extensions["clock"]
        today = clock.now().astimezone(JST).date()
        grants.register_consent(session, institution_id=institution.id, person_id="p-1", card_id="c", care_setting=3,
                                categories=["drug", "limit"], consultation_date=today, now=clock.now())
        session.commit()
    assert client.patch(f"/sandbox/institutions/{code}", json={"qualification_only": "on"}).status_code == 422
    on = client.patch(f"/sandbox/institutions/{code}", json={"qualification_only": True})
    assert on.status_code == 200 and on.get_json()["qualification_only"] is True
    with app.extensions["sessionmaker"]() as session:
        (consent,) = session.scalars(select(Consent)).all()
        now = app.extensions["clock"].now()
        assert (flags(consent, now)["drug"], flags(consent, now)["limit"]) == ((2, USE_CHANGED), (0, USE_CHANGED))
        institution_id = institution_by_code(session, code).id
        (mode,) = audit_events(session, institution_id, "institution_mode_changed")
        assert json.loads(mode.detail)["by"] == "sandbox"
    # The reception URL is now the counter device: its staff login first.
    assert "資格確認を始めるには" in client.get(made["reception_url"].removeprefix(ORIGIN)).get_data(as_text=True)
    # Other fields in the same request are kept beside the switch.
    off = client.patch(f"/sandbox/institutions/{code}", json={"name": "改名薬局", "qualification_only": False})
    assert off.status_code == 200 and (off.get_json()["name"], off.get_json()["qualification_only"]) == (
        "改名薬局", False)
    assert "同意登録をする" in client.get(made["reception_url"].removeprefix(ORIGIN)).get_data(as_text=True)


# --- the migration -----------------------------------------------------------------------------------


def test_migration_0017_adds_the_mode_off_and_goes_down_and_up_again(database_url, institution_id):
    from sqlalchemy import create_engine, inspect

    from store.migrate import downgrade, upgrade

    def columns(engine):
        return {c["name"] for c in inspect(engine).get_columns("institutions")}

    engine = create_engine(database_url)
    try:
        downgrade(database_url, "0017_qualonly-1")
        assert "qualification_only" not in columns(engine)
        upgrade(database_url)
        assert "qualification_only" in columns(engine)
        with engine.connect() as conn:
            # An institution from before is not in the mode.
            assert conn.execute(select(Institution.qualification_only).where(Institution.id == institution_id)
                                ).scalar_one() is False
    finally:
        upgrade(database_url)
        engine.dispose()
