"""Console 「訪問患者」: the list, 「再照会」, 「訪問を記録」, 「訪問終了」 with its confirmation, and the
patient's 同意照会・更新 showing the relationship and its visits."""
from __future__ import annotations

from datetime import timedelta

import pytest

from api_support import console_login, csrf_of
from conftest import TODAY
from consent.vocabulary import LAPSE_RULE_NONE

DAY = timedelta(days=1)


def form_of(person, **changes):
    return {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat(), **changes}


def post(browser, path, data):
    # The patient list has a form on every institution (「訪問患者」 only where 訪問診療等 runs).
    token = csrf_of(browser.get("/pharmacy/").get_data(as_text=True))
    return browser.post(path, data={"csrf_token": token, **data})


def test_the_list_shows_each_relationship_with_its_visits_and_days_left(world, visited):
    person, consent_id = visited
    page = console_login(world.app, "clerk").get("/pharmacy/home-visits")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>訪問患者</h1>" in html
    assert person.name in html and f"/pharmacy/consents/{consent_id}" in html
    # No lapse unless the institution sets one: no days to count down, and the note says so.
    assert f"{TODAY.year}年{TODAY.month}月{TODAY.day}日" in html and "訪問中" in html and "期限なし" in html
    assert LAPSE_RULE_NONE in html and "あと" not in html
    assert "訪問を記録" in html
    # A clerk records visits but does not end the relationship.
    assert "訪問終了</button>" not in html


def test_a_reinquiry_shows_the_qualification_and_the_relationship(world, visited):
    person, consent_id = visited
    browser = console_login(world.app, "pharmacist")
    page = post(browser, "/pharmacy/home-visits/reinquiry", form_of(person))
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "再照会の結果" in html and person.name in html and "1：有効" in html
    assert "訪問診療等が続く間" in html and f"/pharmacy/consents/{consent_id}" in html
    # The drug read under the relationship, without the card.
    patient = browser.get(f"/pharmacy/consents/{consent_id}").get_data(as_text=True)
    assert "薬剤情報" in patient and "閲覧できません" not in patient.split("薬剤情報")[1].split("</section>")[0]


def test_a_reinquiry_without_a_relationship_offers_the_first_visit(world):
    browser = console_login(world.app, "pharmacist")
    html = post(browser, "/pharmacy/home-visits/reinquiry", form_of(world.person)).get_data(as_text=True)
    assert "訪問診療等の同意はありません" in html and world.person.name in html


def test_nobody_and_a_wrong_birth_date_are_the_same_404(world, visited):
    person, _ = visited
    browser = console_login(world.app, "pharmacist")
    wrong = post(browser, "/pharmacy/home-visits/reinquiry", form_of(person, birth_date="1941-02-03"))
    nobody = post(browser, "/pharmacy/home-visits/reinquiry", form_of(person, number=person.number + "9"))
    assert wrong.status_code == nobody.status_code == 404
    assert "該当する方が見つかりませんでした" in wrong.get_data(as_text=True)
    assert person.name not in wrong.get_data(as_text=True).split("<table")[0]


@pytest.mark.parametrize("change,message", [
    ({"insurer_number": "01130013"}, "保険者番号の検証番号が正しくありません。"),
    ({"number": ""}, "番号を入力してください。"),
    ({"birth_date": "1940-13-01"}, "生年月日を正しく入力してください"),
])
def test_bad_reinquiry_input_is_422_with_a_message(world, visited, change, message):
    person, _ = visited
    page = post(console_login(world.app, "clerk"), "/pharmacy/home-visits/reinquiry", form_of(person, **change))
    assert page.status_code == 422 and message in page.get_data(as_text=True)


def test_record_a_visit_then_end_the_visits_with_a_confirmation(world, visited, clock):
    person, consent_id = visited
    clock.set(clock.now() + 2 * DAY)
    browser = console_login(world.app, "pharmacist")
    recorded = post(browser, f"/pharmacy/home-visits/{consent_id}/visits", {"visit_date": (TODAY + 2 * DAY).isoformat()})
    assert recorded.status_code == 303
    html = browser.get(recorded.headers["Location"]).get_data(as_text=True)
    assert "訪問を記録しました" in html and "期限なし" in html
    future = post(browser, f"/pharmacy/home-visits/{consent_id}/visits", {"visit_date": (TODAY + 3 * DAY).isoformat()})
    assert future.status_code == 422 and "未来の日付" in future.get_data(as_text=True)
    confirm = post(browser, f"/pharmacy/home-visits/{consent_id}/end", {})
    assert confirm.status_code == 200 and "訪問終了の確認" in confirm.get_data(as_text=True)
    ended = post(browser, f"/pharmacy/home-visits/{consent_id}/end", {"confirm": "yes"})
    assert ended.status_code == 303
    html = browser.get("/pharmacy/home-visits").get_data(as_text=True)
    assert "訪問終了を記録しました" not in html and "訪問終了" in html
    patient = browser.get(f"/pharmacy/consents/{consent_id}").get_data(as_text=True)
    assert "閲覧できません" in patient and "医療機関等による取消" in patient
    again = post(browser, f"/pharmacy/home-visits/{consent_id}/visits", {"visit_date": (TODAY + 2 * DAY).isoformat()})
    assert again.status_code == 409 and "終了しています" in again.get_data(as_text=True)


def test_a_clerk_cannot_end_visits_and_other_institutions_cannot_touch_them(world, visited):
    _, consent_id = visited
    assert post(console_login(world.app, "clerk"), f"/pharmacy/home-visits/{consent_id}/end",
                {"confirm": "yes"}).status_code == 403
    other = console_login(world.app, "other-pharmacist")
    assert post(other, f"/pharmacy/home-visits/{consent_id}/end", {"confirm": "yes"}).status_code == 404
    assert post(other, f"/pharmacy/home-visits/{consent_id}/visits", {}).status_code == 404


def test_the_admin_sets_the_lapse_days_in_kanri_and_open_relationships_follow(world, visited):
    """The lapse is an institution setting (issue 19): 「管理」 changes it, not only the sandbox."""
    _, consent_id = visited
    admin = console_login(world.app, "admin")
    page = admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    # Empty: no lapse (the default), and the page says so.
    assert "訪問の記録がないまま終了するまでの日数（空欄＝終了しない、1〜3650日）" in page
    assert 'value=""' in page and LAPSE_RULE_NONE in page
    csrf = csrf_of(page)
    saved = admin.post("/pharmacy/admin/lapse-days", data={"csrf_token": csrf, "home_visit_lapse_days": "30"})
    assert saved.status_code == 303
    saved_page = admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    assert 'value="30"' in saved_page
    assert "保存しました。最後の訪問日から30日間、訪問の記録がないと同意は終了します" in saved_page
    listed = console_login(world.app, "pharmacist").get("/pharmacy/home-visits").get_data(as_text=True)
    assert "あと30日" in listed and "最後の訪問日から30日間" in listed
    for bad in ("abc", "-1", "0", "3651", "1.5", "０"):
        refused = admin.post("/pharmacy/admin/lapse-days", data={"csrf_token": csrf, "home_visit_lapse_days": bad})
        assert refused.status_code == 303
        shown = admin.get("/pharmacy/admin/settings").get_data(as_text=True)
        assert "空欄（終了しない）か、1から3650までの整数で入力してください" in shown
        assert 'value="30"' in admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    clerk = console_login(world.app, "clerk")
    token = csrf_of(clerk.get("/pharmacy/home-visits").get_data(as_text=True))
    assert clerk.post("/pharmacy/admin/lapse-days",
                      data={"csrf_token": token, "home_visit_lapse_days": "7"}).status_code == 403
    assert 'value="30"' in admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    # Emptied again: no lapse; the open relationship follows at once.
    admin.post("/pharmacy/admin/lapse-days", data={"csrf_token": csrf, "home_visit_lapse_days": " "})
    cleared = admin.get("/pharmacy/admin/settings").get_data(as_text=True)
    assert f"保存しました。{LAPSE_RULE_NONE}" in cleared and 'value=""' in cleared
    listed = console_login(world.app, "pharmacist").get("/pharmacy/home-visits").get_data(as_text=True)
    assert "期限なし" in listed and "あと30日" not in listed


def test_a_rows_reinquiry_uses_the_first_visits_keys_without_typing(world, visited):
    """Seed 000: 再照会 with 「初回訪問時に取得した被保険者証番号等」 - one click on the list's row."""
    person, consent_id = visited
    browser = console_login(world.app, "clerk")
    listing = browser.get("/pharmacy/home-visits").get_data(as_text=True)
    assert f'action="/pharmacy/home-visits/{consent_id}/reinquiry"' in listing
    page = post(browser, f"/pharmacy/home-visits/{consent_id}/reinquiry", {})
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "再照会の結果" in html and person.name in html and "1：有効" in html
    assert f"/pharmacy/consents/{consent_id}" in html


def test_a_rows_reinquiry_counts_against_the_readers_one_reinquiry_budget(world, visited, monkeypatch,
                                                                          one_rate_minute):
    # Issue 29's one limit per reader and minute: the row's button and the typed form share it.
    from consent.app import home_visits as app_home_visits

    monkeypatch.setattr(app_home_visits, "REINQUIRY_LIMIT", 1)
    person, consent_id = visited
    browser = console_login(world.app, "clerk")
    assert post(browser, f"/pharmacy/home-visits/{consent_id}/reinquiry", {}).status_code == 200
    assert post(browser, "/pharmacy/home-visits/reinquiry", form_of(person)).status_code == 429
    assert post(browser, f"/pharmacy/home-visits/{consent_id}/reinquiry", {}).status_code == 429


def test_a_rows_reinquiry_of_another_institutions_or_an_unknown_consent_is_404(world, visited):
    browser = console_login(world.app, "pharmacist")
    assert post(browser, "/pharmacy/home-visits/nope/reinquiry", {}).status_code == 404
