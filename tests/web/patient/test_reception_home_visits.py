"""Home visits on the patient's side: the first visit on the tablet (again: the same relationship),
and on the patient's phone 「同意照会・更新」 (the relationship and its visits) and 「すべての同意を取消す」."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conftest import TODAY
from consent import home_visits
from consent.models import Consent
from consent.vocabulary import PERIOD_HOME_VISIT, PERIOD_HOME_VISIT_NO_LAPSE
from patient_support import csrf_of, read_card
from patient_support import consents, reception_mode, register

DAY = timedelta(days=1)


def first_visit_on_the_tablet(place, **form):
    client = place["app"].test_client()
    url = place["urls"]["home_visit"]
    reception_mode(client, url)
    return register(client, url, place["card"], **form)


def test_a_second_first_visit_keeps_the_same_relationship(place, clock):
    first_visit_on_the_tablet(place, categories=["drug", "limit"])
    (before,) = consents(place)
    clock.set(clock.now() + 30 * DAY)
    done = first_visit_on_the_tablet(place, categories=["drug", "checkup"])
    assert "同意登録が完了しました" in done
    (after,) = consents(place)
    assert after.id == before.id and after.categories == ("drug", "checkup")
    assert after.consultation_date == TODAY and after.last_visit_date == TODAY + 30 * DAY


def test_the_patient_sees_the_relationship_and_its_visits_and_ends_it_from_the_phone(place, clock):
    first_visit_on_the_tablet(place)
    (consent,) = consents(place)
    with place["app"].extensions["sessionmaker"]() as session:
        home_visits.record_visit(session, institution_id=place["id"], consent_id=consent.id,
                                 visit_date=TODAY + 7 * DAY, by="staff:1", now=clock.now() + 7 * DAY)
        session.commit()
    clock.set(clock.now() + 8 * DAY)
    phone = place["urls"]["online"]
    client = place["app"].test_client()
    resp = read_card(client, place["card"], "review", f"{phone}/review/verify", f"{phone}/review")
    review = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert f"訪問診療等（初回訪問 {TODAY.year}年{TODAY.month}月{TODAY.day}日）" in review
    later = TODAY + 7 * DAY
    assert f"{later.year}年{later.month}月{later.day}日" in review and "訪問診療等が続く間" in review

    client = place["app"].test_client()
    resp = read_card(client, place["card"], "revoke", f"{phone}/revoke/verify", f"{phone}/revoke")
    confirm = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert "訪問診療等（初回訪問" in confirm
    done = client.post(f"{phone}/revoke/confirm", data={"csrf_token": csrf_of(confirm)})
    assert "同意を取り消しました" in done.get_data(as_text=True)
    with place["app"].extensions["sessionmaker"]() as session:
        ended = session.scalars(select(Consent)).one()
        assert (ended.status, ended.revocation_reason) == ("revoked", 2)


def test_the_home_visit_period_says_no_lapse_unless_the_institution_sets_one(place, clock):
    """The period's words follow the institution's lapse rule: none (the default) - until 訪問終了
    or the patient's 取消; a number - that many days without a recorded visit, too."""
    client = place["app"].test_client()
    url = place["urls"]["home_visit"]
    reception_mode(client, url)
    page = client.get(f"{url}/consent").get_data(as_text=True)
    assert PERIOD_HOME_VISIT_NO_LAPSE in page and "日たつと" not in page
    with place["app"].extensions["sessionmaker"]() as session:
        home_visits.set_lapse_days(session, institution_id=place["id"], days=30, now=clock.now())
        session.commit()
    page = client.get(f"{url}/consent").get_data(as_text=True)
    assert PERIOD_HOME_VISIT.format(days=30) in page and PERIOD_HOME_VISIT_NO_LAPSE not in page


def test_the_review_names_no_lapse_date_when_there_is_none(place, clock):
    first_visit_on_the_tablet(place)
    phone = place["urls"]["online"]

    def review():
        client = place["app"].test_client()
        resp = read_card(client, place["card"], "review", f"{phone}/review/verify", f"{phone}/review")
        return client.get(resp.get_json()["redirect"]).get_data(as_text=True)

    shown = review()
    assert "訪問診療等が続く間" in shown and "訪問の記録がないままなら" not in shown
    with place["app"].extensions["sessionmaker"]() as session:
        home_visits.set_lapse_days(session, institution_id=place["id"], days=30, now=clock.now())
        session.commit()
    last_day = TODAY + 30 * DAY  # the lapse is 00:00 JST of the day after it
    assert f"訪問の記録がないままなら {last_day.year}年{last_day.month}月{last_day.day}日 23:59まで" in review()
