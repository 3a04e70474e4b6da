"""Drug histories (薬剤情報), derived on read from the person's seed.

Chronic prescriptions follow a fixed visit rhythm anchored on an absolute date, and acute
episodes are drawn per calendar month from (seed, month), so the record for a given day is
the same whichever day it is read on. A record exists only while some qualification covers
the day (claims need an insurer), and only once its claim has reached OQS: claims for a month
are filed by the 10th of the next month, so on the 11th the previous month becomes visible.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache

from integrations.oqs.simulator.ages import add_years, age_on
from integrations.oqs.simulator.drug_master import DRUGS, Drug
from integrations.oqs.simulator.facts import PersonFacts
from integrations.oqs.simulator.health import Profile
from integrations.oqs.simulator.names import SURNAMES
from integrations.oqs.claims import claims_visible_until  # noqa: F401 - re-exported: tests and scripts import it here
from integrations.oqs.results import DrugRecord
from integrations.oqs.simulator.seeding import derive, rng_for

YEARS_BACK = 3


def drug_window(today: date) -> tuple[date, date]:
    """(first, last) day of the drug history visible on `today`: 3 years back, claims lag at the end."""
    return add_years(today, -YEARS_BACK), claims_visible_until(today)


_PHARMACY_BRANDS = ["あおば", "すずらん", "ひまわり", "ことぶき", "つばさ", "ほほえみ", "みどり", "はなみずき",
                    "たんぽぽ", "わかくさ", "いちょう", "こもれび"]


def _place_short(city: str) -> str:
    """新宿 for 新宿区, 港北 for 横浜市港北区, 八王子 for 八王子市."""
    last = city[-1]
    body = city[:-1]
    if "市" in body and last == "区":
        body = body.split("市", 1)[1]
    return body


class _Providers:
    """The clinics and pharmacies a person uses, named after where the person lives."""

    def __init__(self, facts: PersonFacts) -> None:
        rng = rng_for(facts.seed, "providers")
        town, place = facts.town, _place_short(facts.city)
        doctor = rng.choice(SURNAMES)[0]
        self.home = rng.choice([f"{town}内科クリニック", f"{doctor}内科医院", f"{town}駅前クリニック",
                                f"{town}ファミリークリニック"])
        self.pediatric = rng.choice([f"{town}こどもクリニック", f"{rng.choice(SURNAMES)[0]}小児科医院"])
        self.ent = rng.choice([f"{town}耳鼻咽喉科", f"{rng.choice(SURNAMES)[0]}耳鼻咽喉科クリニック"])
        self.ortho = rng.choice([f"{town}整形外科", f"{rng.choice(SURNAMES)[0]}整形外科クリニック"])
        self.derm = rng.choice([f"{town}皮膚科クリニック", f"{rng.choice(SURNAMES)[0]}皮膚科"])
        self.hospital = rng.choice([f"{place}中央病院", f"{place}総合病院", f"{place}記念病院"])
        self.pharmacy = rng.choice([f"{rng.choice(_PHARMACY_BRANDS)}薬局 {town}店", f"{town}調剤薬局"])
        self.other_pharmacies = [f"{b}薬局 {place}店" for b in rng.sample(_PHARMACY_BRANDS, 3)]


def _record(drug: Drug, *, day: date, prescriber: str, dispenser: str | None, days: int | None,
            quantity: float | None = None, setting: str = "外来", dose: float | None = None) -> DrugRecord:
    per_time = drug.dose if dose is None else dose
    if quantity is None:
        if drug.kind == "内服":
            quantity = per_time * drug.times_per_day * (days or 1)
        elif drug.kind == "頓服":
            quantity = per_time * (days or 1)
        else:
            quantity = per_time
    dose_text = f"1回{_num(per_time)}{drug.unit}" if drug.kind != "外用" else f"{_num(per_time)}{drug.unit}"
    return DrugRecord(
        treatment_month=f"{day.year:04d}{day.month:02d}",
        prescribed_on=day,
        dispensed_on=None if dispenser is None else day,
        prescriber=prescriber,
        dispenser=dispenser,
        setting=setting,
        dispensing="院内" if dispenser is None else "院外",
        drug_code=drug.code,
        drug_name=drug.name,
        ingredient=drug.ingredient,
        strength=drug.strength,
        dosage_form=drug.kind,
        usage=drug.usage,
        dose=dose_text,
        days=None if drug.kind == "外用" else days,
        quantity=round(quantity, 2),
        unit=drug.unit,
        category=drug.category,
    )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def chronic_rhythm(seed: int) -> tuple[int, int]:
    """(interval in days, anchor ordinal) of the person's regular visits for chronic prescriptions."""
    rng = rng_for(seed, "rhythm")
    interval = rng.choice([28, 28, 28, 30, 35, 42, 56, 84])
    return interval, date(2000, 1, 3).toordinal() + rng.randrange(interval)


def chronic_visit(seed: int, k: int) -> date:
    """The day of the person's k-th regular visit (a few days either side of the rhythm)."""
    interval, anchor = chronic_rhythm(seed)
    return date.fromordinal(anchor + k * interval + derive(seed, "visit", k) % 7 - 3)


def _chronic(facts: PersonFacts, profile: Profile, providers: _Providers, start: date, end: date) -> list[DrugRecord]:
    treated = [c for c in profile.conditions if c.treated]
    if not treated:
        return []
    interval, anchor = chronic_rhythm(facts.seed)
    first_k = max(0, (start.toordinal() - anchor) // interval - 1)
    last_k = (end.toordinal() - anchor) // interval + 1
    records: list[DrugRecord] = []
    for k in range(first_k, last_k + 1):
        day = chronic_visit(facts.seed, k)
        if not start <= day <= end or facts.covering(day) is None:
            continue
        for condition in treated:
            if condition.onset > day:
                continue
            prescriber = providers.hospital if condition.name in ("dialysis", "afib") else providers.home
            for key in condition.regimen:
                drug = DRUGS[key]
                if drug.kind == "外用":
                    records.append(_record(drug, day=day, prescriber=prescriber, dispenser=providers.pharmacy,
                                           days=None, quantity=max(1, interval // 14)))
                elif drug.usage.startswith("週1回"):
                    weeks = max(1, interval // 7)
                    records.append(_record(drug, day=day, prescriber=prescriber, dispenser=providers.pharmacy,
                                           days=weeks, quantity=weeks * drug.dose))
                else:
                    records.append(_record(drug, day=day, prescriber=prescriber, dispenser=providers.pharmacy,
                                           days=interval))
    if "hypnotic_elsewhere" in facts.traits.split(","):
        # A second hypnotic from another prescriber over the same days (the demo's 「重複」 example).
        records += [_record(DRUGS["zolpidem5"], day=r.prescribed_on, prescriber=providers.hospital,
                            dispenser=providers.pharmacy, days=r.days)
                    for r in records if r.drug_code == DRUGS["brotizolam025"].code]
    return records


def _episode(rng: random.Random, facts: PersonFacts, profile: Profile, providers: _Providers,
             day: date) -> list[DrugRecord]:
    age = age_on(facts.birth_date, day)
    month = day.month
    child = age < 15
    options = ["cold", "cold", "bronchitis", "gastro"]
    if month in (12, 1, 2, 3):
        options += ["influenza", "cold"]
    if profile.pollen_allergy and month in (2, 3, 4) and 5 <= age <= 80:
        options += ["pollen"] * 4
    if age >= 30:
        options += ["back_pain"]
    if profile.eczema or child:
        options += ["dermatitis"]
    kind = rng.choice(options)
    pharmacy = providers.pharmacy if rng.random() < 0.7 else rng.choice(providers.other_pharmacies)
    doctor = providers.pediatric if child else providers.home
    out: list[DrugRecord] = []

    def add(key: str, days: int | None, prescriber: str = doctor, quantity: float | None = None,
            dose: float | None = None) -> None:
        out.append(_record(DRUGS[key], day=day, prescriber=prescriber, dispenser=pharmacy, days=days,
                           quantity=quantity, dose=dose))

    if kind == "cold":
        if child:
            weight_dose = round(min(0.9, 0.03 * max(age, 1) + 0.15), 1)
            add("carbocisteine_ds", 5, dose=weight_dose)
            add("tipepidine_powder", 5, dose=round(weight_dose * 0.6, 1))
            add("acetaminophen_fine", 5, dose=round(min(1.0, 0.05 * max(age, 1) + 0.2), 1))
        elif rng.random() < 0.25:
            add("kakkonto", 3)
        else:
            add("carbocisteine500", 5)
            add("tranexamic250", 5)
            add(rng.choice(["loxoprofen60_prn", "acetaminophen200"]), 5)
    elif kind == "influenza":
        if child:
            add("acetaminophen_fine", 5, dose=round(min(1.0, 0.05 * max(age, 1) + 0.2), 1))
        else:
            add("oseltamivir75", 5)
            add("acetaminophen200", 5)
    elif kind == "bronchitis":
        if child:
            add("amoxicillin_fine", 5, dose=round(min(1.5, 0.08 * max(age, 1) + 0.2), 1))
            add("carbocisteine_ds", 5, dose=round(min(0.9, 0.03 * max(age, 1) + 0.15), 1))
        else:
            add(rng.choice(["clarithromycin200", "cefcapene100", "amoxicillin250", "levofloxacin500"]), 5)
            add(rng.choice(["carbocisteine500", "ambroxol15"]), 5)
            if rng.random() < 0.4:
                add("dextromethorphan15", 5)
    elif kind == "gastro":
        add("biofermin_r", 5)
        if not child:
            add("domperidone10", 3)
    elif kind == "pollen":
        ent = providers.ent
        add(rng.choice(["fexofenadine60", "olopatadine5"]), 28, prescriber=ent)
        add("mometasone_nasal", None, prescriber=ent, quantity=1)
        if rng.random() < 0.6:
            add("olopatadine_eye", None, prescriber=ent, quantity=2)
    elif kind == "back_pain":
        ortho = providers.ortho
        if rng.random() < 0.5:
            add("loxoprofen60", 14, prescriber=ortho)
            add("rebamipide100", 14, prescriber=ortho)
        else:
            add("celecoxib100", 14, prescriber=ortho)
            add("eperisone50", 14, prescriber=ortho)
        add("loxoprofen_tape", None, prescriber=ortho, quantity=2)
    elif kind == "dermatitis":
        derm = providers.derm
        add("betamethasone_oint", None, prescriber=derm, quantity=rng.choice([1, 2]))
        add("heparinoid_cream", None, prescriber=derm, quantity=rng.choice([1, 2]))
    return out


def _acute(facts: PersonFacts, profile: Profile, providers: _Providers, start: date, end: date) -> list[DrugRecord]:
    records: list[DrugRecord] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        rng = rng_for(facts.seed, "acute", year, month)
        first = date(year, month, 1)
        day = first + timedelta(days=rng.randrange(28))
        if day >= facts.birth_date:
            age = age_on(facts.birth_date, day)
            chance = 0.30 if age < 6 else 0.18 if age < 15 else 0.09 if age < 65 else 0.11
            if month in (12, 1, 2):
                chance *= 1.5
            if profile.pollen_allergy and month in (2, 3):
                chance += 0.25
            if rng.random() < chance and start <= day <= end and facts.covering(day) is not None:
                records.extend(_episode(rng, facts, profile, providers, day))
            # A short hospital stay now and then for the elderly, dispensed in house.
            if age >= 70 and rng.random() < 0.004 and start <= day <= end and facts.covering(day):
                for key in ("loxoprofen60", "rebamipide100"):
                    records.append(_record(DRUGS[key], day=day, prescriber=providers.hospital, dispenser=None,
                                           days=7, setting="入院"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return records


def drug_history(facts: PersonFacts, *, today: date, from_ym: str | None = None,
                 to_ym: str | None = None) -> list[DrugRecord]:
    """The person's drug records visible on `today`, newest first, filtered by 診療年月."""
    records = _whole_history(facts, today)
    if from_ym is not None or to_ym is not None:
        return [r for r in records
                if (from_ym is None or r.treatment_month >= from_ym) and (to_ym is None or r.treatment_month <= to_ym)]
    return list(records)


# A memo, not shared state: the history is a pure function of the person's facts (seed, birth date,
# coverage...) and the day, so every worker computes the same tuple of frozen records. A pharmacist
# opening a patient, or a pharmacy system polling, reads the same history again and again.
@lru_cache(maxsize=512)
def _whole_history(facts: PersonFacts, today: date) -> tuple[DrugRecord, ...]:
    start, end = drug_window(today)
    if end < start or facts.birth_date > end:
        return ()
    start = max(start, facts.birth_date)
    providers = _Providers(facts)
    profile = facts.profile()
    records = _chronic(facts, profile, providers, start, end) + _acute(facts, profile, providers, start, end)
    records.sort(key=lambda r: (r.prescribed_on, r.prescriber, r.drug_code), reverse=True)
    return tuple(records)


def providers_of(facts: PersonFacts) -> _Providers:
    """The clinics, hospital and pharmacies the person uses (the same names as in their drug history)."""
    return _Providers(facts)


def dispensings(facts: PersonFacts, *, first: date, last: date) -> list[DrugRecord]:
    """Every prescription of the person between two days (both included), whether or not its claim
    has reached OQS yet: what e-prescription data (prescriptions.py) is drawn from."""
    first = max(first, facts.birth_date)
    if last < first:
        return []
    providers, profile = _Providers(facts), facts.profile()
    return _chronic(facts, profile, providers, first, last) + _acute(facts, profile, providers, first, last)
