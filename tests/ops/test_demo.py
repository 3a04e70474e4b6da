"""The demo data `make run` loads: idempotent, and the console shows today's demo patients."""
from __future__ import annotations

import re
from urllib.parse import urlencode
from datetime import date

from sqlalchemy import func, select

from api_support import console_login
from patient_support import csrf_of

from consent.models import Consent
from ops.demo import (
    DEMO_CONFIRMATIONS, DEMO_CONSENTS, DEMO_QUALIFICATION_ONLY_NAME, DEMO_QUALIFICATION_ONLY_STAFF, DEMO_STAFF,
    DEMO_STATION_NAME, DEMO_STATION_STAFF, load_demo,
)
from consent.institutions import Staff


def counts(app):
    with app.extensions["sessionmaker"]() as s:
        return s.scalar(select(func.count()).select_from(Consent)), s.scalar(select(func.count()).select_from(Staff))


def test_demo_load_is_idempotent_and_fills_todays_list(make_app):
    app = make_app("sandbox")
    summary = load_demo(app)
    first = counts(app)
    load_demo(app)
    # Today's consents, the clinic's confirmations, the two home-visit relationships (the
    # pharmacy's and the visiting-nurse station's) and the 資格確認書 holder's confirmation; the
    # staff, the stopped one included.
    assert counts(app) == first == (len(DEMO_CONSENTS) + len(DEMO_CONFIRMATIONS) + 2 + 1,
                                    len(DEMO_STAFF) + len(DEMO_QUALIFICATION_ONLY_STAFF) + len(DEMO_STATION_STAFF) + 1)
    assert "demo-pharmacist / demo-pharmacist-pass / pharmacist" in summary.describe(app.config["SETTINGS"])

    client = console_login(app, "demo-pharmacist", "demo-pharmacist-pass")
    html = client.get("/pharmacy/").get_data(as_text=True)
    for name in summary.patients:
        assert name in html
    assert client.get(f"/r/{summary.reception_token}").status_code == 200

    # The demo desktop client (authorization code + PKCE, loopback redirect) is offered to a
    # signed-in pharmacist, as clients/python/README.md's authorize_in_browser example needs.
    assert "demo-desktop / demo-desktop-secret" in summary.describe(app.config["SETTINGS"])
    page = client.get("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": "demo-desktop", "redirect_uri": "http://127.0.0.1:8765/callback",
        "state": "s", "scope": "consents drug", "code_challenge": "c" * 43, "code_challenge_method": "S256"}))
    assert page.status_code == 200 and "デモ連携（デスクトップのレセコン）" in page.get_data(as_text=True)

    # The demo API client from the README works as printed.
    token = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=("demo-system", "demo-system-secret"))
    assert token.status_code == 200, token.get_json()
    listing = app.test_client().get("/api/v1/consents?date=2026-11-23",
                                    headers={"Authorization": f"Bearer {token.get_json()['access_token']}"})
    # The home-visit patient is listed too: visited today; and the 資格確認書 holder, confirmed today.
    consents = listing.get_json()["consents"]
    holder = summary.certificate_holder.split(":")[0]
    assert {c["person"]["name"] for c in consents} == {*summary.patients, summary.home_visit_patient, holder}
    assert {c["person"]["name"]: c["source"] for c in consents}[holder] == "certificate"
    assert "資格確認書 only" in summary.describe(app.config["SETTINGS"]) and "保険者番号" in summary.certificate_holder
    # Two patients show per-category state: consented in steps, and with 限度額 removed.
    states = {c["person"]["name"]: {s["category"]: s for s in c["category_states"]}
              for c in listing.get_json()["consents"]}
    taro, hanako = states["山田　太郎"], states["山田　花子"]
    assert taro["drug"]["consented_at"] == "2026-11-23T07:00:00+09:00"
    assert taro["clinical"]["consented_at"] == "2026-11-23T09:00:00+09:00"
    assert (hanako["limit"]["flag"], hanako["drug"]["flag"]) == (0, 1)


def test_demo_shows_a_combined_patient_and_the_months_tickets(make_app):
    app = make_app("sandbox")
    load_demo(app)
    client = console_login(app, "demo-pharmacist", "demo-pharmacist-pass")
    listing = client.get("/pharmacy/").get_data(as_text=True)
    link = re.search(r'href="(/pharmacy/consents/[^"]+)"[^>]*>\s*木村', listing)
    assert link, "木村 由紀 is in today's list"
    html = client.get(link.group(1)).get_data(as_text=True)
    assert "<h3>医療保険</h3>" in html and "<h3>医療扶助</h3>" in html
    assert "調剤券" in html and "併用" in html and "処方箋発行医療機関" in html
    tickets = client.get("/pharmacy/medical-aid/tickets").get_data(as_text=True)
    assert "伊藤" in tickets and "木村" in tickets and "渡辺" not in tickets


def test_demo_has_a_home_visit_patient_with_three_visits(make_app):
    from consent import home_visits

    app = make_app("sandbox")
    summary = load_demo(app)
    assert summary.home_visit_patient == "加藤　恵子"
    assert "Home-visit patient" in summary.describe(app.config["SETTINGS"])
    with app.extensions["sessionmaker"]() as s:
        from consent.institutions import institution_by_code
        from ops.demo import DEMO_INSTITUTION_CODE

        (relationship,) = home_visits.relationships_of(s, institution_by_code(s, DEMO_INSTITUTION_CODE).id)
        assert len(home_visits.visits_of(s, relationship.id)) == 3
    html = console_login(app, "demo-pharmacist", "demo-pharmacist-pass").get("/pharmacy/home-visits").get_data(
        as_text=True)
    # The pharmacy sets no lapse (the default); the visiting-nurse station is the one demo
    # institution that does (30 days), so the lapse can be tried there.
    assert "加藤　恵子" in html and "訪問中" in html and "期限なし" in html and "あと" not in html
    station = console_login(app, "demo-vn-nurse", "demo-vn-nurse-pass").get("/pharmacy/home-visits").get_data(
        as_text=True)
    assert "加藤　恵子" in station and "あと30日" in station and "最後の訪問日から30日間" in station
    with app.extensions["sessionmaker"]() as s:
        from consent.institutions import Institution
        from ops.demo import DEMO_STATION_CODE

        lapses = dict(s.execute(select(Institution.institution_code, Institution.home_visit_lapse_days)).all())
    assert lapses == {code: (30 if code == DEMO_STATION_CODE else None) for code in lapses}
    assert "30 days without a recorded visit" in summary.describe(app.config["SETTINGS"])


def test_demo_has_a_qualification_only_clinic_with_todays_confirmations(make_app):
    app = make_app("sandbox")
    summary = load_demo(app)
    described = summary.describe(app.config["SETTINGS"])
    assert f"/r/{summary.qualification_only_token}" in described and "demo-qo-clerk / demo-qo-clerk-pass" in described
    # The clinic's counter device: the staff login first, then 「資格確認をする」.
    counter = app.test_client()
    url = f"/r/{summary.qualification_only_token}"
    login = counter.get(url).get_data(as_text=True)
    assert "職員ログイン" in login and "資格確認をする" not in login
    assert counter.post(f"{url}/staff/login", data={"csrf_token": csrf_of(login), "login_id": "demo-qo-clerk",
                                                     "password": "demo-qo-clerk-pass"}).status_code == 303
    top = counter.get(url).get_data(as_text=True)
    assert DEMO_QUALIFICATION_ONLY_NAME in top and "資格確認をする" in top and "同意登録をする" not in top
    # Whom to ask (issue 36): the clinic's own phone and privacy notice.
    assert 'href="tel:0120123456">0120-123-456</a>' in top and 'href="https://example.jp/demo-clinic/privacy"' in top
    pharmacy_top = app.test_client().get(f"/r/{summary.reception_token}").get_data(as_text=True)
    assert 'href="tel:0312345678">03-1234-5678</a>' in pharmacy_top

    client = console_login(app, "demo-qo-doctor", "demo-qo-doctor-pass")
    listing = client.get("/pharmacy/").get_data(as_text=True)
    assert summary.confirmed == ["加藤　恵子", "中村　浩二"]
    for name in summary.confirmed:
        assert name in listing
    assert "<td>資格確認</td>" in listing and "有効" in listing and "無効" in listing
    assert "オンライン診療等</td>" not in listing
    link = re.search(r'href="(/pharmacy/consents/[^"]+)"[^>]*>\s*加藤', listing)
    html = client.get(link.group(1)).get_data(as_text=True)
    assert "被保険者証区分" in html  # the qualification itself, and nothing else
    assert "閲覧できません" not in html and "<h2 id=\"h-drug\">" not in html and "同意の取消" not in html


def test_the_demo_pharmacy_runs_every_function_and_its_tablet_urls_open_for_the_demo_clerk(make_app):
    from patient_support import csrf_of

    app = make_app("sandbox")
    summary = load_demo(app)
    described = summary.describe(app.config["SETTINGS"])
    for setting in ("outpatient", "home_visit", "house_call"):
        assert f"/r/{summary.reception_tokens[setting]}" in described
    tablet = app.test_client()
    url = f"/r/{summary.reception_tokens['outpatient']}"
    page = tablet.get(url).get_data(as_text=True)
    assert "職員ログイン" in page
    tablet.post(f"{url}/staff/login", data={"csrf_token": csrf_of(page), "login_id": "demo-clerk",
                                            "password": "demo-clerk-pass"})
    assert "受付モード" in tablet.get(url).get_data(as_text=True)
    assert tablet.get(f"/r/{summary.reception_tokens['house_call']}").status_code == 200
    # The console's filter by 診療区分 has an outpatient and a house call to show.
    console = console_login(app, "demo-clerk", "demo-clerk-pass")
    assert "<td>外来</td>" in console.get("/pharmacy/?setting=1").get_data(as_text=True)
    assert "<td>往診</td>" in console.get("/pharmacy/?setting=2").get_data(as_text=True)


def test_the_demo_admin_has_appointments_and_a_stopped_member_to_try(make_app):
    """「管理」 (issue 37): an appointment for a patient (kana and birth date on the server, an
    opaque link) and one without, and a stopped member for 「利用再開」; loaded once."""
    from consent.institutions import Staff, appointments_of, institution_by_code
    from ops.demo import DEMO_INSTITUTION_CODE, DEMO_STOPPED_STAFF

    app = make_app("sandbox")
    load_demo(app)
    load_demo(app)
    with app.extensions["sessionmaker"]() as s:
        institution = institution_by_code(s, DEMO_INSTITUTION_CODE)
        appointments = appointments_of(s, institution.id, since=date.min)
        assert len(appointments) == 2 and all(a.token for a in appointments)
        assert appointments[0].patient_kana and appointments[0].patient_birth_date is not None
        stopped = s.scalar(select(Staff).where(Staff.login_id == DEMO_STOPPED_STAFF[0]))
        assert stopped.disabled_at is not None


def test_demo_has_a_visiting_nurse_station_with_nurse_logins_sharing_a_home_visit_patient(make_app):
    app = make_app("sandbox")
    summary = load_demo(app)
    described = summary.describe(app.config["SETTINGS"])
    assert DEMO_STATION_NAME in described and "demo-vn-nurse / demo-vn-nurse-pass / pharmacist" in described
    assert summary.station_patient == summary.home_visit_patient == "加藤　恵子"
    # Home visits only: its online URL is closed, its home-visit tablet URL opens.
    assert app.test_client().get(f"/r/{summary.station_tokens['online']}").status_code == 404
    assert app.test_client().get(f"/r/{summary.station_tokens['home_visit']}").status_code == 200
    client = console_login(app, "demo-vn-nurse", "demo-vn-nurse-pass")
    html = client.get("/pharmacy/home-visits").get_data(as_text=True)
    assert "医療機関コンソール" in html and f"{DEMO_STATION_NAME}（看護師）" in html
    assert "加藤　恵子" in html and "訪問中" in html
    assert "薬剤師" not in html


def test_the_demo_stations_first_visit_was_photo_checked_by_its_nurse(make_app):
    """加藤 恵子 had forgotten her PIN: the station's first visit is 目視確認 by demo-vn-nurse, the
    pharmacy's with the PIN."""
    app = make_app("sandbox")
    load_demo(app)
    with app.extensions["sessionmaker"]() as s:
        nurse = s.scalar(select(Staff).where(Staff.login_id == "demo-vn-nurse"))
        relationships = s.scalars(select(Consent).where(Consent.window_end.is_(None))).all()
        by_institution = {c.institution_id: (c.verification, c.verified_by) for c in relationships}
    assert by_institution[nurse.institution_id] == ("photo", f"staff:{nurse.id}")
    assert {v for i, v in by_institution.items() if i != nurse.institution_id} == {("pin", None)}
    admin = console_login(app, "demo-vn-admin", "demo-vn-admin-pass")
    assert "本人確認: 目視確認（demo-vn-nurse）" in admin.get("/pharmacy/admin/audit").get_data(as_text=True)
