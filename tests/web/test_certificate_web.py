"""「資格確認書で確認」 through every audience: the tablet's reception pages and the console's 「訪問患者」
(the qualification and the no-data sentence), the console's patient page and list, the API (source,
every data read refused certificate_only), and the sandbox's `"card": false`."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from api_support import bearer, console_login, csrf_of, staff_token, system_token
from conftest import TODAY
from consent import grants
from consent.institutions import Institution
from consent.models import AuditEntry, Consent
from consent.vocabulary import (
    HOME_VISIT, OUTPATIENT, QUALIFICATION, SCOPE_OF_CATEGORY, SOURCE_CARD, SOURCE_CERTIFICATE,
)
from consent.wareki import wareki_date
from integrations.card.soft_authenticator import SoftCard
from integrations.oqs.simulator import make_oqs
from patient_support import reception_mode
from web.api import DATA_READS

NO_DATA = "資格確認書での確認では薬剤情報などは閲覧できません"
WHY = "薬剤情報や特定健診情報などの提供への同意は、マイナンバーカードでしか行えません"


def form_of(person, **changes):
    return {"insurer_number": person.insurer_number, "symbol": person.symbol or "", "number": person.number,
            "branch": person.branch or "", "birth_date": person.birth_date.isoformat(), **changes}


def wareki(day: date) -> str:
    return wareki_date(day)  # 「昭和25年5月6日」


def certificates(app) -> list[Consent]:
    with app.extensions["sessionmaker"]() as session:
        return list(session.scalars(select(Consent).where(Consent.source == SOURCE_CERTIFICATE)))


# --- the tablet ---------------------------------------------------------------------------------


def tablet_post(client, url, data):
    page = client.get(f"{url}/certificate")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return client.post(f"{url}/certificate", data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})


@pytest.mark.parametrize("setting, care_setting, house_call",
                         [("outpatient", OUTPATIENT, False), ("home_visit", HOME_VISIT, False),
                          ("house_call", HOME_VISIT, True)])
def test_the_tablet_confirms_from_the_certificate_and_says_no_data_and_why(place, setting, care_setting, house_call):
    client, person = place["app"].test_client(), place["person"]
    url = place["urls"][setting]
    reception_mode(client, url)
    top = client.get(url).get_data(as_text=True)
    assert "資格確認書で確認" in top and f"{url}/certificate" in top
    answer = tablet_post(client, url, form_of(person, birth_date=wareki(person.birth_date)))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "資格確認書で資格を確認しました" in html and person.name in html and person.insurer_number in html
    assert NO_DATA in html and WHY in html
    (consent,) = certificates(place["app"])
    assert (consent.care_setting, consent.house_call, consent.categories) == (care_setting, house_call, ())
    # Nothing of the patient stays: the next page is the neutral start.
    assert person.name not in client.get(url).get_data(as_text=True)


def test_the_tablet_answers_a_wrong_birth_date_as_not_found_and_bad_input_with_its_words(place):
    client, person = place["app"].test_client(), place["person"]
    url = place["urls"]["outpatient"]
    reception_mode(client, url)
    wrong = tablet_post(client, url, form_of(person, birth_date="1950-05-07"))
    assert wrong.status_code == 404 and "該当する方が見つかりませんでした" in wrong.get_data(as_text=True)
    assert 'role="alert"' in wrong.get_data(as_text=True)
    bad = tablet_post(client, url, form_of(person, birth_date="昭和25年13月1日"))
    assert bad.status_code == 422 and "昭和29年2月1日" in bad.get_data(as_text=True)
    missing = tablet_post(client, url, form_of(person, number=""))
    assert missing.status_code == 422 and "番号を入力してください" in missing.get_data(as_text=True)
    assert certificates(place["app"]) == []


def test_the_tablet_keeps_a_card_consent_of_the_day(place):
    from patient_support import register

    client, person = place["app"].test_client(), place["person"]
    url = place["urls"]["outpatient"]
    reception_mode(client, url)
    register(client, url, place["card"])
    answer = tablet_post(client, url, form_of(person))
    assert answer.status_code == 409 and "すでにマイナンバーカードで受付" in answer.get_data(as_text=True)
    assert certificates(place["app"]) == []


def test_the_certificate_form_needs_the_tablet_in_reception_mode(place):
    client = place["app"].test_client()
    html = client.get(place["urls"]["outpatient"] + "/certificate").get_data(as_text=True)
    assert "職員ログイン" in html and "資格確認書の番号" not in html
    # The patient's own phone has no such step.
    assert client.get(place["urls"]["online"] + "/certificate").status_code == 404
    assert "資格確認書で確認" not in client.get(place["urls"]["online"]).get_data(as_text=True)


def test_the_patients_review_names_the_confirmation_and_offers_no_change(card_holder, clock):
    from patient_support import read_card

    app, token, person, soft = card_holder
    with app.extensions["sessionmaker"]() as s:
        institution_id = s.scalar(select(Institution.id))  # テスト薬局, the only one
        consent = grants.register_certificate(s, institution_id=institution_id, person_id=person.person_id,
                                              care_setting=OUTPATIENT, house_call=False, consultation_date=TODAY,
                                              now=clock.now(), validity_code=1, by="staff:1")
        s.commit()
        consent_id = consent.id
    client = app.test_client()
    resp = read_card(client, soft, "review", f"/r/{token}/review/verify", f"/r/{token}/review")
    review = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert "資格確認書で確認（資格情報のみ）" in review and "同意する項目を変更する" not in review
    # Posted anyway, the change is refused and nothing changes.
    changed = client.post(f"/r/{token}/review/consents/{consent_id}",
                          data={"csrf_token": csrf_of(review), "categories": "drug"})
    assert changed.status_code == 409 and "資格確認書で確認した受付" in changed.get_data(as_text=True)
    with app.extensions["sessionmaker"]() as s:
        assert s.get(Consent, consent_id).categories == ()


# --- the console ----------------------------------------------------------------------------------


def console_post(browser, path, data):
    token = csrf_of(browser.get("/pharmacy/home-visits/certificate").get_data(as_text=True))
    return browser.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def holder(world):
    """A patient of no consent at 本町薬局 (born 1952-03-04, 昭和27年3月4日)."""
    with world.session() as s:
        person = make_oqs(s).create_person(today=TODAY, birth_date=date(1952, 3, 4), validity=1, seed=39)
        s.commit()
        return person


def test_home_visits_confirms_from_the_certificate_and_the_patient_page_refuses_every_section(world, holder):
    browser = console_login(world.app, "pharmacist")
    listing = browser.get("/pharmacy/home-visits").get_data(as_text=True)
    assert "資格確認書で確認" in listing and "/pharmacy/home-visits/certificate" in listing
    answer = console_post(browser, "/pharmacy/home-visits/certificate", form_of(holder, birth_date="S27.3.4"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "資格確認書で確認した結果" in html and holder.name in html and NO_DATA in html and WHY in html
    (consent,) = certificates(world.app)
    assert consent.care_setting == HOME_VISIT and not consent.house_call
    # 「訪問患者」 lists today's confirmation with its time; the day's list names it.
    listing = browser.get("/pharmacy/home-visits").get_data(as_text=True)
    assert "本日、資格確認書で確認した患者" in listing and holder.name in listing and "10:00 確認" in listing
    day_list = browser.get(f"/pharmacy/?date={TODAY.isoformat()}").get_data(as_text=True)
    assert "資格確認書で確認（資格情報のみ）" in day_list
    # Its row: nothing consented, so the 「同意」 column is empty (never 「同意あり」), as a 資格確認's.
    row = re.search(r'<tr data-id="%s".*?</tr>' % consent.id, day_list, re.S).group(0)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert (cells[5], cells[7], cells[8]) == ("", "資格確認書で確認（資格情報のみ）", "")
    # The patient page: the qualification, and one refusal in place of every data section.
    page = browser.get(f"/pharmacy/consents/{consent.id}").get_data(as_text=True)
    assert "資格確認書" in page and holder.insurer_number in page
    assert f"閲覧できません：{NO_DATA}" in page
    assert "<h2>薬剤情報</h2>" not in page
    with world.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.event == "read_denied")).all()
        assert {e.reason for e in denied} == {"certificate_only"}
        assert {e.category for e in denied} >= {"drug", "checkup", "limit"}


def test_home_visits_says_not_found_and_what_to_fix(world, holder):
    browser = console_login(world.app, "clerk")
    wrong = console_post(browser, "/pharmacy/home-visits/certificate", form_of(holder, birth_date="1952-03-05"))
    assert wrong.status_code == 404 and "該当する方が見つかりませんでした" in wrong.get_data(as_text=True)
    bad = console_post(browser, "/pharmacy/home-visits/certificate", form_of(holder, birth_date="にせの日付"))
    assert bad.status_code == 422 and "S29.2.1" in bad.get_data(as_text=True)
    assert certificates(world.app) == []


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def confirmed(world, holder, clock):
    with world.session() as s:
        consent = grants.register_certificate(s, institution_id=world.here, person_id=holder.person_id,
                                              care_setting=OUTPATIENT, house_call=False, consultation_date=TODAY,
                                              now=clock.now(), validity_code=1, by=f"staff:{world.staff['clerk']}")
        s.commit()
        return consent.id


@pytest.mark.parametrize("token_of", ["pharmacist", "clerk", "system job"])
def test_the_api_names_the_source_and_refuses_every_data_read_certificate_only(world, confirmed, token_of):
    app = world.app
    token = (system_token(app, world.system_client) if token_of == "system job"
             else staff_token(app, world.code_client, token_of))
    client = app.test_client()
    listing = client.get(f"/api/v1/consents?date={TODAY.isoformat()}", headers=bearer(token)).get_json()["consents"]
    assert {c["id"]: c["source"] for c in listing} == {world.consent: SOURCE_CARD, confirmed: SOURCE_CERTIFICATE}
    one = client.get(f"/api/v1/consents/{confirmed}", headers=bearer(token)).get_json()
    assert one["source"] == SOURCE_CERTIFICATE and one["categories"] == []
    assert {s["flag"] for s in one["category_states"]} == {0}
    for read in DATA_READS:
        resp = client.get(f"/api/v1/consents/{confirmed}/{read.segment}", headers=bearer(token))
        if read.category == QUALIFICATION:
            assert resp.status_code == 200, resp.get_json()
            continue
        body = resp.get_json()
        if SCOPE_OF_CATEGORY[read.category] not in token["scope"].split():
            # The token's own reach comes first (a clerk's or a system job's holds no such scope).
            assert resp.status_code == 403 and body["error"] == "insufficient_scope", read.segment
            continue
        assert resp.status_code == 403, (read.segment, body)
        assert body["error"] == "certificate_only" and body["type"] == "/problems/certificate_only"
        assert body["message"] == f"閲覧できません：{NO_DATA}（" + body["message"].split("（", 1)[1]
    assert client.get("/problems/certificate_only").status_code == 200


def test_a_certificate_record_has_nothing_to_end_in_the_console_or_the_api(world, confirmed):
    # Nothing was consented: no 「同意の取消」 on its page, and a revocation posted all the same (the
    # console's form, the API) is refused as a 資格確認限定型 confirmation's is.
    browser = console_login(world.app, "pharmacist")
    page = browser.get(f"/pharmacy/consents/{confirmed}").get_data(as_text=True)
    assert "同意の取消" not in page
    refused = browser.post(f"/pharmacy/consents/{confirmed}/cancel",
                           data={"csrf_token": csrf_of(page), "reason": "1", "confirm": "yes"})
    assert refused.status_code == 409
    token = staff_token(world.app, world.code_client, "pharmacist")
    resp = world.app.test_client().post(f"/api/v1/consents/{confirmed}/revocation", json={"reason": 1},
                                        headers=bearer(token))
    assert resp.status_code == 409 and resp.get_json()["error"] == "confirmation_only"
    with world.session() as s:
        assert s.get(Consent, confirmed).status == "active"


def test_the_openapi_document_names_the_source_and_the_refusal(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["components"]["schemas"]["ConsentSource"]["enum"] == ["card", "certificate"]
    assert "certificate_only" in json.dumps(document)


# --- the sandbox: a person holding only a 資格確認書 ------------------------------------------------


@pytest.fixture
def sandbox(make_app):
    return make_app("sandbox", use_clock=False)


def card_read(app, card) -> object:
    import re

    client = app.test_client()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/card/signin").get_data(as_text=True)).group(1)
    options = client.post("/card/options?purpose=signin", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    assertion = SoftCard.from_sandbox(card).assertion(options, origin="http://localhost:5000")
    return client.post("/card/signin/verify", json={"credential": assertion}, headers={"X-CSRF-Token": csrf})


def test_a_sandbox_person_without_a_card_has_every_card_read_refused(sandbox):
    client = sandbox.test_client()
    person = client.post("/sandbox/patients", json={"card": False}).get_json()
    assert person["card"] is False and person["insurer_number"]
    card = client.post("/sandbox/cards", json={"person_id": person["person_id"]}).get_json()
    assert client.get(f"/sandbox/cards/{card['card_id']}").get_json()["status"] == "unlinked"
    refused = card_read(sandbox, card)
    assert refused.status_code == 403 and refused.get_json()["error"] == "card_unlinked"
    assert "資格確認書" in refused.get_json()["message"]
    # Everyone else still holds a card (the default).
    other = client.post("/sandbox/patients", json={}).get_json()
    assert other["card"] is True
    other_card = client.post("/sandbox/cards", json={"person_id": other["person_id"]}).get_json()
    assert card_read(sandbox, other_card).status_code == 200


@pytest.mark.parametrize("value", ["false", 0, None, []])
def test_card_must_be_a_boolean(sandbox, value):
    resp = sandbox.test_client().post("/sandbox/patients", json={"card": value})
    assert resp.status_code == 422 and resp.get_json()["error"] in ("invalid_field", "invalid_parameter")
    assert "card" in resp.get_json()["message"]
