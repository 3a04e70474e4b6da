"""The pharmacist console: sign-in, the patient list, the patient page's refusals, batch, admin."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consent import grants
from consent.clock import JST
from consent.institutions import add_staff, create_institution
from consent.models import AuditEntry
from integrations.oqs import make_oqs

TODAY = date(2026, 11, 23)


@pytest.fixture
def world(make_app, clock):
    app = make_app("development")
    with app.extensions["sessionmaker"]() as s:
        here = create_institution(s, code="1341234563", name="本町薬局", now=clock.now())
        there = create_institution(s, code="1341234571", name="よその薬局", now=clock.now())
        for inst, prefix in ((here, ""), (there, "other-")):
            for role in ("pharmacist", "clerk", "admin"):
                add_staff(s, inst, login_id=f"{prefix}{role}", password=f"{role}-password", role=role, now=clock.now())
        oqs = make_oqs(s)
        person = oqs.create_person(today=TODAY, birth_date=date(1958, 7, 7), validity=1)
        consent = grants.register_consent(
            s, institution_id=here.id, person_id=person.person_id, card_id="card_x", care_setting=3,
            categories=["drug", "checkup", "limit"], consultation_date=TODAY, now=clock.now(), validity_code=1)
        s.commit()
        ids = {"here": here.id, "there": there.id, "consent": consent.id, "person": person}
    return app, ids


def login(app, login_id, password=None):
    client = app.test_client()
    page = client.get("/pharmacy/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/pharmacy/login", data={"csrf_token": token, "login_id": login_id,
                                                 "password": password or f"{login_id.split('-')[-1]}-password"})
    return client, resp


def csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def audit_count(app) -> int:
    with app.extensions["sessionmaker"]() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry))


def test_login_lands_on_todays_list_with_the_patient(world):
    app, ids = world
    client, resp = login(app, "pharmacist")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/pharmacy/")
    html = client.get("/pharmacy/").get_data(as_text=True)
    assert "同意取得済み患者一覧" in html
    assert ids["person"].name in html and ids["person"].kana in html
    assert "有効" in html and "薬剤・処方" in html and "残り" in html


def test_wrong_password_then_throttling(world):
    app, _ = world
    codes = [login(app, "clerk", "wrong")[1].status_code for _ in range(5)]
    assert codes == [401] * 5
    _, resp = login(app, "clerk")  # even the right password waits now
    assert resp.status_code == 429
    assert "しばらくログインできません" in resp.get_data(as_text=True)


def test_login_form_needs_csrf_and_rotates_the_session(world):
    app, _ = world
    client = app.test_client()
    assert client.post("/pharmacy/login", data={"login_id": "clerk", "password": "clerk-password"}).status_code == 400
    before = client.get_cookie("session")
    client, _ = login(app, "clerk")
    assert client.get_cookie("session").value != (before.value if before else None)


@pytest.mark.parametrize("next_url", ["/pharmacy/\r\nX-Injected: 1", "/oauth/authorize?a=\n", "/pharmacy/\x7f"])
def test_a_next_with_control_characters_lands_on_the_list(world, next_url):
    # Such a next reached the Location header, which refuses a newline: a 500.
    app, _ = world
    client = app.test_client()
    resp = client.post("/pharmacy/login", data={"csrf_token": csrf(client, "/pharmacy/login"), "login_id": "clerk",
                                                 "password": "clerk-password", "next": next_url})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/pharmacy/")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "garbage"])
def test_a_list_date_without_a_day_before_or_after_is_400(world, day):
    # The list links the day before and after; at the calendar's ends that was an OverflowError.
    app, _ = world
    client, _ = login(app, "clerk")
    for path in ("/pharmacy/", "/pharmacy/patients-fragment"):
        assert client.get(path, query_string={"date": day}).status_code == 400
    assert client.get("/pharmacy/", query_string={"date": "9999-12-30"}).status_code == 200


def test_pages_need_a_login(world):
    app, ids = world
    resp = app.test_client().get(f"/pharmacy/consents/{ids['consent']}")
    assert resp.status_code == 302 and "/pharmacy/login" in resp.headers["Location"]


def test_pharmacist_reads_drug_and_checkup_and_every_read_is_audited(world):
    app, ids = world
    client, _ = login(app, "pharmacist")
    before = audit_count(app)
    html = client.get(f"/pharmacy/consents/{ids['consent']}").get_data(as_text=True)
    for heading in ("資格情報", "限度額", "薬剤情報", "特定健診情報"):
        assert f">{heading}</h2>" in html
    assert "閲覧できません" not in html
    assert "2026年11月24日 23:59まで" in html
    assert audit_count(app) == before + 4


def test_drug_months_the_wrong_way_round_are_answered_beside_the_filter(world):
    # The OQS refuses from > to; that reached the page as a 500.
    app, ids = world
    client, _ = login(app, "pharmacist")
    resp = client.get(f"/pharmacy/consents/{ids['consent']}", query_string={"from": "2026-05", "to": "2025-01"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'role="alert"><p>診療年月（から）は診療年月（まで）以前にしてください。' in html
    assert ">特定健診情報</h2>" in html and "保険者番号" in html  # the rest of the page stands
    assert client.get(f"/pharmacy/consents/{ids['consent']}",
                      query_string={"from": "2025-01", "to": "2026-05"}).status_code == 200


def test_clerk_sees_qualification_but_not_drugs(world):
    app, ids = world
    client, _ = login(app, "clerk")
    html = client.get(f"/pharmacy/consents/{ids['consent']}").get_data(as_text=True)
    assert "閲覧できません：有資格者のみ閲覧できます" in html
    assert html.count("閲覧できません") == 2  # drug and checkup; qualification and limit are shown
    assert "保険者番号" in html


def test_other_institution_gets_a_plain_404(world):
    app, ids = world
    client, _ = login(app, "other-pharmacist")
    resp = client.get(f"/pharmacy/consents/{ids['consent']}")
    assert resp.status_code == 404
    assert ids["person"].name not in resp.get_data(as_text=True)
    assert client.get("/pharmacy/consents/does-not-exist").status_code == 404


def test_after_the_window_the_page_says_since_when(world, clock):
    app, ids = world
    client, _ = login(app, "pharmacist")
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=JST))
    html = client.get(f"/pharmacy/consents/{ids['consent']}").get_data(as_text=True)
    assert "閲覧できません：閲覧期限（2026年11月24日 23:59）を過ぎています" in html
    assert "保険者番号" in html  # the billing record stays
    clock.set(datetime(2026, 11, 24, 23, 59, 59, tzinfo=JST))
    assert "閲覧できません" not in client.get(f"/pharmacy/consents/{ids['consent']}").get_data(as_text=True)


def test_admin_cancels_and_the_page_says_revoked(world):
    app, ids = world
    admin, _ = login(app, "admin")
    token = csrf(admin, f"/pharmacy/consents/{ids['consent']}")
    assert admin.post(f"/pharmacy/consents/{ids['consent']}/cancel", data={"csrf_token": token}).status_code == 303
    pharmacist, _ = login(app, "pharmacist")
    html = pharmacist.get(f"/pharmacy/consents/{ids['consent']}").get_data(as_text=True)
    assert "閲覧できません：同意が取り消されました" in html
    # A pharmacist is no admin.
    assert pharmacist.post(f"/pharmacy/consents/{ids['consent']}/cancel",
                           data={"csrf_token": csrf(pharmacist, "/pharmacy/")}).status_code == 403


def test_reference_number_shows_in_the_list(world):
    app, ids = world
    client, _ = login(app, "clerk")
    token = csrf(client, f"/pharmacy/consents/{ids['consent']}")
    resp = client.post(f"/pharmacy/consents/{ids['consent']}/reference-number",
                       data={"csrf_token": token, "reference_number": "K-0042"})
    assert resp.status_code == 303
    assert "K-0042" in client.get("/pharmacy/").get_data(as_text=True)


def test_batch_inquiry_with_a_shift_jis_file(world):
    app, ids = world
    person = ids["person"]
    lines = [
        "保険者番号,記号,番号,枝番,生年月日,照会番号",
        f"{person.insurer_number},{person.symbol},{person.number},{person.branch},{person.birth_date:%Y%m%d},R1",
        f"{person.insurer_number},{person.symbol},99999999,00,1950-01-01,",
        "12,記号,番号,00,1950-13-01,",
    ]
    data = ("\r\n".join(lines) + "\r\n").encode("cp932")
    client, _ = login(app, "clerk")
    import io

    resp = client.post("/pharmacy/batch", data={"csrf_token": csrf(client, "/pharmacy/batch"),
                                                "file": (io.BytesIO(data), "予約.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    rows = re.findall(r"<tr><td>(\d)</td>.*?</tr>", html, re.S)
    assert rows == ["1", "2", "3"]
    assert "有効 1件 ／ 無効 1件 ／ エラー 1件" in html
    download = client.get("/pharmacy/batch/result.csv")
    assert download.data.startswith("\ufeff".encode())
    text = download.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "保険者番号,記号,番号,枝番,生年月日,照会番号,結果,理由"
    assert ",有効," in text and ",無効," in text and ",エラー," in text


@pytest.mark.parametrize(
    "filename, payload, status",
    [("x.png", b"\x89PNG....", 415), ("x.csv", b"", 400), ("x.csv", b"a,b\n1,2\n", 400),
     # A cell past the csv module's field limit was a 500.
     ("x.csv", "保険者番号,記号,番号,枝番,生年月日,照会番号\r\n".encode() + b"1" * 200_000 + b",2,3,4,5,6\r\n", 400)],
)
def test_bad_batch_uploads_are_refused(world, filename, payload, status):
    import io

    app, _ = world
    client, _ = login(app, "clerk")
    resp = client.post("/pharmacy/batch", data={"csrf_token": csrf(client, "/pharmacy/batch"),
                                                "file": (io.BytesIO(payload), filename)},
                       content_type="multipart/form-data")
    assert resp.status_code == status
    assert 'role="alert"' in resp.get_data(as_text=True)


def test_a_batch_file_with_old_mac_line_ends_is_read(world):
    # CR-only line ends made the csv module raise (a 500): they are line ends like any other.
    import io

    app, ids = world
    person = ids["person"]
    lines = ["保険者番号,記号,番号,枝番,生年月日,照会番号",
             f"{person.insurer_number},{person.symbol},{person.number},{person.branch},{person.birth_date:%Y%m%d},"]
    client, _ = login(app, "clerk")
    resp = client.post("/pharmacy/batch", data={"csrf_token": csrf(client, "/pharmacy/batch"),
                                                "file": (io.BytesIO("\r".join(lines).encode()), "mac.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    assert "有効 1件 ／ 無効 0件 ／ エラー 0件" in resp.get_data(as_text=True)


def test_oversized_upload_is_413(world):
    import io

    app, _ = world
    client, _ = login(app, "clerk")
    resp = client.post("/pharmacy/batch", data={"csrf_token": csrf(client, "/pharmacy/batch"),
                                                "file": (io.BytesIO(b"a" * (3 * 1024 * 1024)), "big.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 413


def test_admin_rotates_url_adds_staff_and_disables_them(world):
    app, ids = world
    admin, _ = login(app, "admin")
    html = admin.get("/pharmacy/admin").get_data(as_text=True)
    old = re.search(r'href="(http://localhost:5000/r/[^"]+)"', html).group(1)
    token = csrf(admin, "/pharmacy/admin")
    admin.post("/pharmacy/admin/rotate", data={"csrf_token": token})
    assert app.test_client().get(old.replace("http://localhost:5000", "")).status_code == 410

    admin.post("/pharmacy/admin/staff", data={"csrf_token": token, "login_id": "new-clerk", "role": "clerk",
                                              "display_name": "新人"})
    html = admin.get("/pharmacy/admin").get_data(as_text=True)
    password = re.search(r"初期パスワード：<strong>([^<]+)</strong>", html).group(1)
    newbie, resp = login(app, "new-clerk", password)
    assert resp.status_code == 303
    assert newbie.get("/pharmacy/").status_code == 200
    row = html.split("<td>new-clerk</td>")[1]
    member_id = re.search(r"/pharmacy/admin/staff/(\d+)/disable", row).group(1)
    assert admin.post(f"/pharmacy/admin/staff/{member_id}/disable", data={"csrf_token": token}).status_code == 303
    assert newbie.get("/pharmacy/").status_code == 302  # signed out at once
    assert login(app, "new-clerk", password)[1].status_code == 401


def test_appointment_deep_link(world):
    app, _ = world
    admin, _ = login(app, "admin")
    token = csrf(admin, "/pharmacy/admin")
    admin.post("/pharmacy/admin/appointments", data={"csrf_token": token, "consultation_date": "2026-11-30",
                                                     "memo": "14時 オンライン服薬指導"})
    html = admin.get("/pharmacy/admin").get_data(as_text=True)
    assert "14時 オンライン服薬指導" in html
    link = re.search(r'href="http://localhost:5000(/r/[^"?]+\?date=2026-11-30)"', html).group(1)
    assert app.test_client().get(link).status_code == 200


def test_an_id_too_long_for_the_database_is_404(world):
    # SQLite refused the integer (PostgreSQL too, past its range): it was a 500.
    app, _ = world
    admin, _ = login(app, "admin")
    token = csrf(admin, "/pharmacy/admin")
    for staff_id in (2**31, 10**23):
        assert admin.post(f"/pharmacy/admin/staff/{staff_id}/disable", data={"csrf_token": token}).status_code == 404


def test_nul_in_a_form_is_400_and_nothing_is_written(world):
    # PostgreSQL refuses NUL in text: a memo with one was a 500 there (and stored as sent on SQLite).
    app, _ = world
    admin, _ = login(app, "admin")
    token = csrf(admin, "/pharmacy/admin")
    resp = admin.post("/pharmacy/admin/appointments", data={"csrf_token": token, "consultation_date": "2026-11-30",
                                                            "memo": "14時\x00"})
    assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    resp = admin.post("/pharmacy/admin/staff", data={"csrf_token": token, "login_id": "new-clerk", "role": "clerk",
                                                     "display_name": "新人\x00"})
    assert resp.status_code == 400
    html = admin.get("/pharmacy/admin").get_data(as_text=True)
    assert "今後の予約はありません" in html and "new-clerk" not in html
    assert login(app, "clerk\x00")[1].status_code == 400


def test_a_reference_number_the_oqs_refuses_is_a_clear_page_not_a_500(world):
    # 17 characters pass the form's own check (20) but not OQS's (16): the domain error is worded
    # by the one mapping, beside nothing written.
    app, ids = world
    client, _ = login(app, "clerk")
    token = csrf(client, f"/pharmacy/consents/{ids['consent']}")
    resp = client.post(f"/pharmacy/consents/{ids['consent']}/reference-number",
                       data={"csrf_token": token, "reference_number": "K" * 17})
    assert resp.status_code == 422
    assert "照会番号は半角英数字16文字以内で入力してください。" in resp.get_data(as_text=True)
    assert "K" * 17 not in client.get("/pharmacy/").get_data(as_text=True)
