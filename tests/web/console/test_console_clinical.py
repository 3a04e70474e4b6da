"""The patient page's clinical sections, 「確認事項」 (issue 33, replacing issue 23's warnings) and drug data."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from consent import grants
from consent.institutions import add_staff, create_institution
from consent.models import AuditEntry
from integrations.oqs.simulator import make_oqs
from conftest import TODAY
from console_support import EVERYTHING, find_person, login, nothing, warned

@pytest.fixture
def console(make_app, clock):
    app = make_app("development")
    with app.extensions["sessionmaker"]() as s:
        here = create_institution(s, code="1341234563", name="本町薬局", now=clock.now())
        for role in ("pharmacist", "clerk"):
            add_staff(s, here, login_id=role, password=f"{role}-password", role=role, now=clock.now())
        oqs = make_oqs(s)
        consents = {}
        for name, wanted, categories, birth in (
                ("warned", warned, EVERYTHING, date(1950, 6, 6)),
                ("warned_drug_only", warned, ["drug", "limit"], date(1950, 6, 6)),
                ("empty", nothing, EVERYTHING, date(2024, 2, 2))):
            person = find_person(oqs, wanted, birth_date=birth)
            consents[name] = grants.register_consent(
                s, institution_id=here.id, person_id=person.person_id, card_id=f"card_{name}", care_setting=3,
                categories=categories, consultation_date=TODAY, now=clock.now(), validity_code=1).id
            consents[f"{name}_person"] = person.person_id
        s.commit()
    return app, consents


def section(html: str, heading: str) -> str:
    """The text of the <section> headed `heading`."""
    match = re.search(rf'<section class="data"[^>]*>\s*<h2[^>]*>{heading}</h2>(.*?)</section>', html, re.S)
    assert match, heading
    return match.group(1)


def test_a_pharmacist_sees_each_category_in_its_section_and_every_read_is_audited(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    with app.extensions["sessionmaker"]() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    html = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    for heading in ("資格情報", "限度額", "薬剤情報", "特定健診情報", "診療・アレルギー・検査", "手術・傷病名・感染症",
                    "特定疾病療養受療証"):
        assert f">{heading}</h2>" in html
    clinical = section(html, "診療・アレルギー・検査")
    # One spelling for the unit (consent/units.py), not the source's 「mL/min/1.73m2」.
    assert "薬剤アレルギー等" in clinical and "eGFR" in clinical and "mL/分/1.73m²" in clinical
    assert "mL/min" not in html
    assert "クレアチニン" in clinical and "基準範囲" in clinical
    surgery = section(html, "手術・傷病名・感染症")
    assert "傷病名" in surgery and re.search(r"<td>[A-Z][0-9]{2}(\.[0-9])?</td>", surgery)
    with app.extensions["sessionmaker"]() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq).offset(before)))
    assert {e.category for e in entries} >= {"clinical", "surgery"}
    assert all(e.event == "read_allowed" for e in entries)


def review(html: str) -> str:
    match = re.search(r'<section class="review card"[^>]*>\s*<h2[^>]*>確認事項</h2>(.*?)</section>', html, re.S)
    assert match
    return match.group(1)


def test_the_review_is_the_first_section_and_names_the_allergy_and_the_egfr(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    assert html.index("<section") == html.index('<section class="review card"')
    lines = re.findall(r"<li[^>]*>([^<]+)</li>", review(html))
    assert any(line.startswith("アレルギー：") for line in lines)
    # The kidney check read the eGFR: either a drug is named at it, or none of the current drugs is
    # one whose dose depends on it (never 「確認していません」 with clinical data readable).
    assert any(line.startswith("腎機能：") and "確認していません" not in line for line in lines)
    assert "判断に代わるものではありません" in review(html)


def test_the_history_is_grouped_by_dispensing_newest_first_within_six_months(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    drug = section(client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True), "薬剤情報")
    heads = re.findall(r'<h3 class="dispensing-head">(\d{4})年(\d{1,2})月(\d{1,2})日', drug)
    days = [date(int(y), int(m), int(d)) for y, m, d in heads]
    assert days and days == sorted(days, reverse=True)
    assert all((TODAY - day).days <= 184 for day in days)
    assert "さらに表示" in drug


def test_no_clinical_checks_without_consent_to_clinical_data(console):
    # The allergy and the eGFR are clinical data: a patient who consented to drugs alone keeps them.
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/consents/{ids['warned_drug_only']}").get_data(as_text=True)
    # 「項目ごとの同意」 names the item 薬剤アレルギー等 (flag 0): no data of it anywhere else.
    start = html.index('aria-labelledby="category-states-heading"')
    data = html[:start] + html[html.index("</section>", start):]
    assert "同意なし（同意の対象外）" in html[start:html.index("</section>", start)]
    assert "薬剤アレルギー" not in data and "eGFR" not in data
    assert "アレルギー：確認していません（「診療・アレルギー・検査」の同意がありません）" in review(html)
    assert 'class="dispensing"' in section(html, "薬剤情報")


def test_empty_sections_say_there_is_nothing(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/consents/{ids['empty']}").get_data(as_text=True)
    for heading in ("診療・アレルギー・検査", "手術・傷病名・感染症", "特定疾病療養受療証"):
        assert "該当する情報はありません" in section(html, heading)
    assert "確認事項" in html


def test_a_clerk_sees_neither_clinical_data_nor_the_review(console):
    app, ids = console
    client, _ = login(app, "clerk")
    html = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    assert "閲覧できません：有資格者のみ閲覧できます" in section(html, "診療・アレルギー・検査")
    assert "閲覧できません" in section(html, "手術・傷病名・感染症")
    assert "eGFR" not in html
    assert "確認していません（薬剤情報：有資格者のみ閲覧できます）" in review(html)
