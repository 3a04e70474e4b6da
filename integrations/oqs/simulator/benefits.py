"""What a qualification entitles to on a given day: card period, copay, elderly recipient
certificate, limit class and specific-disease certificates (medical-aid tickets: medical_aid.py).

All are computed from the stored qualification and the person, for the `today` asked about,
so moving the sandbox clock moves them too (a child leaves 未就学 on the right 31 March).
"""
from __future__ import annotations

from datetime import date, timedelta

from integrations.oqs import codes
from integrations.oqs.simulator.ages import (
    copay_percent,
    elderly_from,
    is_preschool,
    late_elderly_from,
)
from integrations.oqs.simulator.health import SPECIFIC_DISEASE_TRAITS, profile_for
from integrations.oqs.results import ElderlyRecipient, LimitInfo, SpecificDiseaseCertificate
from integrations.oqs.simulator.seeding import derive

ONE_DAY = timedelta(days=1)


def in_force(qual, day: date) -> bool:
    return qual.qualification_date <= day and (qual.disqualification_date is None or day < qual.disqualification_date)


def effective_day(qual, today: date) -> date:
    """The day a qualification is described on: its last day once lost, its first if not started, else today."""
    if qual.disqualification_date is not None and today >= qual.disqualification_date:
        return max(qual.qualification_date, qual.disqualification_date - ONE_DAY)
    return max(today, qual.qualification_date)


def _cycle(day: date, month: int) -> tuple[date, date]:
    """The yearly certificate period starting on the 1st of `month` that contains `day`."""
    start_year = day.year if day.month >= month else day.year - 1
    start = date(start_year, month, 1)
    end = date(start_year + 1, month, 1) - ONE_DAY
    return start, end


def card_period(person, qual, today: date) -> tuple[date | None, date | None, date | None]:
    """(交付年月日, 有効開始年月日, 有効終了年月日) of the card valid on the day described."""
    if qual.kind == "medical_aid":
        return None, None, None
    day = effective_day(qual, today)
    last_day = qual.disqualification_date - ONE_DAY if qual.disqualification_date else None
    if qual.kind in ("kokuho", "koki") or qual.card_classification in ("03", "05"):
        if qual.card_classification == "03":  # 短期被保険者証: six-month cards
            start = date(day.year, 4 if 4 <= day.month < 10 else 10, 1)
            if day.month < 4:
                start = date(day.year - 1, 10, 1)
            end = (date(start.year, 10, 1) if start.month == 4 else date(start.year + 1, 4, 1)) - ONE_DAY
        else:
            # 国保 cards renew every 1 October, 後期高齢者 every 1 August.
            start, end = _cycle(day, 10 if qual.kind == "kokuho" else 8)
        valid_from = max(start, qual.qualification_date)
        valid_until = end
        if qual.kind == "kokuho":
            # A 国保 card ends the day before the 75th birthday (後期高齢者医療 starts then).
            valid_until = min(valid_until, late_elderly_from(person.birth_date) - ONE_DAY)
    else:
        valid_from, valid_until = qual.qualification_date, None
    if last_day is not None:
        valid_until = last_day if valid_until is None else min(valid_until, last_day)
    offset = derive(person.seed, "card", qual.insurer_number, valid_from.toordinal()) % 21
    if valid_from == qual.qualification_date:
        issued = valid_from + timedelta(days=offset % 10)  # new members get the card a few days later
    else:
        issued = valid_from - timedelta(days=10 + offset)  # renewals arrive before the period
    if issued > today >= valid_from:
        issued = today
    return issued, valid_from, valid_until


def copay_for(person, qual, today: date) -> tuple[int | None, bool]:
    """(copay percent, preschool) on the day described; (None, False) for medical aid."""
    if qual.kind == "medical_aid":
        return None, False
    day = effective_day(qual, today)
    if day < person.birth_date:
        day = person.birth_date
    percent = copay_percent(
        birth=person.birth_date, day=day, late_elderly_scheme=qual.kind == "koki",
        active_income=person.income_rank <= 3,
        late_elderly_general_2=person.income_rank == 4 and person.income_flag == 1,
    )
    return percent, is_preschool(person.birth_date, day)


def elderly_recipient(person, qual, today: date) -> ElderlyRecipient | None:
    """高齢受給者証 for 70-74 outside 後期高齢者医療 (periods run from 1 August)."""
    if qual.kind in ("koki", "medical_aid"):
        return None
    day = effective_day(qual, today)
    first = elderly_from(person.birth_date)
    last = late_elderly_from(person.birth_date) - ONE_DAY
    if not first <= day <= last:
        return None
    start, end = _cycle(day, 8)
    valid_from = max(start, first, qual.qualification_date)
    valid_until = min(end, last)
    if qual.disqualification_date is not None:
        valid_until = min(valid_until, qual.disqualification_date - ONE_DAY)
    issued = max(qual.qualification_date, valid_from - timedelta(days=14))
    percent = 30 if person.income_rank <= 3 else 20
    return ElderlyRecipient(issued_on=issued, valid_from=valid_from, valid_until=valid_until, copay_ratio=percent)


def limit_class(person, qual, day: date) -> str:
    """限度額適用認定証適用区分 from the household income bracket and age."""
    rank, flag = person.income_rank, person.income_flag
    late = qual.kind == "koki"
    if not late and day < elderly_from(person.birth_date):
        if rank == 5 and flag == 2:
            return "A06"
        return f"A0{rank}"
    if rank <= 3:
        return f"B0{rank}"
    if rank == 4:
        if late:
            return "B09" if flag == 1 else "B10"
        return "B04"
    return {3: "B07", 2: "B08", 1: "B06"}.get(flag, "B05")


def limit_info(person, qual, today: date) -> LimitInfo | None:
    """限度額適用認定証関連情報 of a qualification in force (none for medical aid)."""
    if qual.kind == "medical_aid" or not in_force(qual, today):
        return None
    code = limit_class(person, qual, today)
    start, end = _cycle(today, 8)  # 限度額 certificates run from 1 August to 31 July
    valid_from = max(start, qual.qualification_date)
    valid_until = end
    seventy = elderly_from(person.birth_date)
    if qual.kind != "koki":
        if today >= seventy:
            valid_from = max(valid_from, seventy)
        else:
            valid_until = min(valid_until, seventy - ONE_DAY)
        valid_until = min(valid_until, late_elderly_from(person.birth_date) - ONE_DAY)
    if qual.disqualification_date is not None:
        valid_until = min(valid_until, qual.disqualification_date - ONE_DAY)
    certificate = "02" if person.income_rank == 5 else "01"
    issued = max(qual.qualification_date, valid_from - timedelta(days=derive(person.seed, "limit") % 20))
    return LimitInfo(
        certificate=certificate, certificate_text=codes.LIMIT_CERTIFICATES[certificate],
        limit_class=code, limit_class_text=codes.LIMIT_CLASSES[code],
        issued_on=issued, valid_from=valid_from, valid_until=valid_until,
    )


def specific_disease_certificates(person, qual, today: date) -> list[SpecificDiseaseCertificate]:
    """特定疾病療養受療証 held on `today` (dialysis, hemophilia, HIV from blood products)."""
    if qual is None or qual.kind == "medical_aid" or not in_force(qual, today):
        return []
    traits = [t for t in person.traits.split(",") if t in SPECIFIC_DISEASE_TRAITS]
    if not traits:
        return []
    profile = profile_for(person.seed, person.sex, person.birth_date, person.traits)
    certificates = []
    for trait in traits:
        disease = SPECIFIC_DISEASE_TRAITS[trait]
        if trait == "dialysis":
            condition = profile.has("dialysis", today)
            if condition is None:
                continue
            since = condition.onset
        else:
            since = person.birth_date
        valid_from = max(since, qual.qualification_date)
        if valid_from > today:
            continue
        under_70 = qual.kind != "koki" and today < elderly_from(person.birth_date)
        # 人工透析 under 70 with 上位所得 (ア・イ) pays up to 20,000 yen a month; otherwise 10,000.
        self_pay = 20000 if trait == "dialysis" and under_70 and person.income_rank <= 2 else 10000
        certificates.append(SpecificDiseaseCertificate(
            disease=disease, disease_text=codes.SPECIFIC_DISEASES[disease],
            issued_on=valid_from, valid_from=valid_from, valid_until=None, self_pay_limit=self_pay,
        ))
    return certificates

