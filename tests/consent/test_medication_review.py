"""The review as the page gets it: lines in order, each starting with its label, 多剤 at six, checks
that need a category the reader may not see named as not made."""
from __future__ import annotations

from datetime import timedelta

import pytest
from medication_support import CHECKUP, LAB, TODAY, allergy, egfr, line

from consent.medication_review import DISCLAIMER, medication_review, review_patient
from consent.medication_review.findings import CHECK_LABELS, POLYPHARMACY

EVERYTHING = {"drug", "clinical", "checkup"}
SEVEN = ["アムロジピンベシル酸塩", "テルミサルタン", "ロスバスタチンカルシウム", "メトホルミン塩酸塩", "ランソプラゾール",
         "ブロチゾラム", "酸化マグネシウム"]


def review(lines, *, labs=(), allergies=(), readable=EVERYTHING, **kwargs):
    return medication_review(lines=lines, labs=labs, allergies=allergies, today=TODAY, readable=readable, **kwargs)


@pytest.mark.parametrize(("count", "shown"), [(5, False), (6, True), (7, True)])
def test_polypharmacy_from_six_current_drugs_with_the_count(count, shown):
    result = review([line(i) for i in SEVEN[:count]])
    lines = [f for f in result.findings if f.check == POLYPHARMACY]
    assert bool(lines) is shown
    if shown:
        assert lines[0].text.startswith(f"多剤：現在の薬が{count}剤")


def test_polypharmacy_counts_current_drugs_only_and_one_per_ingredient():
    old = [line(i, TODAY - timedelta(days=120)) for i in SEVEN[:3]]
    twice = [line(SEVEN[3], TODAY), line(SEVEN[3], TODAY - timedelta(days=28))]
    assert not review([*old, *twice, *[line(i) for i in SEVEN[4:7]]]).findings_of(POLYPHARMACY)


def test_every_line_starts_with_its_label_and_the_checks_come_in_the_contracts_order():
    lines = [line(i) for i in SEVEN[:6]] + [
        line("セレコキシブ", name="セレコキシブ錠100mg"),
        line("ロキソプロフェンナトリウム水和物", prescriber="本町整形外科", name="ロキソプロフェンNa錠60mg")]
    result = review(lines, labs=[egfr(25)], allergies=[allergy("スルファメトキサゾール・トリメトプリム", "サルファ剤")])
    labels = [text.split("：", 1)[0] for text in result.lines]
    assert labels == sorted(labels, key=["腎機能", "アレルギー", "重複", "多剤"].index)
    assert set(labels) == set(CHECK_LABELS.values())
    text = "\n".join(result.lines)
    assert "腎機能：メトホルミン塩酸塩錠" in text and "腎機能：セレコキシブ錠100mg" in text
    assert "アレルギー：セレコキシブ錠100mg" in text
    assert "重複：セレコキシブ錠100mg、ロキソプロフェンNa錠60mg" in text
    assert "多剤：現在の薬が8剤" in text
    assert result.disclaimer == DISCLAIMER and "判断に代わるものではありません" in DISCLAIMER


def test_checks_needing_a_category_not_readable_are_named_as_not_made_and_its_data_ignored():
    lines = [line("メトホルミン塩酸塩"), line("セレコキシブ")]
    result = review(lines, labs=[egfr(20, source=LAB)], allergies=[allergy("セレコキシブ")], readable={"drug"})
    assert result.lines == (
        "腎機能：確認していません（「診療・アレルギー・検査」「特定健診」の同意がありません）",
        "アレルギー：確認していません（「診療・アレルギー・検査」の同意がありません）",
    )
    # 特定健診 alone is enough for 腎機能 (a checkup's eGFR), not for アレルギー; 検査 values are not used.
    only_checkups = review(lines, labs=[egfr(20, source=LAB), egfr(50, source=CHECKUP)], readable={"drug", "checkup"})
    assert "eGFR 50" in only_checkups.lines[0] and "アレルギー：確認していません" in only_checkups.lines[1]


def test_without_the_drug_category_nothing_is_checked_and_nothing_listed():
    result = review([line("メトホルミン塩酸塩")], labs=[egfr(20)], readable={"clinical", "checkup"})
    assert result.current == () and result.dispensings == () and result.findings == ()
    assert result.lines == tuple(f"{label}：確認していません（「薬剤・処方」の同意がありません）"
                                 for label in CHECK_LABELS.values())


def test_no_kidney_value_on_record_is_said_rather_than_passed_over():
    assert review([line("メトホルミン塩酸塩")]).lines == ("腎機能：確認していません（eGFR・クレアチニンの記録がありません）",)


def test_review_patient_takes_the_oqs_results_and_infers_what_is_readable():
    from integrations.oqs.results import ClinicalInfo, DrugAllergy, LabResult
    from integrations.oqs.results import CheckupRecord, CheckupValue, DrugRecord

    record = DrugRecord(
        treatment_month="202611", prescribed_on=TODAY - timedelta(days=10), dispensed_on=TODAY - timedelta(days=10),
        prescriber="大久保駅前クリニック", dispenser="ほほえみ薬局 大久保店", setting="外来", dispensing="院外",
        drug_code="3962002F2116", drug_name="メトホルミン塩酸塩錠250mgMT「日医工」", ingredient="メトホルミン塩酸塩",
        strength="250mg", dosage_form="内服", usage="1日2回朝夕食後", dose="1回1錠", days=42, quantity=84.0, unit="錠",
        category="糖尿病用剤", source="prescription")
    clinical = ClinicalInfo(
        drug_allergies=(DrugAllergy("ミノサイクリン塩酸塩", "テトラサイクリン系抗菌薬", "蕁麻疹", TODAY - timedelta(days=9000)),),
        other_allergies=(),
        labs=(LabResult(TODAY - timedelta(days=60), "eGFR", "eGFR", 45.0, "mL/min/1.73m2", 60.0, None, "L"),
              LabResult(TODAY - timedelta(days=60), "CRE", "クレアチニン", 1.24, "mg/dL", 0.65, 1.07, "H")))
    checkup = CheckupRecord(TODAY - timedelta(days=400), 2025, "特定健診", "健診センター", 72, "非該当", (
        CheckupValue("egfr", "eGFR", 61.6, "mL/分/1.73m2", "60以上", "", False, ""),
        CheckupValue("urine_protein", "尿蛋白", "（−）", "", "（−）", "", False, "")))
    for drugs, info, checkups in (([record], clinical, [checkup]),
                                  ([record.to_dict()], clinical.to_dict(), [checkup.to_dict()])):
        result = review_patient(drugs=drugs, clinical=info, checkups=checkups, today=TODAY)
        assert result.lines[0].startswith("腎機能：メトホルミン塩酸塩錠250mgMT「日医工」")
        assert "eGFR 45 mL/分/1.73m²・血清クレアチニン 1.24 mg/dL" in result.lines[0]
        assert result.lines[1].startswith("アレルギー：該当する薬剤なし")
        assert [c.drug_name for c in result.current] == ["メトホルミン塩酸塩錠250mgMT「日医工」"]
    refused = review_patient(drugs=[record], clinical=None, checkups=None, today=TODAY)
    assert refused.lines[0] == "腎機能：確認していません（「診療・アレルギー・検査」「特定健診」の同意がありません）"
