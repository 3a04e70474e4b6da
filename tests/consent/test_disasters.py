"""The disaster measure (災害時特別措置): declaring an area and period, and reading without the card
inside it - one second before and after the period (JST), in and out of the area, licensed or not."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, func, inspect, select

from api_support import TODAY, console_login, csrf_of
from consent.app import disaster as app_disaster
from consent import disasters
from consent.actors import Actor
from consent.audit import reads_of_person, verify_chain
from consent.clock import JST
from consent.decision import NOT_LICENSED, decide
from consent.disasters import Disaster, DisasterBasis, DisasterError
from consent.institutions import Institution, create_institution
from consent.models import AuditEntry, Consent
from consent.security_log import events
from integrations.card import make_card_authority
from integrations.card.soft_authenticator import SoftCard
from integrations.oqs.simulator import make_oqs
from integrations.oqs.simulator.models import OqsPerson
from ops.demo import load_demo
from store.migrate import downgrade, upgrade
from web.error_messages import decision_message

START = datetime(2026, 11, 23, 9, 0, tzinfo=JST)  # inclusive
END = datetime(2026, 11, 30, 0, 0, tzinfo=JST)  # exclusive
SECOND = timedelta(seconds=1)
OSAKA_PHARMACY = "2741234562"  # 27 大阪府


def _declare(world, **kwargs):
    kwargs.setdefault("name", "テスト地震")
    kwargs.setdefault("starts_at", START)
    kwargs.setdefault("ends_at", END)
    with world.session() as s:
        disaster = disasters.declare(s, now=kwargs.pop("now", START - timedelta(days=1)), **kwargs)
        s.commit()
        return disaster.id


def _read(world, disaster_id, *, at, institution=None, role="pharmacist", category="drug", kind="oral",
          person_id=None):
    institution = institution or world.here
    with world.session() as s:
        actor = Actor.for_staff(staff_id=1, institution_id=institution, role=role)
        decision = decide(s, institution_id=institution, actor=actor, person_id=person_id or world.person.person_id,
                          category=category, now=at, disaster=DisasterBasis(disaster_id, kind))
        s.commit()
        return decision


def _osaka(world) -> int:
    with world.session() as s:
        institution = create_institution(s, code=OSAKA_PHARMACY, name="大阪の薬局", now=START)
        s.commit()
        return institution.id


# --- the period: from inclusive, until exclusive, JST ----------------------------------------


@pytest.mark.parametrize("at, allowed", [
    (START - SECOND, False), (START, True), (END - SECOND, True), (END, False),
])
def test_a_read_is_allowed_exactly_inside_the_period(world, at, allowed):
    disaster_id = _declare(world, prefectures=["13"])
    decision = _read(world, disaster_id, at=at)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason == "disaster_not_in_effect" and "期間外" in decision_message(decision)


def test_an_ended_disaster_refuses_from_the_end_on(world):
    disaster_id = _declare(world, prefectures=["13"])
    ended = START + timedelta(days=1)
    with world.session() as s:
        disasters.end(s, disaster_id=disaster_id, now=ended)
        s.commit()
    assert _read(world, disaster_id, at=ended - SECOND).allowed
    assert _read(world, disaster_id, at=ended).reason == "disaster_not_in_effect"


# --- the area: prefectures and institutions, their union -------------------------------------


def test_the_area_is_the_prefecture_of_the_code_or_a_listed_institution(world):
    osaka = _osaka(world)
    tokyo = _declare(world, prefectures=["13"])
    inside = START + timedelta(hours=1)
    assert _read(world, tokyo, at=inside).allowed  # 13... is in 東京都
    out = _read(world, tokyo, at=inside, institution=osaka)
    assert out.reason == "disaster_out_of_area" and "対象地域外" in decision_message(out)
    listed = _declare(world, prefectures=["01"], institution_codes=[OSAKA_PHARMACY], name="北海道と大阪の1薬局")
    assert _read(world, listed, at=inside, institution=osaka).allowed
    assert _read(world, listed, at=inside).reason == "disaster_out_of_area"


def test_a_clerk_is_refused_and_the_categories_are_qualification_drug_and_checkup(world):
    disaster_id = _declare(world, prefectures=["13"])
    inside = START + timedelta(hours=1)
    assert _read(world, disaster_id, at=inside, role="clerk").reason == NOT_LICENSED
    assert _read(world, disaster_id, at=inside, role="clerk", category="qualification").reason == NOT_LICENSED
    assert _read(world, disaster_id, at=inside, role="admin", category="checkup").reason == NOT_LICENSED
    assert _read(world, disaster_id, at=inside, category="clinical").reason == "disaster_category_excluded"
    for category in ("qualification", "drug", "checkup"):
        assert _read(world, disaster_id, at=inside, category=category).allowed


def test_a_qualification_only_institution_stays_qualification_only(world):
    disaster_id = _declare(world, prefectures=["13"])
    with world.session() as s:
        s.get(Institution, world.here).qualification_only = True
        s.commit()
    assert _read(world, disaster_id, at=START, category="drug").reason == "qualification_only"
    assert _read(world, disaster_id, at=START, category="checkup").reason == "qualification_only"
    assert _read(world, disaster_id, at=START, category="qualification").allowed


def test_without_a_recorded_consent_kind_nothing_is_read(world):
    disaster_id = _declare(world, prefectures=["13"])
    decision = _read(world, disaster_id, at=START, kind=None)
    assert decision.reason == "disaster_consent_not_recorded"
    # The real 災害時 screen offers 「口頭で同意を得た」 or 「同意なし」; 同意取得困難 is no choice any more.
    assert _read(world, disaster_id, at=START, kind="difficult").reason == "disaster_consent_not_recorded"
    assert _read(world, disaster_id, at=START, kind="none").allowed
    assert _read(world, disaster_id, at=START, kind="oral").allowed


def test_the_audit_names_the_disaster_and_the_consent_kind_and_no_consent_is_made(world):
    disaster_id = _declare(world, prefectures=["13"])
    person = world.person.person_id
    with world.session() as s:
        consents_before = s.scalar(select(func.count()).select_from(Consent))
    _read(world, disaster_id, at=START, kind="none")
    _read(world, disaster_id, at=END, kind="oral")
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(Consent)) == consents_before
        rows = s.execute(select(AuditEntry.event, AuditEntry.detail, AuditEntry.reason, AuditEntry.consent_id)
                         .where(AuditEntry.person_id == person, AuditEntry.institution_id == world.here,
                                AuditEntry.event.like("read_%")).order_by(AuditEntry.seq)).all()
        assert [(r.event, json.loads(r.detail), r.reason, r.consent_id) for r in rows] == [
            ("read_allowed", {"disaster_id": disaster_id, "consent_kind": "none"}, None, None),
            ("read_denied", {"disaster_id": disaster_id, "consent_kind": "oral"}, "disaster_not_in_effect", None),
        ]
        records = reads_of_person(s, person_id=person, institution_id=world.here)
        assert [(r.disaster, r.allowed, r.consent_kind) for r in records] == [(True, False, "oral"),
                                                                              (True, True, "none")]
        assert verify_chain(s, world.here) is None


# --- declaring --------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, code", [
    ({}, "empty_area"),
    ({"prefectures": ["48"]}, "unknown_prefecture"),
    ({"prefectures": ["13"], "institution_codes": ["9941234560"]}, "unknown_institution"),
    ({"prefectures": ["13"], "ends_at": START}, "invalid_period"),
    ({"prefectures": ["13"], "ends_at": START - SECOND}, "invalid_period"),
    ({"prefectures": ["13"], "name": " "}, "invalid_name"),
])
def test_a_bad_declaration_is_refused_and_writes_nothing(world, kwargs, code):
    with pytest.raises(DisasterError) as raised:
        _declare(world, **kwargs)
    assert raised.value.code == code
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(Disaster)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.event.like("disaster_%"))) == 0


def test_an_area_and_period_meeting_an_active_disaster_are_refused(world):
    first = _declare(world, prefectures=["13"])
    # The same institution through its code, or its prefecture against a listed code: refused.
    for kwargs in ({"institution_codes": ["1341234563"]}, {"prefectures": ["14", "13"]},
                   {"prefectures": ["13"], "starts_at": END - SECOND, "ends_at": END + timedelta(days=3)}):
        with pytest.raises(DisasterError) as raised:
            _declare(world, **kwargs)
        assert raised.value.code == "intersects_active" and raised.value.detail == first
    # Elsewhere, or right after the period: fine. Once ended, the area is free again.
    _declare(world, prefectures=["14"])
    _declare(world, prefectures=["13"], starts_at=END, ends_at=END + timedelta(days=1), name="翌週")
    with world.session() as s:
        disasters.end(s, disaster_id=first, now=START)
        s.commit()
    _declare(world, institution_codes=["1341234563"], now=START, name="延長")
    with pytest.raises(DisasterError) as raised:
        with world.session() as s:
            disasters.end(s, disaster_id=first, now=START)
    assert raised.value.code == "already_over"


def test_declaring_and_ending_are_audited_in_every_covered_chain_and_the_security_log(world):
    osaka = _osaka(world)
    disaster_id = _declare(world, prefectures=["13"])
    with world.session() as s:
        disasters.end(s, disaster_id=disaster_id, now=START)
        s.commit()
    with world.session() as s:
        rows = s.execute(select(AuditEntry.institution_id, AuditEntry.event, AuditEntry.actor_kind, AuditEntry.detail)
                         .where(AuditEntry.event.like("disaster_%")).order_by(AuditEntry.created_at)).all()
        assert {(r.institution_id, r.event, r.actor_kind) for r in rows} == {
            (world.here, "disaster_declared", "operator"), (world.there, "disaster_declared", "operator"),
            (world.here, "disaster_ended", "operator"), (world.there, "disaster_ended", "operator")}
        assert all(json.loads(r.detail) == {"disaster_id": disaster_id} for r in rows)
        assert osaka not in {r.institution_id for r in rows}
        logged = events(s, subject=f"disaster:{disaster_id}")
        assert [e.event for e in logged] == ["disaster_declared", "disaster_ended"]
        assert verify_chain(s, world.here) is None


# --- the console ------------------------------------------------------------------------------


def _console_disaster(world, clock, **kwargs):
    kwargs.setdefault("prefectures", ["13"])
    disaster_id = _declare(world, starts_at=clock.now() - timedelta(hours=1), ends_at=clock.now() + timedelta(days=7),
                           now=clock.now() - timedelta(hours=2), **kwargs)
    return disaster_id


def _search(browser, **form):
    page = browser.get("/pharmacy/disaster")
    return browser.post("/pharmacy/disaster/search", data={"csrf_token": csrf_of(page.get_data(as_text=True)), **form})


def _insurance(person) -> dict:
    return {"how": "insurance", "insurer_number": person.insurer_number, "symbol": person.symbol or "",
            "number": person.number, "branch": person.branch or "", "birth_date": person.birth_date.isoformat()}


def test_a_pharmacist_finds_a_person_by_insurance_numbers_and_reads_with_oral_consent(world, clock):
    disaster_id = _console_disaster(world, clock)
    browser = console_login(world.app, "pharmacist")
    patients = browser.get("/pharmacy/").get_data(as_text=True)
    assert "災害時閲覧" in patients and "災害時特別措置（実施中）：テスト地震" in patients
    found = _search(browser, **_insurance(world.person))
    assert found.status_code == 303
    page = browser.get("/pharmacy/disaster").get_data(as_text=True)
    assert world.person.name in page and "口頭で同意を得た" in page and "同意なし" in page
    assert "同意取得困難" not in page
    read = browser.post("/pharmacy/disaster/read", data={
        "csrf_token": csrf_of(page), "disaster_id": str(disaster_id), "consent_kind": "oral"})
    html = read.get_data(as_text=True)
    assert read.status_code == 200, html
    for heading in ("資格情報", "薬剤情報", "特定健診情報"):
        assert f">{heading}</h2>" in html
    assert "閲覧できません" not in html and "記録した同意：口頭で同意を得た" in html
    assert world.person.insurer_number in html  # the qualification, as the patient page shows it
    with world.session() as s:
        details = [json.loads(d) for d in s.scalars(select(AuditEntry.detail).where(
            AuditEntry.event == "read_allowed", AuditEntry.person_id == world.person.person_id))]
        assert details == [{"disaster_id": disaster_id, "consent_kind": "oral"}] * 3


def test_at_a_qualification_only_institution_the_read_shows_the_qualification_alone(world, clock):
    disaster_id = _console_disaster(world, clock)
    with world.session() as s:
        s.get(Institution, world.here).qualification_only = True
        s.commit()
    browser = console_login(world.app, "pharmacist")
    _search(browser, **_insurance(world.person))
    page = browser.get("/pharmacy/disaster").get_data(as_text=True)
    read = browser.post("/pharmacy/disaster/read", data={
        "csrf_token": csrf_of(page), "disaster_id": str(disaster_id), "consent_kind": "oral"})
    html = read.get_data(as_text=True)
    assert read.status_code == 403 and world.person.insurer_number in html
    assert html.count("閲覧できません：資格確認限定型の医療機関等では") == 2  # 薬剤情報 and 特定健診情報


def test_a_read_without_choosing_the_consent_kind_shows_no_data(world, clock):
    disaster_id = _console_disaster(world, clock)
    browser = console_login(world.app, "pharmacist")
    _search(browser, **_insurance(world.person))
    page = browser.get("/pharmacy/disaster").get_data(as_text=True)
    read = browser.post("/pharmacy/disaster/read", data={"csrf_token": csrf_of(page), "disaster_id": str(disaster_id)})
    assert read.status_code == 400 and "「口頭で同意を得た」か「同意なし」かを記録してください" in read.get_data(as_text=True)
    assert ">薬剤情報</h2>" not in read.get_data(as_text=True)


def test_a_malformed_disaster_id_on_the_read_goes_back_to_the_search(world, clock):
    _console_disaster(world, clock)
    browser = console_login(world.app, "pharmacist")
    _search(browser, **_insurance(world.person))
    page = browser.get("/pharmacy/disaster").get_data(as_text=True)
    for bad in ("²", "١", "-1", "", "9" * 12, "1x"):
        read = browser.post("/pharmacy/disaster/read", data={
            "csrf_token": csrf_of(page), "disaster_id": bad, "consent_kind": "oral"})
        assert read.status_code == 303, bad


def test_finding_by_name_birth_date_and_address_needs_exactly_one_match(world, clock):
    _console_disaster(world, clock)
    with world.session() as s:
        person = make_oqs(s).person(world.person.person_id)
    browser = console_login(world.app, "pharmacist")
    by_name = {"how": "name", "kana": person.kana.replace(" ", "").replace("\u3000", ""),
               "birth_date": person.birth_date.isoformat()}
    assert _search(browser, **by_name, postcode=person.postcode).status_code == 303
    assert _search(browser, **by_name, address=person.address[:8]).status_code == 303
    missing = _search(browser, **by_name, postcode="0000000")
    assert missing.status_code == 404 and "該当する方が見つかりません" in missing.get_data(as_text=True)
    asked = _search(browser, **by_name)
    assert asked.status_code == 400 and "住所か郵便番号を入力してください" in asked.get_data(as_text=True)
    # A twin with the same name, birth date and address: asked for more, never shown a list.
    with world.session() as s:
        twin = make_oqs(s).create_person(today=TODAY, birth_date=person.birth_date)
        row = s.get(OqsPerson, twin.person_id)
        row.kana, row.postcode, row.address, row.name = person.kana, person.postcode, person.address, "別人 花子"
        s.commit()
    several = _search(browser, **by_name, postcode=person.postcode)
    html = several.get_data(as_text=True)
    assert several.status_code == 409 and "もう少し詳しく" in html
    assert person.name not in html and "別人 花子" not in html


def test_searches_are_limited_per_staff_member(world, clock, monkeypatch, one_rate_minute):
    monkeypatch.setattr(app_disaster, "SEARCHES_PER_MINUTE", 2)
    _console_disaster(world, clock)
    browser = console_login(world.app, "pharmacist")
    assert [_search(browser, how="name", kana="ヤマダ", birth_date="1960-01-01", postcode="1000001").status_code
            for _ in range(3)] == [404, 404, 429]


def test_the_console_announces_a_declaration_before_during_and_a_week_after(world, clock):
    now = clock.now()
    disaster_id = _declare(world, prefectures=["13"], starts_at=now + timedelta(days=1),
                           ends_at=now + timedelta(days=3), now=now)
    browser = console_login(world.app, "pharmacist")
    assert "災害時特別措置（予定）：テスト地震" in browser.get("/pharmacy/").get_data(as_text=True)
    clock.set(now + timedelta(days=1))
    page = browser.get("/pharmacy/").get_data(as_text=True)
    assert "災害時特別措置（実施中）：テスト地震" in page and "災害時閲覧</a>" in page
    with world.session() as s:
        disasters.end(s, disaster_id=disaster_id, now=clock.now())
        s.commit()
    page = browser.get("/pharmacy/").get_data(as_text=True)
    assert "災害時特別措置（終了）：テスト地震" in page and "災害時閲覧</a>" not in page
    clock.set(now + timedelta(days=8, seconds=1))
    assert "テスト地震" not in browser.get("/pharmacy/").get_data(as_text=True)


def test_a_declaration_ended_before_its_start_is_announced_as_ended_not_planned(world, clock):
    now = clock.now()
    disaster_id = _declare(world, prefectures=["13"], starts_at=now + timedelta(days=1),
                           ends_at=now + timedelta(days=3), now=now)
    with world.session() as s:
        disasters.end(s, disaster_id=disaster_id, now=now)
        s.commit()
    page = console_login(world.app, "pharmacist").get("/pharmacy/").get_data(as_text=True)
    assert "災害時特別措置（終了）：テスト地震" in page and "（予定）" not in page


def test_a_clerk_is_refused_with_the_reason_and_the_refusal_is_audited(world, clock):
    disaster_id = _console_disaster(world, clock)
    browser = console_login(world.app, "clerk")
    assert "災害時閲覧</a>" not in browser.get("/pharmacy/").get_data(as_text=True)
    page = browser.get("/pharmacy/disaster")
    assert page.status_code == 403
    assert "閲覧できません：有資格者のみ閲覧できます" in page.get_data(as_text=True)
    searched = browser.post("/pharmacy/disaster/search", data={
        "csrf_token": csrf_of(page.get_data(as_text=True)), **_insurance(world.person)})
    assert searched.status_code == 403 and world.person.name not in searched.get_data(as_text=True)
    with world.session() as s:
        denied = s.execute(select(AuditEntry.reason, AuditEntry.detail, AuditEntry.actor_role)
                           .where(AuditEntry.event == "read_denied")).all()
        assert [(r.reason, json.loads(r.detail), r.actor_role) for r in denied] == [
            ("not_licensed", {"disaster_id": disaster_id, "consent_kind": None}, "clerk")] * 2


def test_outside_any_disaster_the_page_refuses_and_shows_no_menu_entry(world, clock):
    browser = console_login(world.app, "pharmacist")
    assert "災害時閲覧</a>" not in browser.get("/pharmacy/").get_data(as_text=True)
    page = browser.get("/pharmacy/disaster")
    assert page.status_code == 403 and "災害時特別措置の期間外です" in page.get_data(as_text=True)
    _console_disaster(world, clock, prefectures=["27"])
    page = browser.get("/pharmacy/disaster")
    assert page.status_code == 403 and "対象地域外" in page.get_data(as_text=True)
    assert "テスト地震" not in page.get_data(as_text=True)  # no banner outside the area


def test_a_read_a_second_after_the_end_is_refused_with_the_disaster_named(world, clock):
    disaster_id = _console_disaster(world, clock)
    browser = console_login(world.app, "pharmacist")
    _search(browser, **_insurance(world.person))
    page = browser.get("/pharmacy/disaster").get_data(as_text=True)
    with world.session() as s:
        disasters.end(s, disaster_id=disaster_id, now=clock.now() - SECOND)
        s.commit()
    read = browser.post("/pharmacy/disaster/read", data={
        "csrf_token": csrf_of(page), "disaster_id": str(disaster_id), "consent_kind": "oral"})
    assert read.status_code == 403 and "閲覧できません：災害時特別措置の期間外です" in read.get_data(as_text=True)
    assert "処方・調剤情報" not in read.get_data(as_text=True)


# --- sandbox and operator commands ------------------------------------------------------------


def test_sandbox_institutions_take_a_prefecture_and_disasters_are_declared_as_contracted(make_app):
    app = make_app("sandbox")
    client = app.test_client()
    osaka = client.post("/sandbox/institutions", json={"prefecture": "27"}).get_json()["institution_code"]
    tokyo = client.post("/sandbox/institutions", json={}).get_json()["institution_code"]
    assert osaka.startswith("274") and tokyo.startswith("134")
    for bad in ({"prefecture": 27}, {"prefecture": "48"}, {"prefecture": "7"}):
        assert client.post("/sandbox/institutions", json=bad).status_code == 422
    body = {"name": "QA地震", "prefectures": ["13"], "institution_codes": [osaka],
            "from": "2026-11-23T00:00:00+09:00", "until": "2026-11-30T00:00:00+09:00"}
    created = client.post("/sandbox/disasters", json=body)
    assert created.status_code == 201 and isinstance(created.get_json()["disaster_id"], int)
    for bad in ({**body, "prefectures": [], "institution_codes": []}, {**body, "prefectures": ["99"]},
                {**body, "institution_codes": ["2741234562"], "prefectures": ["01"]},
                {**body, "until": body["from"]}, {**body, "until": "2026-11-30T00:00:00"}, body):
        refused = client.post("/sandbox/disasters", json=bad)
        assert refused.status_code == 422, (bad, refused.get_json())
        assert refused.get_json()["message"]
    assert client.post("/sandbox/disasters", data="x").status_code == 415


def test_operator_commands_declare_list_and_end(app, institution_id):
    runner = app.test_cli_runner()
    declared = runner.invoke(args=["disaster", "declare", "--name", "CLI地震", "--prefectures", "13,14",
                                   "--from", "2026-11-23T00:00:00+09:00", "--until", "2026-12-01T00:00:00+09:00"])
    assert declared.exit_code == 0, declared.output
    assert "declared 1  in effect  CLI地震" in declared.output and "institutions covered now: 2" in declared.output
    again = runner.invoke(args=["disaster", "declare", "--name", "重複", "--institutions", "1341234563",
                                "--from", "2026-11-24T00:00:00+09:00", "--until", "2026-11-25T00:00:00+09:00"])
    assert again.exit_code == 2 and "meet those of active disaster 1" in again.output
    for args in (["--prefectures", "", "--institutions", ""], ["--prefectures", "00"],
                 ["--institutions", "1341234999"]):
        refused = runner.invoke(args=["disaster", "declare", "--name", "x", *args,
                                      "--from", "2027-01-01T00:00:00+09:00", "--until", "2027-01-02T00:00:00+09:00"])
        assert refused.exit_code == 2, refused.output
    naive = runner.invoke(args=["disaster", "declare", "--name", "x", "--prefectures", "01",
                                "--from", "2027-01-01T00:00:00", "--until", "2027-01-02T00:00:00+09:00"])
    assert naive.exit_code == 2 and "offset" in naive.output
    listed = runner.invoke(args=["disaster", "list"])
    assert listed.output.count("\n") == 1 and "prefectures 13,14" in listed.output
    assert "from 2026-11-23T00:00:00+09:00  until 2026-12-01T00:00:00+09:00" in listed.output  # JST, as declared
    ended = runner.invoke(args=["disaster", "end", "1"])
    assert ended.exit_code == 0 and "ended 1  ended" in ended.output
    assert runner.invoke(args=["disaster", "end", "1"]).exit_code == 2
    assert runner.invoke(args=["disaster", "end", "7"]).exit_code == 2


def test_operator_commands_refuse_instants_and_ids_out_of_range_without_a_traceback(cli):
    for starts, ends in (("0001-01-01T00:00:00+09:00", "2026-12-01T00:00:00+09:00"),
                         ("2026-12-01T00:00:00+09:00", "9999-12-31T23:00:00-05:00"),
                         ("2026-12-01T00:00:00+09:00", "2200-01-01T00:00:00+09:00")):
        refused = cli("disaster", "declare", "--name", "x", "--prefectures", "13", "--from", starts, "--until", ends)
        assert refused.exit_code == 2 and "ISO 8601" in refused.output, refused.output
    for disaster_id in ("99999999999999999999", "0"):
        refused = cli("disaster", "end", disaster_id)
        assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output
    assert cli("disaster", "list").output == ""


def test_migration_0018_goes_down_and_up_again(database_url):
    def shape():
        engine = create_engine(database_url)
        try:
            inspector = inspect(engine)
            return (set(inspector.get_table_names()),
                    {i["name"] for i in inspector.get_indexes("oqs_people")})
        finally:
            engine.dispose()

    try:
        downgrade(database_url, "0016_visits")  # to the revision before 0018_disasters
        tables, indexes = shape()
        assert "disasters" not in tables and "ix_oqs_people_birth_date" not in indexes
    finally:
        upgrade(database_url)
    tables, indexes = shape()
    assert "disasters" in tables and "ix_oqs_people_birth_date" in indexes


def test_the_patient_sees_the_read_in_the_review_pages_read_log(world, clock):
    disaster_id = _console_disaster(world, clock)
    with world.session() as s:
        issued = make_card_authority(s).issue_card(person_id=world.person.person_id,
                                                   birth_date=world.person.birth_date, now=clock.now())
        token = s.get(Institution, world.here).reception_token
        s.commit()
    browser = console_login(world.app, "pharmacist")
    _search(browser, **_insurance(world.person))
    page = browser.get("/pharmacy/disaster").get_data(as_text=True)
    browser.post("/pharmacy/disaster/read", data={
        "csrf_token": csrf_of(page), "disaster_id": str(disaster_id), "consent_kind": "none"})

    key = serialization.load_der_private_key(issued.private_key_pkcs8, password=None)
    card = SoftCard(issued.card.credential_id, issued.card.user_handle, key)
    patient = world.app.test_client()
    start = patient.get(f"/r/{token}/review").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', start).group(1)
    options = patient.post("/card/options?purpose=review", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    verified = patient.post(f"/r/{token}/review/verify", headers={"X-CSRF-Token": csrf}, json={
        "credential": card.assertion(options, origin="http://localhost:5000")})
    review = patient.get(verified.get_json()["redirect"]).get_data(as_text=True)
    log = review[review.index("閲覧の記録"):]
    assert log.count("災害時特別措置による閲覧") == 3
    assert log.count("同意の記録：同意なし") == 3 and "同意取得困難" not in log
    for label in ("資格情報", "薬剤・処方", "特定健診"):
        assert label in log


def test_the_demo_pharmacy_is_inside_a_declared_disaster_and_its_pharmacist_can_try_it(make_app):
    app = make_app("sandbox")
    summary = load_demo(app)
    load_demo(app)  # idempotent: still one disaster
    text = summary.describe(app.config["SETTINGS"])
    assert "/pharmacy/disaster" in text and "デモ用 災害時特別措置（訓練）" in text
    with app.extensions["sessionmaker"]() as s:
        assert len(disasters.all_disasters(s)) == 1
        person = make_oqs(s).person("demo-suzuki-ichiro")
    browser = console_login(app, "demo-pharmacist", "demo-pharmacist-pass")
    assert "災害時閲覧</a>" in browser.get("/pharmacy/").get_data(as_text=True)
    found = _search(browser, how="name", kana=person.kana, birth_date=person.birth_date.isoformat(),
                    postcode=person.postcode)
    assert found.status_code == 303
    assert "鈴木" in browser.get("/pharmacy/disaster").get_data(as_text=True)


def test_old_difficult_reads_show_as_none_in_the_audit_log_and_the_chain_still_verifies(world):
    """Reads recorded as 「同意取得困難」 ("difficult") before issue 39 stay as written in the keyed
    chain (a rewrite would break it) and are shown as 「同意なし」."""
    from consent import audit
    disaster_id = _declare(world, prefectures=["13"])
    _read(world, disaster_id, at=START, kind="oral")
    with world.session() as s:  # as the code before this release wrote it
        audit.append_entry(s, institution_id=world.here, event="read_allowed", now=START, actor_kind="staff",
                           actor_id="1", actor_role="pharmacist", person_id=world.person.person_id,
                           category="drug", detail={"disaster_id": disaster_id, "consent_kind": "difficult"})
        s.commit()
        assert verify_chain(s, world.here) is None
        kinds = [r.consent_kind for r in reads_of_person(s, person_id=world.person.person_id,
                                                          institution_id=world.here)]
        assert kinds == ["none", "oral"]
    log = console_login(world.app, "admin").get("/pharmacy/admin/audit").get_data(as_text=True)
    assert "災害時閲覧（同意なし）" in log and "災害時閲覧（口頭で同意を得た）" in log
    assert "同意取得困難" not in log and "difficult" not in log
