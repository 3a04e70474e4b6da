"""Clinical (診療・アレルギー・検査) and surgery (手術・傷病名・感染症) data, derived on read from the seed.

Everything follows from the person's health profile (integrations/oqs/simulator/health.py), the same one
the drug history is built from, so the two agree: a condition whose drugs appear in 薬剤情報 is
among the 傷病名 from its onset on, and a diabetic's labs always include HbA1c. Each item has an
absolute date that does not depend on the day it is read; reading on `today` shows what has
happened by then (nothing before birth, nothing in the future).
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from integrations.oqs.results import (
    ClinicalInfo, Diagnosis, DrugAllergy, Infection, LabResult, OtherAllergy, Procedure, SurgeryInfo,
)
from integrations.oqs.simulator.ages import age_on, anniversary
from integrations.oqs.simulator.drug_history import providers_of
from integrations.oqs.simulator.facts import PersonFacts
from integrations.oqs.simulator.health import DISEASE_NAMES, Profile
from integrations.oqs.simulator.seeding import derive, rng_for

LAB_DAYS_BACK = 365  # lab results of the last year
LAB_INTERVAL = 91  # people under treatment have a blood test about every three months
ADULT_LABS = 18  # the eGFR formula (and our panels) are for adults

ICD10 = {
    "hypertension": "I10", "dyslipidemia": "E78.5", "diabetes": "E11.9", "gerd": "K21.0", "insomnia": "G47.0",
    "osteoporosis": "M81.9", "hyperuricemia": "E79.0", "bph": "N40", "afib": "I48.9", "constipation": "K59.0",
    "knee_pain": "M17.9", "asthma": "J45.9", "dialysis": "N18.5",
}


# -- allergies ------------------------------------------------------------------------------

# Allergens none of the simulator's prescriptions contain (drug_master.py), so nobody is
# dispensed a drug they are recorded as allergic to.
_DRUG_ALLERGENS = [
    ("セファクロル", "セフェム系抗菌薬"), ("ミノサイクリン塩酸塩", "テトラサイクリン系抗菌薬"),
    ("ジクロフェナクナトリウム", "非ステロイド性抗炎症薬"), ("ヨード造影剤", "造影剤"),
    ("スルファメトキサゾール・トリメトプリム", "サルファ剤"), ("カルバマゼピン", "抗てんかん薬"),
]
_DRUG_REACTIONS = ["薬疹（全身の発疹）", "蕁麻疹", "アナフィラキシー", "喘息発作", "肝機能障害"]
_FOODS = [("卵", "蕁麻疹"), ("えび", "蕁麻疹・口唇の腫れ"), ("そば", "アナフィラキシー"), ("牛乳", "下痢・発疹"),
          ("小麦", "蕁麻疹")]


def _noted(facts: PersonFacts, tag: str, earliest_age: int) -> date:
    """A day after `earliest_age` when something was first recorded, fixed per person."""
    rng = rng_for(facts.seed, "noted", tag)
    start = anniversary(facts.birth_date, earliest_age)
    return start + timedelta(days=rng.randrange(40 * 365))


def _drug_allergies(facts: PersonFacts, today: date) -> list[DrugAllergy]:
    rng = rng_for(facts.seed, "drug_allergy")
    # The demo trait "drug_allergy" makes sure of one (demo.py); others have one in 8 %.
    if rng.random() >= 0.08 and "drug_allergy" not in facts.traits.split(","):
        return []
    drug, drug_class = rng.choice(_DRUG_ALLERGENS)
    noted = _noted(facts, "drug_allergy", 1)
    return [DrugAllergy(drug, drug_class, rng.choice(_DRUG_REACTIONS), noted)] if noted <= today else []


def _other_allergies(facts: PersonFacts, profile: Profile, today: date) -> list[OtherAllergy]:
    out = []
    rng = rng_for(facts.seed, "other_allergy")
    if rng.random() < 0.05:
        food, reaction = rng.choice(_FOODS)
        noted = facts.birth_date + timedelta(days=180 + rng.randrange(5 * 365))
        if noted <= today:
            out.append(OtherAllergy(food, "食物", reaction, noted))
    if profile.pollen_allergy:
        noted = _noted(facts, "pollen", 5)
        if noted <= today:
            out.append(OtherAllergy("スギ花粉", "環境", "くしゃみ・鼻汁・目のかゆみ", noted))
    return out


# -- labs -----------------------------------------------------------------------------------

# code: (name, unit, low, high) — female ranges where they differ are in _FEMALE.
_LAB_ITEMS = {
    "eGFR": ("eGFR", "mL/min/1.73m2", 60.0, None),
    "CRE": ("クレアチニン", "mg/dL", 0.65, 1.07),
    "HbA1c": ("HbA1c", "%", 4.9, 6.0),
    "AST": ("AST", "U/L", 13.0, 30.0),
    "ALT": ("ALT", "U/L", 10.0, 42.0),
    "K": ("カリウム", "mmol/L", 3.6, 4.8),
}
_FEMALE = {"CRE": (0.46, 0.79), "ALT": (7.0, 23.0)}


def _lab(facts: PersonFacts, day: date, code: str, value: float) -> LabResult:
    name, unit, low, high = _LAB_ITEMS[code]
    if facts.sex == "2" and code in _FEMALE:
        low, high = _FEMALE[code]
    flag = "H" if high is not None and value > high else "L" if low is not None and value < low else ""
    return LabResult(day, code, name, value, unit, low, high, flag)


def _egfr_base(facts: PersonFacts, profile: Profile, day: date) -> float:
    """Kidney function falls with age, faster with diabetes and hypertension; dialysis is end stage."""
    if profile.has("dialysis", day):
        return 5.0 + rng_for(facts.seed, "egfr").random() * 5
    age = age_on(facts.birth_date, day)
    value = 105 - 0.75 * max(0, age - 20) + rng_for(facts.seed, "egfr").gauss(0, 11)
    if profile.has("diabetes", day):
        value -= 8
    if profile.has("hypertension", day):
        value -= 5
    return max(15.0, value)


def _creatinine(egfr: float, age: int, sex: str) -> float:
    """The Japanese eGFR equation (日本腎臓学会) solved for serum creatinine."""
    factor = 194 * age ** -0.287 * (0.739 if sex == "2" else 1.0)
    return (egfr / factor) ** (-1 / 1.094)


def _panel(facts: PersonFacts, profile: Profile, day: date) -> list[LabResult]:
    rng = rng_for(facts.seed, "lab", day.toordinal())
    age = age_on(facts.birth_date, day)
    egfr = round(max(3.0, _egfr_base(facts, profile, day) + rng.gauss(0, 3)), 1)
    out = [_lab(facts, day, "eGFR", egfr),
           _lab(facts, day, "CRE", round(_creatinine(egfr, age, facts.sex), 2))]
    diabetic = profile.has("diabetes", day)
    if diabetic or rng.random() < 0.4:
        hba1c = 6.4 + abs(rng.gauss(0.6, 0.6)) if diabetic else 5.0 + rng.random() * 0.9
        out.append(_lab(facts, day, "HbA1c", round(hba1c, 1)))
    liver = profile.liver_offset + (1.0 if profile.drinker else 0.0)
    out.append(_lab(facts, day, "AST", float(max(8, round(22 + 6 * liver + rng.gauss(0, 3))))))
    out.append(_lab(facts, day, "ALT", float(max(5, round(20 + 9 * liver + rng.gauss(0, 4))))))
    potassium = 4.2 + rng.gauss(0, 0.25) + (0.6 if egfr < 30 else 0.25 if egfr < 60 else 0.0)
    out.append(_lab(facts, day, "K", round(potassium, 1)))
    return out


def _lab_days(facts: PersonFacts, profile: Profile, first: date, last: date) -> list[date]:
    """Every ~3 months while some condition is active, and on each condition's first day."""
    days = {c.onset for c in profile.conditions if first <= c.onset <= last}
    anchor = date(2000, 1, 10).toordinal() + derive(facts.seed, "lab_anchor") % LAB_INTERVAL
    k = (first.toordinal() - anchor) // LAB_INTERVAL
    while True:
        day = date.fromordinal(anchor + k * LAB_INTERVAL + derive(facts.seed, "lab_visit", k) % 7 - 3)
        k += 1
        if day > last:
            break
        if day >= first and profile.active(day):
            days.add(day)
    adult = anniversary(facts.birth_date, ADULT_LABS)
    return sorted((d for d in days if d >= adult), reverse=True)


# -- surgery --------------------------------------------------------------------------------

# (name, K code, earliest age, chance, mean age)
_PROCEDURES = [
    ("虫垂切除術", "K718", 8, 0.06, 25),
    ("腹腔鏡下胆嚢摘出術", "K672-2", 30, 0.05, 55),
    ("水晶体再建術（白内障）", "K282", 55, 0.25, 72),
    ("人工膝関節置換術", "K082", 60, 0.06, 74),
]
_INFECTIONS = [("B型肝炎（キャリア）", "B18.1", 0.01), ("C型肝炎", "B18.2", 0.005), ("梅毒", "A53.9", 0.002)]


def _procedures(facts: PersonFacts, profile: Profile, hospital: str, today: date) -> list[Procedure]:
    out = []
    for name, k_code, earliest, chance, mean in _PROCEDURES:
        rng = rng_for(facts.seed, "procedure", k_code)
        if rng.random() >= chance:
            continue
        day = anniversary(facts.birth_date, max(earliest, int(rng.gauss(mean, 8)))) + timedelta(days=rng.randrange(365))
        if day <= today:
            out.append(Procedure(name, k_code, day, hospital))
    dialysis = profile.has("dialysis", today)
    if dialysis is not None:
        out.append(Procedure("内シャント設置術", "K610-3", dialysis.onset - timedelta(days=30), hospital))
    return sorted(out, key=lambda p: p.performed_on, reverse=True)


def _infections(facts: PersonFacts, today: date) -> list[Infection]:
    out = []
    for name, icd10, chance in _INFECTIONS:
        rng = rng_for(facts.seed, "infection", icd10)
        if rng.random() < chance:
            found = _noted(facts, icd10, 16)
            if found <= today:
                out.append(Infection(name, icd10, found))
    return out


def _diagnoses(facts: PersonFacts, profile: Profile, today: date) -> list[Diagnosis]:
    out = [Diagnosis(DISEASE_NAMES[c.name], ICD10[c.name], c.onset, "継続") for c in profile.active(today)]
    pollen = next((a for a in _other_allergies(facts, profile, today) if a.allergen == "スギ花粉"), None)
    if pollen is not None:
        out.append(Diagnosis("スギ花粉症", "J30.1", pollen.noted_on, "継続"))
    return sorted(out, key=lambda d: (d.started_on, d.icd10), reverse=True)


# -- entry points ---------------------------------------------------------------------------

# Memos, not shared state: pure functions of the person's facts and the day (see drug_history.py).
@lru_cache(maxsize=512)
def clinical_info(facts: PersonFacts, *, today: date) -> ClinicalInfo:
    """Drug and other allergies known on `today`, and lab results of the last year (newest first)."""
    profile = facts.profile()
    first = max(facts.birth_date, today - timedelta(days=LAB_DAYS_BACK))
    labs: list[LabResult] = []
    if today - timedelta(days=1) >= first:
        for day in _lab_days(facts, profile, first, today - timedelta(days=1)):
            labs.extend(_panel(facts, profile, day))
    return ClinicalInfo(tuple(_drug_allergies(facts, today)), tuple(_other_allergies(facts, profile, today)),
                        tuple(labs))


@lru_cache(maxsize=512)
def surgery_info(facts: PersonFacts, *, today: date) -> SurgeryInfo:
    """傷病名 in treatment on `today`, operations and infections found by then."""
    profile = facts.profile()
    hospital = providers_of(facts).hospital
    return SurgeryInfo(tuple(_diagnoses(facts, profile, today)), tuple(_procedures(facts, profile, hospital, today)),
                       tuple(_infections(facts, today)))
