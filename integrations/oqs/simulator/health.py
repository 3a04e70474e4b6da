"""A person's health profile, derived from the person's seed, sex and birth date alone.

Every chronic condition has an onset age (or none); it is active on any day the person is at
least that old, so the profile does not depend on the day it is read and drug histories,
checkup values and certificates agree with each other (a diabetic's HbA1c is high and so is
the metformin count; an SGLT2 inhibitor shows as urine glucose).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from integrations.oqs.simulator.ages import anniversary
from integrations.oqs.simulator.seeding import rng_for

# condition: (lifetime probability male, female, onset age mean, sd, earliest onset)
_CHRONIC = {
    "hypertension": (0.62, 0.58, 57, 11, 30),
    "dyslipidemia": (0.40, 0.48, 55, 10, 30),
    "diabetes": (0.27, 0.16, 58, 10, 30),
    "gerd": (0.25, 0.25, 55, 15, 20),
    "insomnia": (0.18, 0.24, 65, 12, 25),
    "osteoporosis": (0.08, 0.45, 70, 7, 50),
    "hyperuricemia": (0.25, 0.03, 50, 12, 25),
    "bph": (0.35, 0.0, 68, 8, 50),
    "afib": (0.10, 0.06, 75, 8, 50),
    "constipation": (0.18, 0.28, 72, 10, 40),
    "knee_pain": (0.28, 0.40, 68, 10, 45),
    "asthma": (0.06, 0.06, 8, 15, 2),
}

# Treatment choices per condition (each person gets one, for life).
REGIMENS = {
    "hypertension": [["amlodipine5g"], ["amlodipine5"], ["losartan50"], ["candesartan8"], ["telmisartan40"],
                     ["amlodipine25", "telmisartan40"]],
    "dyslipidemia": [["rosuvastatin25"], ["atorvastatin10"], ["rosuvastatin25", "ezetimibe10"]],
    "diabetes": [["metformin250"], ["metformin250", "sitagliptin50"], ["sitagliptin50"],
                 ["glimepiride1", "metformin250"], ["empagliflozin10", "metformin250"]],
    "gerd": [["lansoprazole15"], ["vonoprazan10"], ["famotidine20"], ["lansoprazole15", "rebamipide100"]],
    "insomnia": [["zolpidem5"], ["brotizolam025"]],
    "osteoporosis": [["alendronate35", "eldecalcitol075"], ["eldecalcitol075"]],
    "hyperuricemia": [["febuxostat20"], ["allopurinol100"]],
    "bph": [["tamsulosin02"]],
    "afib": [["apixaban5", "bisoprolol25"], ["warfarin1", "bisoprolol25"]],
    "constipation": [["magnesium330"], ["magnesium330", "sennoside12"]],
    "knee_pain": [["loxoprofen_tape"], ["loxoprofen_tape", "celecoxib100"]],
    "asthma": [["montelukast10", "budesonide_formoterol"]],
    "dialysis": [["lanthanum250", "cinacalcet25"]],
}

SPECIFIC_DISEASE_TRAITS = {"dialysis": "1", "hemophilia": "2", "hiv": "3"}

DISEASE_NAMES = {
    "hypertension": "高血圧症", "dyslipidemia": "脂質異常症", "diabetes": "２型糖尿病", "gerd": "逆流性食道炎",
    "insomnia": "不眠症", "osteoporosis": "骨粗鬆症", "hyperuricemia": "高尿酸血症", "bph": "前立腺肥大症",
    "afib": "心房細動", "constipation": "慢性便秘症", "knee_pain": "変形性膝関節症", "asthma": "気管支喘息",
    "dialysis": "慢性腎不全",
}


@dataclass(frozen=True)
class Condition:
    name: str
    onset: date
    treated: bool
    regimen: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    conditions: tuple[Condition, ...]
    pollen_allergy: bool
    eczema: bool
    drinker: bool
    # Baselines for checkups: deviations from the population mean.
    height_z: float
    bmi_base: float
    bp_offset: float
    ldl_offset: float
    liver_offset: float

    def active(self, day: date) -> list[Condition]:
        return [c for c in self.conditions if c.onset <= day]

    def has(self, name: str, day: date) -> Condition | None:
        for condition in self.conditions:
            if condition.name == name and condition.onset <= day:
                return condition
        return None


def profile_for(seed: int, sex: str, birth: date, traits: str = "") -> Profile:
    rng = rng_for(seed, "profile")
    male = sex == "1"
    conditions = []
    for name, (p_male, p_female, mean, sd, earliest) in _CHRONIC.items():
        roll = rng.random()
        onset_age = max(earliest, int(rng.gauss(mean, sd)))
        pick = rng.random()
        treated_roll = rng.random()
        if roll < (p_male if male else p_female) and onset_age <= 105:
            regimen = REGIMENS[name][int(pick * len(REGIMENS[name]))]
            onset = anniversary(birth, onset_age)
            onset = date.fromordinal(onset.toordinal() + int(pick * 300))
            conditions.append(Condition(name, onset, treated_roll < 0.85, tuple(regimen)))
    trait_set = {t for t in traits.split(",") if t}
    if "dialysis" in trait_set:
        onset = anniversary(birth, max(30, min(70, int(rng.gauss(55, 8)))))
        conditions.append(Condition("dialysis", onset, True, tuple(REGIMENS["dialysis"][0])))
    return Profile(
        conditions=tuple(conditions),
        pollen_allergy=rng.random() < 0.35,
        eczema=rng.random() < 0.08,
        drinker=rng.random() < (0.35 if male else 0.12),
        height_z=rng.gauss(0, 1),
        bmi_base=rng.gauss(23.8 if male else 22.0, 3.0 if male else 3.3),
        bp_offset=rng.gauss(0, 8),
        ldl_offset=rng.gauss(0, 25),
        liver_offset=rng.gauss(0, 1),
    )


def sample_traits(rng, *, age: int, sex: str) -> str:
    """Rare traits the insurer's certificates depend on (特定疾病: dialysis, hemophilia, HIV)."""
    traits = []
    if age >= 35 and rng.random() < 0.004:
        traits.append("dialysis")
    if sex == "1" and rng.random() < 0.0002:
        traits.append("hemophilia")
    if sex == "1" and age >= 35 and rng.random() < 0.00005:
        traits.append("hiv")
    return ",".join(traits)
