"""The photo check (目視確認) on the tablet for 訪問診療等 and 往診: 「暗証番号を使わずに確認（目視確認）」
reads the card without its PIN, shows its face photo, and registers only after the staff member's
「本人であることを確認しました」; the consent records `verification` "photo" and the staff member, the
audit names both. Anywhere else a read without the PIN is refused."""
from __future__ import annotations

import base64
import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from api_support import bearer, system_token
from consent import home_visits
from consent.models import AuditEntry
from consent.vocabulary import PHOTO_CHECK_LABEL, PHOTO_CONFIRMED_LABEL
from integrations.oqs.simulator import make_oqs
from patient_support import ORIGIN, consent_count, consents, csrf_of, read_card, reception_mode, register

HOME_SETTINGS = ("home_visit", "house_call")


def staff_id(place, login_id="here-clerk") -> int:
    from consent.institutions import Staff

    with place["app"].extensions["sessionmaker"]() as session:
        return session.scalars(select(Staff.id).where(Staff.login_id == login_id)).one()


def birth_date_step(client, url, birth_date: str):
    page = client.get(f"{url}/photo").get_data(as_text=True)
    assert "カードに書かれている生年月日" in page
    return client.post(f"{url}/photo", data={"csrf_token": csrf_of(page), "birth_date": birth_date})


def photo_read(client, url, card, *, birth_date="昭和25年5月6日", **kwargs):
    """On the tablet in reception mode, with categories chosen: the photo check's birth date (the
    `place` fixture's person was born 1950-05-06) and card read."""
    step = birth_date_step(client, url, birth_date)
    assert step.status_code == 303, step.get_data(as_text=True)
    page = client.get(f"{url}/photo").get_data(as_text=True)
    csrf = csrf_of(page)
    options = client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf})
    assert options.status_code == 200, options.get_data(as_text=True)
    return options.get_json(), client.post(
        f"{url}/photo/verify", json={"credential": card.assertion(options.get_json(), origin=ORIGIN, **kwargs)},
        headers={"X-CSRF-Token": csrf})


def on_the_tablet(place, setting, **form):
    client = place["app"].test_client()
    url = place["urls"][setting]
    reception_mode(client, url)
    page = client.get(f"{url}/consent").get_data(as_text=True)
    chosen = client.post(f"{url}/consent", data={"csrf_token": csrf_of(page), **(form or {"all": "1"})})
    assert chosen.status_code == 303
    return client, url


def audit_entries(place, event="consent_registered") -> list[dict]:
    """The details of the audit entries of `event`."""
    with place["app"].extensions["sessionmaker"]() as session:
        return [json.loads(e.detail) for e in session.scalars(select(AuditEntry).where(AuditEntry.event == event))]


@pytest.mark.parametrize("setting", HOME_SETTINGS)
def test_a_photo_checked_registration_reads_the_card_without_its_pin(place, setting):
    client, url = on_the_tablet(place, setting)
    confirm = client.get(f"{url}/confirm").get_data(as_text=True)
    assert PHOTO_CHECK_LABEL in confirm and f'href="{url}/photo"' in confirm
    options, resp = photo_read(client, url, place["card"], user_verified=False)
    assert options["userVerification"] == "discouraged"
    # It names the cards of the people born on the day entered: here the one card.
    assert [c["id"] for c in options["allowCredentials"]] == [
        base64.urlsafe_b64encode(place["card"].credential_id).decode().rstrip("=")]
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["redirect"] == f"{url}/photo/check"

    check = client.get(f"{url}/photo/check").get_data(as_text=True)
    assert PHOTO_CONFIRMED_LABEL in check and place["person"].name in check
    face = client.get(f"{url}/photo/face")
    assert face.status_code == 200 and face.mimetype == "image/svg+xml"
    assert face.headers["Cache-Control"] == "no-store"
    assert consent_count(place["app"]) == 0  # nothing yet: the staff member has not confirmed

    done = client.post(f"{url}/photo/check", data={"csrf_token": csrf_of(check), "confirmed": "1"})
    assert done.status_code == 303
    assert "同意登録が完了しました" in client.get(done.headers["Location"]).get_data(as_text=True)
    (consent,) = consents(place)
    assert (consent.verification, consent.verified_by) == ("photo", f"staff:{staff_id(place)}")
    assert consent.relationship == (setting == "home_visit")
    (entry,) = audit_entries(place)
    assert entry["verification"] == "photo" and entry["verified_by"] == str(staff_id(place))
    # The read and its grant are gone with the done page: the face is no longer served.
    assert client.get(f"{url}/photo/face").status_code == 404


def test_without_the_staff_members_confirmation_nothing_is_recorded(place):
    client, url = on_the_tablet(place, "home_visit")
    _, resp = photo_read(client, url, place["card"], user_verified=False)
    assert resp.status_code == 200
    check = client.get(f"{url}/photo/check").get_data(as_text=True)
    refused = client.post(f"{url}/photo/check", data={"csrf_token": csrf_of(check)})
    assert refused.status_code == 400
    assert f"「{PHOTO_CONFIRMED_LABEL}」にチェックを入れてください" in refused.get_data(as_text=True)
    refused = client.post(f"{url}/photo/check", data={"csrf_token": csrf_of(check), "confirmed": "yes"})
    assert refused.status_code == 400
    assert consent_count(place["app"]) == 0 and audit_entries(place) == []


def test_stopping_the_photo_check_leaves_nothing(place):
    client, url = on_the_tablet(place, "home_visit")
    photo_read(client, url, place["card"], user_verified=False)
    check = client.get(f"{url}/photo/check").get_data(as_text=True)
    assert "中止" in check
    stopped = client.post(f"{url}/photo/cancel", data={"csrf_token": csrf_of(check)})
    assert stopped.status_code == 303 and stopped.headers["Location"] == url
    assert client.get(f"{url}/photo/face").status_code == 404
    # The patient's choices are gone too: the check page sends back to the start of the reception.
    assert client.get(f"{url}/photo/check").status_code == 303
    again = client.post(f"{url}/photo/check", data={"csrf_token": csrf_of(check), "confirmed": "1"})
    assert again.status_code == 303
    assert consent_count(place["app"]) == 0 and audit_entries(place) == []
    with client.session_transaction() as s:
        assert "photo_check" not in s and "reception" not in s and "tablet" in s


@pytest.mark.parametrize("setting", ("online", "outpatient"))
def test_the_photo_check_exists_only_on_the_home_visit_tablet(place, setting):
    client = place["app"].test_client()
    url = place["urls"][setting]
    if setting != "online":
        reception_mode(client, url)
    page = client.get(f"{url}/consent").get_data(as_text=True)
    client.post(f"{url}/consent", data={"csrf_token": csrf_of(page), "all": "1", "consultation_date": "2026-12-01"})
    confirm = client.get(f"{url}/confirm").get_data(as_text=True)
    assert PHOTO_CHECK_LABEL not in confirm
    csrf = csrf_of(confirm)
    assert client.get(f"{url}/photo").status_code == 404
    assert client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf}).status_code == 404
    assert client.post(f"{url}/photo/verify", json={"credential": {}}, headers={"X-CSRF-Token": csrf}).status_code == 404
    assert client.post(f"{url}/photo/check", data={"csrf_token": csrf, "confirmed": "1"}).status_code == 404
    # /card/options never issues the photo check's challenge.
    assert client.post("/card/options?purpose=photo_check", json={}, headers={"X-CSRF-Token": csrf}).status_code == 400


def test_a_read_without_the_pin_is_refused_on_the_patients_phone(place):
    phone = place["urls"]["online"]
    client = place["app"].test_client()
    page = client.get(f"{phone}/consent").get_data(as_text=True)
    client.post(f"{phone}/consent", data={"csrf_token": csrf_of(page), "all": "1", "consultation_date": "2026-12-01"})
    resp = read_card(client, place["card"], "register", f"{phone}/confirm/verify", f"{phone}/confirm",
                     user_verified=False)
    assert resp.status_code == 400 and resp.get_json()["error"] == "not_verified"
    assert consent_count(place["app"]) == 0


def test_a_read_without_the_pin_is_refused_by_the_tablets_own_pin_read(place):
    """On the home-visit tablet, the ordinary 「読み取り開始」 (with the PIN) still needs the PIN; and
    the photo check's challenge does not answer it either."""
    client, url = on_the_tablet(place, "home_visit")
    resp = read_card(client, place["card"], "register", f"{url}/confirm/verify", f"{url}/confirm",
                     user_verified=False)
    assert resp.get_json()["error"] == "not_verified"
    birth_date_step(client, url, "1950-05-06")
    page = client.get(f"{url}/photo").get_data(as_text=True)
    csrf = csrf_of(page)
    options = client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    resp = client.post(f"{url}/confirm/verify", headers={"X-CSRF-Token": csrf}, json={
        "credential": place["card"].assertion(options, origin=ORIGIN, user_verified=False)})
    assert resp.status_code == 400 and resp.get_json()["error"] == "challenge_unknown"
    assert consent_count(place["app"]) == 0


def test_a_registration_with_the_pin_records_pin(place):
    client = place["app"].test_client()
    url = place["urls"]["home_visit"]
    reception_mode(client, url)
    assert "同意登録が完了しました" in register(client, url, place["card"])
    (consent,) = consents(place)
    assert (consent.verification, consent.verified_by) == ("pin", None)
    (entry,) = audit_entries(place)
    assert "verification" not in entry


def test_a_photo_checked_first_visit_again_names_the_photo_check_in_its_update(place, clock):
    client, url = place["app"].test_client(), place["urls"]["home_visit"]
    reception_mode(client, url)
    assert "同意登録が完了しました" in register(client, url, place["card"], categories=["drug"])
    client, url = on_the_tablet(place, "home_visit", categories=["drug", "checkup"])
    photo_read(client, url, place["card"], user_verified=False)
    check = client.get(f"{url}/photo/check").get_data(as_text=True)
    client.post(f"{url}/photo/check", data={"csrf_token": csrf_of(check), "confirmed": "1"})
    (consent,) = consents(place)
    assert consent.verification == "photo" and consent.categories == ("drug", "checkup")
    (update,) = audit_entries(place, "consent_updated")
    assert update["verification"] == "photo" and update["verified_by"] == str(staff_id(place))
    assert update["changed"]["verification"] == ["pin", "photo"]


def test_the_photo_check_asks_for_reception_mode(place):
    """Signed out (or out of 「受付モード」), the tablet URL shows the staff login, never a card read."""
    client = place["app"].test_client()
    url = place["urls"]["home_visit"]
    assert "ログインID" in client.get(f"{url}/photo").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    options = client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf_of(page)})
    assert options.status_code == 401


def test_the_console_audit_log_names_the_photo_check_and_the_staff_member(place):
    client, url = on_the_tablet(place, "home_visit")
    photo_read(client, url, place["card"], user_verified=False)
    check = client.get(f"{url}/photo/check").get_data(as_text=True)
    client.post(f"{url}/photo/check", data={"csrf_token": csrf_of(check), "confirmed": "1"})
    from api_support import console_login

    admin = console_login(place["app"], "here-admin", "tablet-password-1")
    log = admin.get("/pharmacy/admin/audit").get_data(as_text=True)
    assert "本人確認: 目視確認（here-clerk）" in log


def test_the_api_says_how_each_consent_was_verified(world, clock):
    with world.session() as s:
        from consent.models import Consent

        pin = s.get(Consent, world.consent)
        assert pin.verification == "pin"
        person = make_oqs(s).create_person(
            today=clock.now().date(), birth_date=clock.now().date().replace(year=1938), validity=1, seed=39)
        photo = home_visits.register_first_visit(
            s, institution_id=world.here, person_id=person.person_id, card_id="card_p", categories=["drug"],
            now=clock.now(), validity_code=1, verification="photo", verified_by=f"staff:{world.staff['clerk']}")
        s.commit()
        photo_id = photo.id
    headers = bearer(system_token(world.app, world.system_client))
    client = world.app.test_client()
    assert client.get(f"/api/v1/consents/{world.consent}", headers=headers).get_json()["verification"] == "pin"
    assert client.get(f"/api/v1/consents/{photo_id}", headers=headers).get_json()["verification"] == "photo"


def test_the_domain_refuses_a_photo_check_outside_home_visits(world, clock):
    from consent import grants
    from consent.errors import ConsentError

    with world.session() as s:
        with pytest.raises(ConsentError) as refused:
            grants.register_consent(
                s, institution_id=world.here, person_id=world.person.person_id, card_id="card_x", care_setting=3,
                categories=["drug"], consultation_date=clock.now().date(), now=clock.now(), verification="photo",
                verified_by="staff:1")
        assert refused.value.code == "photo_check_unavailable"
        with pytest.raises(ConsentError):
            home_visits.register_first_visit(s, institution_id=world.here, person_id="p", card_id="c",
                                             categories=["drug"], now=clock.now(), verification="photo",
                                             verified_by=None)


def test_the_face_photo_is_for_the_photo_check_in_progress_only(place):
    client, url = on_the_tablet(place, "home_visit")
    assert client.get(f"{url}/photo/face").status_code == 404
    photo_read(client, url, place["card"], user_verified=False)
    svg = client.get(f"{url}/photo/face").get_data(as_text=True)
    assert re.match(r"<svg ", svg) and "見本" in svg
    other = place["app"].test_client()  # another browser: nothing of this read
    reception_mode(other, url)
    assert other.get(f"{url}/photo/face").status_code == 404


def test_the_birth_date_step_finds_the_cards_or_says_why_not(place):
    client, url = on_the_tablet(place, "home_visit")
    page = client.get(f"{url}/photo").get_data(as_text=True)
    csrf = csrf_of(page)
    # No options before the birth date is entered.
    assert client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf}).status_code == 409
    wrong = birth_date_step(client, url, "2月30日")
    assert wrong.status_code == 400 and "例: 昭和29年2月1日" in wrong.get_data(as_text=True)
    nobody = birth_date_step(client, url, "1950-05-07")
    assert nobody.status_code == 404
    assert "この生年月日の方のマイナンバーカードが見つかりません" in nobody.get_data(as_text=True)
    assert client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf}).status_code == 409
    found = birth_date_step(client, url, "S25.5.6")
    assert found.status_code == 303
    read_page = client.get(f"{url}/photo").get_data(as_text=True)
    assert "読み取り開始" in read_page and "暗証番号の入力はいりません" in read_page
    # Each search is audited as one (never the date itself).
    searched = audit_entries(place, "person_searched")
    assert [(e["by"], e["outcome"]) for e in searched] == [("birth_date", "not_found"), ("birth_date", "found")]
    assert all("1950" not in json.dumps(e) for e in searched)
    # 「生年月日を入力し直す」 forgets the cards found.
    assert "カードに書かれている生年月日" in client.get(f"{url}/photo?again=1").get_data(as_text=True)
    assert client.post(f"{url}/photo/options", json={}, headers={"X-CSRF-Token": csrf}).status_code == 409


def test_a_card_other_than_the_birth_dates_is_refused(place, clock):
    from cryptography.hazmat.primitives import serialization

    from integrations.card import make_card_authority
    from integrations.card.soft_authenticator import SoftCard

    with place["app"].extensions["sessionmaker"]() as session:
        other = make_oqs(session).create_person(today=clock.now().date(), birth_date=date(1931, 1, 2), validity=1)
        issued = make_card_authority(session).issue_card(person_id=other.person_id, birth_date=other.birth_date,
                                                         now=clock.now())
        session.commit()
    stranger = SoftCard(issued.card.credential_id, issued.card.user_handle,
                        serialization.load_der_private_key(issued.private_key_pkcs8, password=None))
    client, url = on_the_tablet(place, "home_visit")
    _, resp = photo_read(client, url, stranger, user_verified=False)
    assert resp.status_code == 403 and resp.get_json()["error"] == "other_card"
    assert client.get(f"{url}/photo/check").status_code == 303
    assert consent_count(place["app"]) == 0
