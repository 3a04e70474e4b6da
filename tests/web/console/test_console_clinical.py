"""The patient page's clinical sections, the pharmacist's warnings and e-prescription data (issue 23)."""
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
    assert "薬剤アレルギー等" in clinical and "eGFR" in clinical and "mL/min/1.73m2" in clinical
    assert "クレアチニン" in clinical and "基準範囲" in clinical
    surgery = section(html, "手術・傷病名・感染症")
    assert "傷病名" in surgery and re.search(r"<td>[A-Z][0-9]{2}(\.[0-9])?</td>", surgery)
    with app.extensions["sessionmaker"]() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq).offset(before)))
    assert {e.category for e in entries} >= {"clinical", "surgery"}
    assert all(e.event == "read_allowed" for e in entries)


def test_a_drug_allergy_and_a_low_egfr_are_the_first_thing_in_drug_information(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    drug = section(html, "薬剤情報")
    warnings = drug.index("pharmacist-warnings")
    assert warnings < drug.index("<table")
    assert re.search(r"薬剤アレルギー：[^<]+（[^<]+）", drug)
    egfr = re.search(r"腎機能低下：eGFR ([0-9.]+) mL/min/1.73m2", drug)
    assert egfr and float(egfr.group(1)) < 60


def test_e_prescription_data_is_its_own_part_newest_first(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    drug = section(client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True), "薬剤情報")
    parts = drug.split('<h3 id="h-drug-claims">')
    assert "電子処方箋の処方・調剤情報" in parts[0] and "レセプトによる薬剤情報" in drug
    days = [date(int(y), int(m), int(d)) for y, m, d in
            re.findall(r"</td><td>(\d{4})年(\d{1,2})月(\d{1,2})日</td>", parts[0])]
    assert days and days == sorted(days, reverse=True)
    assert all((TODAY - day).days <= 100 for day in days)


def test_no_warnings_without_consent_to_clinical_data(console):
    # The allergy and the eGFR are clinical data: a patient who consented to drugs alone keeps them.
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/consents/{ids['warned_drug_only']}").get_data(as_text=True)
    assert "pharmacist-warnings" not in html and "薬剤アレルギー" not in html and "eGFR" not in html
    assert "電子処方箋の処方・調剤情報" in section(html, "薬剤情報")


def test_empty_sections_say_there_is_nothing(console):
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/consents/{ids['empty']}").get_data(as_text=True)
    for heading in ("診療・アレルギー・検査", "手術・傷病名・感染症", "特定疾病療養受療証"):
        assert "該当する情報はありません" in section(html, heading)
    assert "pharmacist-warnings" not in html


def test_a_clerk_sees_neither_clinical_data_nor_the_warnings(console):
    app, ids = console
    client, _ = login(app, "clerk")
    html = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    assert "閲覧できません：有資格者のみ閲覧できます" in section(html, "診療・アレルギー・検査")
    assert "閲覧できません" in section(html, "手術・傷病名・感染症")
    assert "pharmacist-warnings" not in html and "eGFR" not in html
