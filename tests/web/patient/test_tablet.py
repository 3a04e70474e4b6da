"""The institution's own tablet (外来, 往診, 訪問診療等) through the test client, with a software card:
staff login, 「受付モード」, the outpatient and house-call flows, the neutral start, leaving."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import TODAY
from api_support import console_login
from consent import grants
from consent.actors import Actor
from consent.decision import decide
from consent.vocabulary import HOME_VISIT, OUTPATIENT
from integrations.oqs.simulator import make_oqs
from patient_support import csrf_of
from patient_support import PASSWORD, consents, reception_mode, register, staff_login

@pytest.mark.parametrize("setting", ["outpatient", "home_visit", "house_call"])
def test_a_tablet_url_shows_the_staff_login_when_nobody_is_signed_in_never_the_form(place, setting):
    client = place["app"].test_client()
    url = place["urls"][setting]
    for path in (url, f"{url}/consent", f"{url}/confirm", f"{url}/review"):
        html = client.get(path).get_data(as_text=True)
        assert "職員ログイン" in html and "ログインID" in html, path
        assert "すべて同意する" not in html and "同意登録をする" not in html and "読み取り開始" not in html
    assert client.post(f"{url}/confirm/verify", json={}).status_code in (400, 401)  # CSRF, then the login


def test_the_online_url_stays_the_patients_own_phone(place):
    html = place["app"].test_client().get(place["urls"]["online"]).get_data(as_text=True)
    assert "同意登録をする" in html and "ログインID" not in html


def test_staff_of_another_institution_cannot_sign_in_on_this_tablet(place):
    client = place["app"].test_client()
    answer = staff_login(client, place["urls"]["outpatient"], login_id="there-clerk")
    assert answer.status_code == 403 and "この医療機関の職員" in answer.get_data(as_text=True)
    assert "受付モード" not in client.get(place["urls"]["outpatient"]).get_data(as_text=True)
    wrong = staff_login(client, place["urls"]["outpatient"], password="nope-nope")
    assert wrong.status_code == 401 and 'role="alert"' in wrong.get_data(as_text=True)


def test_another_institutions_tablet_url_while_signed_in_is_refused_and_shows_nothing(place):
    client = place["app"].test_client()
    reception_mode(client, place["urls"]["outpatient"])
    for path in (place["there"]["outpatient"], place["there"]["house_call"] + "/consent"):
        answer = client.get(path)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 403, path
        assert "よその薬局" not in html and "本町薬局" not in html and "同意登録をする" not in html


def test_the_outpatient_flow_registers_care_setting_1_for_today_windowed_like_online(place, clock):
    client = place["app"].test_client()
    url = place["urls"]["outpatient"]
    assert reception_mode(client, url).status_code == 303
    start = client.get(url).get_data(as_text=True)
    assert "同意登録をする" in start and "受付モードを終了" in start
    form = client.get(f"{url}/consent").get_data(as_text=True)
    # 診療日 is today, not asked.
    assert 'name="consultation_date"' not in form and "2026年11月23日（本日）" in form
    done = register(client, url, place["card"], consultation_date="2026-12-01", all="1")
    assert "同意登録が完了しました" in done and "2026年11月24日 23:59まで" in done
    assert f"{place['person'].name} 様のカードで登録しました" in done and "次の方の受付へ" in done
    [consent] = consents(place)
    assert (consent.care_setting, consent.house_call, consent.consultation_date) == (OUTPATIENT, False, TODAY)
    # The next request is the neutral start: nothing of the patient; the staff member stays signed in.
    start = client.get(url).get_data(as_text=True)
    assert place["person"].name not in start and "同意登録をする" in start
    assert "同意は登録済みです" not in start and "前回の操作" not in start
    again = client.get(f"{url}/done").get_data(as_text=True)
    assert place["person"].name not in again
    assert "すべて同意する" in client.get(f"{url}/consent").get_data(as_text=True)


@pytest.mark.parametrize("offset, allowed", [(timedelta(seconds=-1), True), (timedelta(0), False)])
def test_an_outpatient_consent_is_readable_until_the_end_of_the_next_day_jst(place, clock, offset, allowed):
    from consent.clock import JST
    from datetime import datetime, time

    client = place["app"].test_client()
    reception_mode(client, place["urls"]["outpatient"])
    register(client, place["urls"]["outpatient"], place["card"], categories=["drug"])
    [consent] = consents(place)
    end = datetime.combine(TODAY + timedelta(days=2), time(0, 0), tzinfo=JST)
    assert consent.window_end == end
    with place["app"].extensions["sessionmaker"]() as session:
        decision = decide(session, institution_id=place["id"], person_id=consent.person_id, category="drug",
                          actor=Actor.for_staff(staff_id=1, institution_id=place["id"], role="pharmacist"),
                          now=end + offset)
        session.commit()
    assert decision.allowed is allowed


def test_house_calls_on_two_days_are_two_consents_of_care_setting_2(place, clock):
    from datetime import datetime, time

    from consent.clock import JST

    client = place["app"].test_client()
    url = place["urls"]["house_call"]
    reception_mode(client, url)
    assert "往診" in client.get(url).get_data(as_text=True)
    register(client, url, place["card"], all="1")
    clock.set(datetime.combine(TODAY + timedelta(days=1), time(15, 0), tzinfo=JST))
    client.get(url)
    done = register(client, url, place["card"], categories=["drug", "limit"])
    assert "2026年11月25日 23:59まで" in done
    first, second = consents(place)
    assert [(c.care_setting, c.house_call) for c in (first, second)] == [(HOME_VISIT, True)] * 2
    assert (first.consultation_date, second.consultation_date) == (TODAY, TODAY + timedelta(days=1))
    assert first.id != second.id and second.categories == ("drug", "limit")


def test_the_home_visit_page_is_the_same_flow_opening_a_relationship_without_a_window(place):
    """The first home visit (issue 19): care setting 2 without house_call, no 閲覧期限 date;
    tests/web/patient/test_reception_home_visits.py has the rest."""
    client = place["app"].test_client()
    url = place["urls"]["home_visit"]
    reception_mode(client, url)
    done = register(client, url, place["card"])
    assert "同意登録が完了しました" in done and "訪問診療等が続く間" in done
    (consent,) = consents(place)
    assert (consent.care_setting, consent.house_call, consent.window_end) == (HOME_VISIT, False, None)


def test_after_two_idle_minutes_the_tablet_forgets_the_patient_and_starts_over(place, clock):
    client = place["app"].test_client()
    url = place["urls"]["outpatient"]
    reception_mode(client, url)
    page = client.get(f"{url}/consent").get_data(as_text=True)
    client.post(f"{url}/consent", data={"csrf_token": csrf_of(page), "categories": ["checkup"]})
    start = clock.now()
    clock.set(start + timedelta(seconds=119))
    assert client.get(f"{url}/tablet/idle").get_json() == {"redirect": None}
    assert client.get(f"{url}/confirm").status_code == 200  # a step: the two minutes start again
    clock.set(start + timedelta(seconds=119 + 120))
    assert client.get(f"{url}/tablet/idle").get_json() == {"redirect": url}
    form = client.get(f"{url}/consent").get_data(as_text=True)
    assert 'value="checkup" checked' not in form and "すべて同意する" in form
    # Still in reception mode: the staff member did not have to sign in again.
    assert "同意登録をする" in client.get(url).get_data(as_text=True)


def test_a_step_after_the_idle_time_lands_on_the_neutral_start(place, clock):
    client = place["app"].test_client()
    url = place["urls"]["outpatient"]
    reception_mode(client, url)
    client.get(f"{url}/consent")
    clock.set(clock.now() + timedelta(minutes=2))
    answer = client.get(f"{url}/confirm")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(url)


def test_in_reception_mode_the_console_is_out_of_reach_and_leaving_needs_the_password(place):
    client = place["app"].test_client()
    url = place["urls"]["outpatient"]
    reception_mode(client, url)
    for path in ("/pharmacy/", "/pharmacy/admin", "/pharmacy/login"):
        answer = client.get(path, follow_redirects=True)
        assert "同意取得済み患者一覧" not in answer.get_data(as_text=True), path
    # Another entry point of the same institution stays behind the staff member too.
    assert client.get(place["urls"]["house_call"]).headers["Location"].endswith(url)
    leave = client.get(f"{url}/tablet/leave").get_data(as_text=True)
    wrong = client.post(f"{url}/tablet/leave", data={"csrf_token": csrf_of(leave), "password": "guess-guess"})
    assert wrong.status_code == 401 and "同意登録をする" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/tablet/leave", data={"csrf_token": csrf_of(leave), "password": PASSWORD})
    assert "受付モード" in client.get(url).get_data(as_text=True)
    assert "同意取得済み患者一覧" in client.get("/pharmacy/").get_data(as_text=True)


def test_the_console_list_shows_each_consents_setting_and_filters_by_it(place, clock):
    app = place["app"]
    with app.extensions["sessionmaker"]() as session:
        oqs = make_oqs(session)
        for care_setting, house_call, born in ((1, False, 1), (2, True, 2), (3, False, 3)):
            person = oqs.create_person(today=TODAY, birth_date=date(1970, 1, born), validity=1)
            grants.register_consent(session, institution_id=place["id"], person_id=person.person_id, card_id="c",
                                    care_setting=care_setting, house_call=house_call, categories=["drug"],
                                    consultation_date=TODAY, now=clock.now(), validity_code=1)
        session.commit()
    browser = console_login(app, "here-clerk", PASSWORD)
    html = browser.get("/pharmacy/").get_data(as_text=True)
    assert "<td>外来</td>" in html and "<td>往診</td>" in html and "<td>オンライン診療等</td>" in html
    assert "診療区分" in html
    only = browser.get("/pharmacy/?setting=1").get_data(as_text=True)
    assert "<td>外来</td>" in only and "<td>往診</td>" not in only and "<td>オンライン診療等</td>" not in only
    visits = browser.get("/pharmacy/patients-fragment?setting=2").get_data(as_text=True)
    assert "<td>往診</td>" in visits and "<td>外来</td>" not in visits
    for bad in ("9", "x", "12", "²"):
        assert browser.get(f"/pharmacy/?setting={bad}").status_code == 400


def test_the_admin_switches_functions_and_rotates_each_tablet_url(place):
    app = place["app"]
    browser = console_login(app, "here-admin", PASSWORD)
    admin = browser.get("/pharmacy/admin").get_data(as_text=True)
    assert "環境設定" in admin and "訪問診療等" in admin
    assert "医療扶助" in browser.get("/pharmacy/admin/settings").get_data(as_text=True)
    assert place["urls"]["house_call"] in admin and place["urls"]["outpatient"] in admin
    csrf = csrf_of(admin)
    browser.post("/pharmacy/admin/functions", data={"csrf_token": csrf, "functions": ["online"]})
    patient = app.test_client()
    closed = patient.get(place["urls"]["house_call"])
    assert closed.status_code == 404 and "この受付は現在行っていません" in closed.get_data(as_text=True)
    assert patient.get(place["urls"]["outpatient"]).status_code == 200
    assert "環境設定で停止中" in browser.get("/pharmacy/admin").get_data(as_text=True)
    browser.post("/pharmacy/admin/rotate", data={"csrf_token": csrf, "setting": "outpatient", "confirm": "yes"})
    assert patient.get(place["urls"]["outpatient"]).status_code == 410
    assert patient.get(place["urls"]["online"]).status_code == 200
    assert browser.post("/pharmacy/admin/rotate", data={"csrf_token": csrf, "setting": "phone"}).status_code == 400
    assert browser.post("/pharmacy/admin/functions",
                        data={"csrf_token": csrf, "functions": ["dental"]}).status_code == 400
    assert browser.get("/pharmacy/admin/qr.svg?setting=house_call").status_code == 200


def test_the_api_reports_a_house_call_as_care_setting_2_with_house_call_true(place, clock):
    from web.api import ApiConsent

    client = place["app"].test_client()
    reception_mode(client, place["urls"]["house_call"])
    register(client, place["urls"]["house_call"], place["card"], categories=["drug"])
    [consent] = consents(place)
    answer = ApiConsent.of(consent, place["person"], None, clock.now())
    assert (answer.care_setting, answer.house_call) == (HOME_VISIT, True)
