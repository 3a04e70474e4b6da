"""Checkup histories (特定健診情報), derived on read from the person's seed.

特定健診 is for those 40-74 in the fiscal year; 後期高齢者健診 for 75 and over. Whether a
person attends in a given fiscal year, and when, is drawn from (seed, year); values follow
the person's baseline and conditions, so hypertension shows in the blood pressure and
treatment brings it down. An insurer uploads results some weeks after the exam, so a result
appears 60 days after the exam date, and stays 5 years.

Judgements use the 特定健康診査 判定値 (保健指導判定値 / 受診勧奨判定値); creatinine uses the
JCCLS common reference interval.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from integrations.oqs.simulator.ages import add_years, age_on, fiscal_year
from integrations.oqs.simulator.facts import PersonFacts
from integrations.oqs.simulator.health import Profile
from integrations.oqs.results import CheckupRecord, CheckupValue
from integrations.oqs.simulator.seeding import rng_for

YEARS_BACK = 5
UPLOAD_LAG_DAYS = 60

# Attendance per fiscal year by insurer kind.
_ATTENDANCE = {"kumiai": 0.82, "kyosai": 0.80, "jieikan": 0.85, "kyokai": 0.60, "tokurei": 0.60,
               "kokuho": 0.40, "koki": 0.30}
# Exams cluster from May to December.
_MONTH_WEIGHTS = {4: 3, 5: 8, 6: 12, 7: 12, 8: 8, 9: 10, 10: 12, 11: 12, 12: 8, 1: 6, 2: 5, 3: 4}
_MONTHS = list(_MONTH_WEIGHTS)
_MONTH_W = list(_MONTH_WEIGHTS.values())


def checkup_window(today: date) -> tuple[date, date]:
    """(first, last) exam date visible on `today`: 5 years back; the last 60 days not yet uploaded."""
    return add_years(today, -YEARS_BACK), today - timedelta(days=UPLOAD_LAG_DAYS)


@dataclass(frozen=True)
class Rule:
    """A judgement rule: values at or over `guidance` (or under, for `low` rules) need guidance."""

    code: str
    name: str
    unit: str
    reference: str
    guidance: float | None = None
    referral: float | None = None
    low: bool = False


RULES = {r.code: r for r in [
    Rule("height", "身長", "cm", ""),
    Rule("weight", "体重", "kg", ""),
    Rule("bmi", "BMI", "kg/m2", "25.0未満", 25.0),
    Rule("waist", "腹囲", "cm", ""),  # sex-specific, see judge()
    Rule("sbp", "収縮期血圧", "mmHg", "130未満", 130, 140),
    Rule("dbp", "拡張期血圧", "mmHg", "85未満", 85, 90),
    Rule("fpg", "空腹時血糖", "mg/dL", "100未満", 100, 126),
    Rule("hba1c", "HbA1c（NGSP）", "%", "5.6未満", 5.6, 6.5),
    Rule("tg", "中性脂肪（空腹時）", "mg/dL", "150未満", 150, 300),
    Rule("hdl", "HDLコレステロール", "mg/dL", "40以上", 40, 35, low=True),
    Rule("ldl", "LDLコレステロール", "mg/dL", "120未満", 120, 140),
    Rule("ast", "AST（GOT）", "U/L", "31未満", 31, 51),
    Rule("alt", "ALT（GPT）", "U/L", "31未満", 31, 51),
    Rule("ggt", "γ-GT（γ-GTP）", "U/L", "51未満", 51, 101),
    Rule("creatinine", "血清クレアチニン", "mg/dL", ""),  # sex-specific, see judge()
    Rule("egfr", "eGFR", "mL/分/1.73m2", "60以上", 60, 45, low=True),
    Rule("urine_protein", "尿蛋白", "", "（−）"),
    Rule("urine_glucose", "尿糖", "", "（−）"),
]}

_URINE_STEPS = ["（−）", "（±）", "（＋）", "（2＋）", "（3＋）", "（4＋）"]


def judge(code: str, value, sex: str) -> CheckupValue:
    """One value with its reference range and judgement (sex matters for waist and creatinine)."""
    rule = RULES[code]
    reference, judgement, flag = rule.reference, "", ""
    if code == "waist":
        limit = 85.0 if sex == "1" else 90.0
        reference = f"{limit:.0f}未満"
        if value >= limit:
            judgement, flag = "保健指導判定値", "H"
    elif code == "creatinine":
        low, high = (0.65, 1.07) if sex == "1" else (0.46, 0.79)
        reference = f"{low:.2f}〜{high:.2f}"
        if value > high:
            judgement, flag = ("受診勧奨判定値" if value >= high + 0.3 else "保健指導判定値"), "H"
        elif value < low:
            flag = "L"
    elif code in ("urine_protein", "urine_glucose"):
        step = _URINE_STEPS.index(value)
        if code == "urine_protein" and step == 1:
            judgement, flag = "保健指導判定値", "H"
        elif step >= 2:
            judgement, flag = "受診勧奨判定値", "H"
    elif rule.guidance is not None:
        if rule.low:
            if rule.referral is not None and value < rule.referral:
                judgement, flag = "受診勧奨判定値", "L"
            elif value < rule.guidance:
                judgement, flag = "保健指導判定値", "L"
        else:
            if rule.referral is not None and value >= rule.referral:
                judgement, flag = "受診勧奨判定値", "H"
            elif value >= rule.guidance:
                judgement, flag = "保健指導判定値", "H"
    return CheckupValue(code=code, name=rule.name, value=value, unit=rule.unit, reference=reference,
                        judgement=judgement, abnormal=bool(judgement), flag=flag)


def _egfr(creatinine: float, age: int, sex: str) -> float:
    """日本腎臓学会 estimate: 194 × Cr^-1.094 × age^-0.287 (× 0.739 for women)."""
    value = 194 * creatinine ** -1.094 * age ** -0.287
    return round(value * (0.739 if sex == "2" else 1.0), 1)


def _measure(rng: random.Random, facts: PersonFacts, profile: Profile, day: date, late: bool) -> CheckupRecord:
    sex = facts.sex
    male = sex == "1"
    age = age_on(facts.birth_date, day)
    has = {c.name: c for c in profile.active(day)}

    def on(name: str) -> tuple[bool, bool]:
        condition = has.get(name)
        return condition is not None, bool(condition and condition.treated)

    height = (171.5 if male else 158.0) - max(0, 1990 - facts.birth_date.year) * 0.08 + profile.height_z * 5.5
    drift = min(age, 65) - 40 - max(0, age - 70) * 0.5
    bmi = max(15.5, profile.bmi_base + drift * 0.04 + rng.gauss(0, 0.45))
    weight = bmi * (height / 100) ** 2
    bmi = weight / (height / 100) ** 2
    waist = bmi * (2.9 if male else 2.6) + (14 if male else 23) + rng.gauss(0, 2.5)

    hypertension, ht_treated = on("hypertension")
    sbp = 108 + (age - 40) * 0.55 + (bmi - 22) * 1.4 + profile.bp_offset + rng.gauss(0, 7)
    if hypertension:
        sbp += 20 - (13 if ht_treated else 0)
    dbp = sbp * 0.58 + 4 + rng.gauss(0, 4.5)

    diabetes, dm_treated = on("diabetes")
    hba1c = 5.35 + (age - 40) * 0.007 + (bmi - 22) * 0.03 + rng.gauss(0, 0.18)
    if diabetes:
        hba1c += max(0.4, rng.gauss(1.7, 0.6)) - (0.7 if dm_treated else 0)
    fpg = 90 + (hba1c - 5.4) * 32 + rng.gauss(0, 6)

    lipids, lipid_treated = on("dyslipidemia")
    ldl = 118 + profile.ldl_offset + (12 if (not male and age >= 52) else 0) + rng.gauss(0, 10)
    if lipids:
        ldl += 38 - (55 if lipid_treated else 0)
    hdl = (55 if male else 66) - (bmi - 22) * 1.3 + rng.gauss(0, 8)
    tg = math.exp(math.log(95 if male else 72) + (bmi - 22) * 0.05 + rng.gauss(0, 0.35)) * (1.3 if lipids else 1)

    liver = profile.liver_offset
    ast = 19 + max(0, bmi - 26) * 1.5 + liver * 4 + (6 if profile.drinker else 0) + rng.gauss(0, 3)
    alt = 17 + (bmi - 22) * 1.6 + liver * 6 + rng.gauss(0, 4)
    ggt = math.exp(math.log(30 if male else 18) + (0.7 if profile.drinker else 0) + liver * 0.2 + rng.gauss(0, 0.3))

    dialysis = "dialysis" in has
    if dialysis:
        creatinine = max(5.0, rng.gauss(8.5, 1.4))
    else:
        creatinine = (0.84 if male else 0.64) + max(0, age - 50) * 0.004 + rng.gauss(0, 0.09)
        if diabetes and age > 60:
            creatinine += 0.12
    creatinine = max(0.35, creatinine)

    # Urine protein: (±) in about 5%, (＋) or more in about 3%; more with diabetes or hypertension.
    roll = rng.random()
    extra = (0.06 if diabetes else 0) + (0.03 if hypertension else 0)
    if dialysis:
        protein_step = 4
    elif roll < 0.007 + extra * 0.3:
        protein_step = 3
    elif roll < 0.027 + extra * 0.7:
        protein_step = 2
    elif roll < 0.077 + extra:
        protein_step = 1
    else:
        protein_step = 0
    glucose_step = 0
    if diabetes and "empagliflozin10" in has["diabetes"].regimen and dm_treated:
        glucose_step = 5  # SGLT2 inhibitors spill glucose into urine by design
    elif hba1c >= 7.5:
        glucose_step = 2 if hba1c < 8.5 else 3

    values = {
        "height": round(height, 1), "weight": round(weight, 1), "bmi": round(bmi, 1), "waist": round(waist, 1),
        "sbp": int(round(sbp)), "dbp": int(round(dbp)), "fpg": int(round(fpg)), "hba1c": round(hba1c, 1),
        "tg": int(round(tg)), "hdl": int(round(max(22, hdl))), "ldl": int(round(max(45, ldl))),
        "ast": int(round(max(9, ast))), "alt": int(round(max(5, alt))), "ggt": int(round(max(8, ggt))),
        "creatinine": round(creatinine, 2), "egfr": _egfr(round(creatinine, 2), max(age, 18), sex),
        "urine_protein": _URINE_STEPS[protein_step], "urine_glucose": _URINE_STEPS[glucose_step],
    }
    if late:
        values.pop("waist")  # 後期高齢者健診 leaves the waist out
    items = tuple(judge(code, value, sex) for code, value in values.items())
    return CheckupRecord(
        examined_on=day,
        fiscal_year=fiscal_year(day),
        kind="後期高齢者健診" if late else "特定健診",
        institution=_institution(facts),
        age=age,
        metabolic_syndrome=_metabolic(values, male, treated={n for n, c in has.items() if c.treated}),
        items=items,
    )


def _institution(facts: PersonFacts) -> str:
    rng = rng_for(facts.seed, "checkup-site")
    return rng.choice([f"{facts.town}健診クリニック", f"{facts.town}内科クリニック", "総合健診センター",
                       f"{facts.city}医師会健診センター"])


def _metabolic(values: dict, male: bool, treated: set[str]) -> str:
    """メタボリックシンドローム判定 (waist plus lipid, blood pressure and glucose risks)."""
    if "waist" not in values:
        return "判定不能"
    if values["waist"] < (85 if male else 90):
        return "非該当"
    risks = 0
    if values["tg"] >= 150 or values["hdl"] < 40 or "dyslipidemia" in treated:
        risks += 1
    if values["sbp"] >= 130 or values["dbp"] >= 85 or "hypertension" in treated:
        risks += 1
    if values["fpg"] >= 110 or values["hba1c"] >= 6.0 or "diabetes" in treated:
        risks += 1
    return "基準該当" if risks >= 2 else "予備群該当" if risks == 1 else "非該当"


def checkup_history(facts: PersonFacts, *, today: date) -> list[CheckupRecord]:
    """The person's checkups visible on `today`, newest first."""
    start, end = checkup_window(today)
    profile = facts.profile()
    records = []
    for year in range(fiscal_year(start), fiscal_year(end) + 1):
        rng = rng_for(facts.seed, "checkup", year)
        month = rng.choices(_MONTHS, _MONTH_W)[0]
        day = date(year if month >= 4 else year + 1, month, 1) + timedelta(days=rng.randrange(28))
        attend = rng.random()
        if not start <= day <= end or day < facts.birth_date:
            continue
        # Eligibility is judged by the age reached within the fiscal year.
        age_at_year_end = age_on(facts.birth_date, date(year + 1, 3, 31))
        if age_at_year_end < 40:
            continue
        coverage = facts.covering(day)
        if coverage is None or attend >= _ATTENDANCE.get(coverage.kind, 0.0):
            continue
        late = coverage.kind == "koki"
        records.append(_measure(rng, facts, profile, day, late))
    records.sort(key=lambda r: r.examined_on, reverse=True)
    return records
