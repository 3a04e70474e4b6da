"""Reception pages through the test client, with a software card (no browser)."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from consent.clock import JST
from consent.institutions import institution_by_code, rotate_reception_token
from consent.models import Consent
from sqlalchemy import select
from patient_support import choose, consent_count, csrf_of, read_card

def test_top_page_names_the_institution(card_holder):
    app, token, _, _ = card_holder
    html = app.test_client().get(f"/r/{token}").get_data(as_text=True)
    assert "テスト薬局" in html and "同意登録をする" in html and "同意照会・更新" in html


def test_unknown_and_old_urls(card_holder, clock):
    app, token, _, _ = card_holder
    client = app.test_client()
    assert client.get("/r/no-such-token").status_code == 404
    with app.extensions["sessionmaker"]() as session:
        rotate_reception_token(session, institution_by_code(session, "1341234563"), now=clock.now())
        session.commit()
    gone = client.get(f"/r/{token}")
    assert gone.status_code == 410
    assert "このURLは現在使用できません" in gone.get_data(as_text=True)
    assert client.get(f"/r/{token}/consent").status_code == 410


def test_nul_in_a_reception_url_is_400(card_holder):
    # PostgreSQL refuses NUL in text: looking the token or the consent up with one was a 500 there.
    app, token, _, _ = card_holder
    client = app.test_client()
    for path in (f"/r/{token}%00", f"/r/{token}/review/consents/a%00b"):
        resp = client.get(path) if "review" not in path else client.post(path, data={"categories": "drug"})
        assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)


def test_register_all_categories_end_to_end(card_holder, clock):
    app, token, person, soft = card_holder
    client = app.test_client()
    resp = choose(client, token, consultation_date="2026-11-23", all="1")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/r/{token}/confirm")
    done = read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    assert done.status_code == 200, done.get_json()
    html = client.get(done.get_json()["redirect"]).get_data(as_text=True)
    assert "同意登録が完了しました" in html
    assert "2026年11月24日 23:59まで" in html
    assert f"{person.name} 様のカードで登録しました" in html
    assert consent_count(app) == 1
    # The session ended with the done page: a reload says the consent is registered.
    again = client.get(f"/r/{token}/done").get_data(as_text=True)
    assert "同意は登録済みです" in again and "2026年11月23日" in again
    assert person.name not in again  # nothing personal stays in the browser's session


def test_back_after_the_done_page_says_the_consent_is_registered_and_never_replaces_it(card_holder, clock):
    app, token, person, soft = card_holder
    client = app.test_client()
    form_page = client.get(f"/r/{token}/consent").get_data(as_text=True)
    choose(client, token, consultation_date="2026-11-23", categories=["drug"])
    done = read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    assert "同意登録が完了しました" in client.get(done.get_json()["redirect"]).get_data(as_text=True)
    # Back: the confirmation page, then the form; neither is a blank form.
    for path in (f"/r/{token}/confirm", f"/r/{token}/consent"):
        resp = client.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "同意は登録済みです" in html, path
        assert f'href="/r/{token}/review"' in html and "同意照会・更新" in html
        assert "すべて同意する" not in html and "読み取り開始" not in html
    # The form the browser still shows, sent again: refused, nothing replaced (its old token
    # died with the card step; with a live one the answer is the same notice).
    stale = {"csrf_token": csrf_of(form_page), "consultation_date": "2026-11-23", "all": "1"}
    assert client.post(f"/r/{token}/consent", data=stale).status_code == 400
    live = csrf_of(client.get(f"/r/{token}/revoke").get_data(as_text=True))
    resp = client.post(f"/r/{token}/consent", data={**stale, "csrf_token": live})
    assert resp.status_code == 409 and "同意は登録済みです" in resp.get_data(as_text=True)
    assert client.get(f"/r/{token}/confirm").get_data(as_text=True).count("読み取り開始") == 0
    with app.extensions["sessionmaker"]() as session:
        assert list(session.scalars(select(Consent)).one().categories) == ["drug"]
    # Starting again from the top is a deliberate new registration (the next patient).
    client.get(f"/r/{token}")
    assert "すべて同意する" in client.get(f"/r/{token}/consent").get_data(as_text=True)


@pytest.mark.parametrize(
    "form, words",
    [
        ({"consultation_date": "2026-11-22", "all": "1"}, "過去の日付"),
        ({"consultation_date": "2026-12-24", "all": "1"}, "30日後まで"),
        ({"consultation_date": "not-a-date", "all": "1"}, "診療日を正しく"),
        ({"consultation_date": "2026-11-23"}, "1つ以上"),
        ({"consultation_date": "2026-11-23", "categories": "nonsense"}, "正しくありません"),
    ],
)
def test_bad_choices_are_answered_on_the_page(card_holder, form, words):
    app, token, _, _ = card_holder
    resp = choose(app.test_client(), token, **form)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'role="alert"' in html and words in html
    assert consent_count(app) == 0


def test_thirty_days_ahead_is_the_last_allowed_day(card_holder):
    app, token, _, _ = card_holder
    assert choose(app.test_client(), token, consultation_date="2026-12-23", all="1").status_code == 303


def test_confirm_without_a_choice_goes_back_to_the_form(card_holder):
    app, token, _, _ = card_holder
    resp = app.test_client().get(f"/r/{token}/confirm")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/consent")


def test_registering_twice_keeps_one_consent(card_holder):
    app, token, _, soft = card_holder
    ids = set()
    for categories in (["drug", "checkup"], ["drug"]):
        client = app.test_client()
        choose(client, token, consultation_date="2026-11-25", categories=categories)
        resp = read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
        assert resp.status_code == 200
    with app.extensions["sessionmaker"]() as session:
        rows = session.scalars(select(Consent)).all()
        ids = {r.id for r in rows}
        assert len(rows) == 1 and rows[0].categories == ("drug",)
    assert len(ids) == 1


def test_a_failed_card_read_registers_nothing(card_holder):
    app, token, _, soft = card_holder
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-23", all="1")
    resp = read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm", user_verified=False)
    assert resp.status_code == 400 and resp.get_json()["error"] == "not_verified"
    assert consent_count(app) == 0


def test_review_and_revoke(card_holder):
    app, token, _, soft = card_holder
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-23", all="1")
    read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")

    client = app.test_client()
    # Without a card read the review page sends you to the card step.
    assert client.get(f"/r/{token}/review/consents").status_code == 303
    resp = read_card(client, soft, "review", f"/r/{token}/review/verify", f"/r/{token}/review")
    review = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert "有効" in review and "手術・傷病名・感染症" in review

    client = app.test_client()
    resp = read_card(client, soft, "revoke", f"/r/{token}/revoke/verify", f"/r/{token}/revoke")
    page = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    done = client.post(f"/r/{token}/revoke/confirm", data={"csrf_token": csrf_of(page)})
    assert "同意を取り消しました" in done.get_data(as_text=True)
    with app.extensions["sessionmaker"]() as session:
        consent = session.scalars(select(Consent)).one()
        assert consent.status == "revoked" and consent.revocation_reason == 2


def _revoke_page(app, token, soft):
    client = app.test_client()
    resp = read_card(client, soft, "revoke", f"/r/{token}/revoke/verify", f"/r/{token}/revoke")
    return client, client.get(resp.get_json()["redirect"]).get_data(as_text=True)


def test_revoke_pages_say_what_stops_and_what_stays(card_holder):
    app, token, _, soft = card_holder
    client = app.test_client()
    # Four of the six categories: the confirmation lists those four, not all six (issue 36).
    held = ["drug", "checkup", "specific_disease", "limit"]
    choose(client, token, consultation_date="2026-11-23", categories=held)
    read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    start = app.test_client().get(f"/r/{token}/revoke").get_data(as_text=True)
    _, confirm = _revoke_page(app, token, soft)
    for html in (start, confirm):
        assert "あなたの情報を閲覧できなくなります" not in html  # it was not true of the qualification
        assert "閲覧できなくなるもの" in html
        assert "残るもの" in html and "資格情報" in html and "請求の記録" in html
    # Before the card is read nothing is known of the consent: said generally.
    assert "同意にもとづく情報を閲覧できなくなります" in start and "<li>薬剤・処方</li>" not in start
    listed = re.findall(r"<li>([^<]+)</li>", confirm.split("閲覧できなくなるもの")[1].split("残るもの")[0])
    assert listed == ["薬剤・処方", "特定健診", "特定疾病療養受療証", "限度額"]


def test_nothing_to_revoke_says_so_without_a_button(card_holder):
    app, token, _, soft = card_holder
    client, page = _revoke_page(app, token, soft)
    assert "取り消せる同意はありません" in page
    assert "取り消す</button>" not in page
    # Sent anyway (an old page): the same answer, never 「（0件）」.
    live = csrf_of(client.get(f"/r/{token}/revoke").get_data(as_text=True))
    resp = client.post(f"/r/{token}/revoke/confirm", data={"csrf_token": live})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "取り消せる同意はありません" in html
    assert "0件" not in html and "同意を取り消しました" not in html
    # Nothing was revoked, so nothing claims it was.
    assert "すでに取り消されています" not in client.get(f"/r/{token}/revoke/confirm",
                                                    follow_redirects=True).get_data(as_text=True)


def test_revoke_sent_twice_says_already_revoked_not_a_csrf_page(card_holder):
    app, token, _, soft = card_holder
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-23", all="1")
    read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    client, page = _revoke_page(app, token, soft)
    form = {"csrf_token": csrf_of(page)}
    first = client.post(f"/r/{token}/revoke/confirm", data=form)
    assert "同意を取り消しました（1件）" in first.get_data(as_text=True)
    second = client.post(f"/r/{token}/revoke/confirm", data=form)
    assert second.status_code == 200
    assert "すでに取り消されています" in second.get_data(as_text=True)
    # Back to the confirmation page: the same calm answer, no button.
    back = client.get(f"/r/{token}/revoke/confirm").get_data(as_text=True)
    assert "すでに取り消されています" in back and "取り消す</button>" not in back


def test_qr_code_is_an_svg_of_the_reception_url(card_holder):
    app, token, _, _ = card_holder
    resp = app.test_client().get(f"/r/{token}/qr.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.data.startswith(b"<?xml") or b"<svg" in resp.data[:200]


def _state_rows(html: str) -> dict[str, tuple[str, ...]]:
    """項目ごとの状態, one stacked row per category: (状態, 同意した日時, 閲覧期限), "" for what a row leaves out."""
    rows = {}
    for block in re.findall(r'<li class="state">(.*?)</li>', html, re.S):
        label = re.search(r'<p class="state-label">(.*?)</p>', block).group(1)
        fields = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block))
        rows[label] = (fields.get("状態", ""), fields.get("同意した日時", ""), fields.get("閲覧期限", ""))
    return rows


def test_review_shows_each_category_and_a_change_keeps_the_others_times(card_holder, clock):
    app, token, _, soft = card_holder
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-23", categories=["drug", "limit"])
    read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")

    clock.set(datetime(2026, 11, 23, 11, 30, tzinfo=JST))
    client = app.test_client()
    resp = read_card(client, soft, "review", f"/r/{token}/review/verify", f"/r/{token}/review")
    page = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert _state_rows(page)["限度額"] == ("同意しています", "2026年11月23日 10:00", "期限なし")
    with app.extensions["sessionmaker"]() as session:
        consent_id = session.scalars(select(Consent.id)).one()
    changed = client.post(f"/r/{token}/review/consents/{consent_id}",
                          data={"csrf_token": csrf_of(page), "categories": ["drug", "checkup"]})
    assert changed.status_code == 303
    rows = _state_rows(client.get(changed.headers["Location"]).get_data(as_text=True))
    assert rows["薬剤・処方"] == ("同意しています", "2026年11月23日 10:00", "2026年11月24日 23:59まで")
    assert rows["特定健診"] == ("同意しています", "2026年11月23日 11:30", "2026年11月24日 23:59まで")
    assert rows["限度額"] == ("同意していません", "", "")

    # After the patient revokes, the page says so per category, and a change is refused (409).
    other = app.test_client()
    resp = read_card(other, soft, "revoke", f"/r/{token}/revoke/verify", f"/r/{token}/revoke")
    confirm = other.get(resp.get_json()["redirect"]).get_data(as_text=True)
    other.post(f"/r/{token}/revoke/confirm", data={"csrf_token": csrf_of(confirm)})
    page = client.get(f"/r/{token}/review/consents").get_data(as_text=True)
    assert _state_rows(page)["薬剤・処方"][0] == "終了しました（患者による取消）"
    refused = client.post(f"/r/{token}/review/consents/{consent_id}",
                          data={"csrf_token": csrf_of(page), "categories": ["drug"]})
    assert refused.status_code == 409 and "取り消された同意は変更できません" in refused.get_data(as_text=True)


def test_revoking_everything_lists_and_ends_a_past_consent_whose_limit_still_runs(card_holder, clock):
    app, token, _, soft = card_holder
    client = app.test_client()
    choose(client, token, consultation_date="2026-11-23", categories=["drug", "limit"])
    read_card(client, soft, "register", f"/r/{token}/confirm/verify", f"/r/{token}/confirm")
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=JST))  # the window is over; 限度額 has no expiry
    client = app.test_client()
    resp = read_card(client, soft, "revoke", f"/r/{token}/revoke/verify", f"/r/{token}/revoke")
    page = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert "2026年11月23日" in page and "取り消せる同意はありません" not in page
    done = client.post(f"/r/{token}/revoke/confirm", data={"csrf_token": csrf_of(page)})
    assert "同意を取り消しました" in done.get_data(as_text=True)
    with app.extensions["sessionmaker"]() as session:
        assert session.scalars(select(Consent)).one().status == "revoked"
    # 限度額 reads flag 0 once revoked: the patient is told it ended and why, never 「同意していません」.
    review = app.test_client()
    resp = read_card(review, soft, "review", f"/r/{token}/review/verify", f"/r/{token}/review")
    rows = _state_rows(review.get(resp.get_json()["redirect"]).get_data(as_text=True))
    assert rows["限度額"] == ("終了しました（患者による取消）", "2026年11月23日 10:00", "")
