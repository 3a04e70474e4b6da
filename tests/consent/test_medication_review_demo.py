"""The review over the real demo patients, read through the simulator's public functions: what
`make run` shows a pharmacist (issue 33: 鈴木 一郎 takes メトホルミン at eGFR 45)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import TODAY

from consent.medication import drug_records
from consent.medication_review import line_ids, review_patient
from integrations.oqs.simulator import load_demo_population, make_oqs
from integrations.oqs.simulator.demo import DEMO_IDS
from integrations.oqs.simulator.drug_history import claims_visible_until


@pytest.fixture
def demo(session):
    load_demo_population(session, today=TODAY, institution_codes=["1341234563"])
    session.commit()
    oqs = make_oqs(session)

    def review(person_id: str, day=TODAY):
        return review_patient(drugs=drug_records(oqs, person_id, day), clinical=oqs.clinical(person_id, today=day),
                              checkups=oqs.checkups(person_id, today=day), today=day,
                              claims_through=claims_visible_until(day))

    review.oqs = oqs
    return review


def test_suzuki_ichiro_gets_a_kidney_line_naming_metformin_at_egfr_45(demo):
    result = demo("demo-suzuki-ichiro")
    (renal,) = [f for f in result.findings if f.check == "renal"]
    assert renal.text.startswith("腎機能：メトホルミン塩酸塩錠250mgMT「日医工」")
    assert "eGFR 45 mL/分/1.73m²" in renal.text and "検査 2026年9月20日" in renal.text
    # His drug allergy (a tetracycline) matches nothing he takes now, and the page says so.
    assert any(line.startswith("アレルギー：該当する薬剤なし（記録された薬剤アレルギー：「ミノサイクリン塩酸塩」")
               for line in result.lines)


def test_suzuki_ichiros_metformin_line_holds_on_any_day_of_the_year_before(demo):
    # `make run` loads the demo on whatever day it is: the line must not depend on the day.
    for weeks in range(0, 52, 4):
        day = TODAY - timedelta(weeks=weeks)
        assert any(f.check == "renal" and "メトホルミン" in f.text for f in demo("demo-suzuki-ichiro", day).findings), day


def test_watanabe_sachiko_takes_celecoxib_with_a_recorded_sulfonamide_allergy(demo):
    result = demo("demo-watanabe-sachiko")
    (found,) = [f for f in result.findings if f.check == "allergy"]
    assert found.text.startswith("アレルギー：セレコキシブ錠100mg「サワイ」")
    assert "スルファメトキサゾール・トリメトプリム" in found.text and "同じ群（スルホンアミド）" in found.text


def test_takahashi_fumiko_the_busiest_patient_has_a_polypharmacy_line_with_the_count(demo):
    result = demo("demo-takahashi-fumiko")
    (found,) = [f for f in result.findings if f.check == "polypharmacy"]
    assert found.text.startswith(f"多剤：現在の薬が{len(result.current)}剤") and len(result.current) >= 6


def test_every_demo_history_groups_into_dispensings_with_unique_ids(demo):
    from consent.medication_review import drug_lines

    for person_id in DEMO_IDS:
        records = drug_records(demo.oqs, person_id, TODAY)
        result = demo(person_id)
        rows = [drug for d in result.dispensings for drug in d.drugs]
        ids = line_ids(drug_lines(records))
        assert len({i.record_id for i in ids}) == len(records)  # one id per record
        assert len({r.row_id for r in rows}) == len(rows) <= len(records)
        assert [d.day for d in result.dispensings] == sorted((d.day for d in result.dispensings), reverse=True)
        both = [r for r in rows if len(r.sources) == 2]
        if any(r.source == "prescription" for r in records) and any(r.source == "claims" for r in records):
            assert both, person_id  # e-prescription and claims overlap by a month or two: shown once
