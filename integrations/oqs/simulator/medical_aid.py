"""Medical aid (医療扶助): the 医療券・調剤券 a welfare office issues to the institutions it entrusted.

A ticket is derived, like the histories, from the person's seed, the institution and the month:
nothing about it is stored beyond the entrustment itself. So a ticket the welfare office
registers after the visit (an entrustment added later, docs/sources.md [004]) is there for every month the
medical aid was in force, which is what 委託先資格情報の一括取得 shows.
"""
from __future__ import annotations

from datetime import date, timedelta

from integrations.oqs import codes
from integrations.oqs.numbering import institution_table, make_institution_code
from integrations.oqs.results import MedicalTicket
from integrations.oqs.simulator.drug_history import _Providers
from integrations.oqs.simulator.facts import PersonFacts
from integrations.oqs.simulator.health import DISEASE_NAMES, profile_for
from integrations.oqs.simulator.names import full_name, given_name, surname
from integrations.oqs.simulator.seeding import derive, rng_for

ONE_DAY = timedelta(days=1)


def month_bounds(month: str) -> tuple[date, date]:
    """(first day, last day) of a YYYYMM month."""
    first = date(int(month[:4]), int(month[4:]), 1)
    following = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return first, following - ONE_DAY


def aid_period_in(qual, month: str) -> tuple[date, date] | None:
    """The days of `month` a medical-aid qualification is in force (None when it is not at all)."""
    first, last = month_bounds(month)
    valid_from = max(first, qual.qualification_date)
    valid_until = last if qual.disqualification_date is None else min(last, qual.disqualification_date - ONE_DAY)
    return (valid_from, valid_until) if valid_from <= valid_until else None


def insured_beside(quals, period: tuple[date, date]) -> bool:
    """Is a health insurance in force on some day of `period` beside the medical aid (併用)?"""
    start, end = period
    return any(q.kind != "medical_aid" and q.qualification_date <= end
               and (q.disqualification_date is None or q.disqualification_date > start) for q in quals)


def care_kind(institution_code: str) -> str:
    """診療別 of the ticket an institution receives: 04 調剤 for a pharmacy, 03 歯科, 05 訪問看護 for a
    visiting-nurse station (点数表番号 6), else 02 入院外."""
    return {4: "04", 3: "03", 6: "05"}.get(institution_table(institution_code), "02")


def _staff_name(rng) -> str:
    sex = rng.choice("12")
    return full_name(surname(rng), given_name(rng, sex=sex, birth_year=rng.randint(1965, 1998)))[0]


def _prescriber(person, institution_code: str, names: dict[str, str]) -> tuple[str, str]:
    """処方箋発行医療機関 of a 調剤券: the clinic the welfare office entrusted beside the pharmacy,
    else the person's usual clinic (the one their drug history names), with a synthetic code."""
    facts = PersonFacts(seed=person.seed, sex=person.sex, birth_date=person.birth_date, traits=person.traits,
                        city=person.city, town=person.town, coverage=())
    clinic_name = _Providers(facts).home
    for code in person.entrusted:
        if code != institution_code and institution_table(code) in (1, 3):
            return code, names.get(code) or clinic_name
    serial = derive(person.seed, "prescriber", institution_code) % 1_000_000
    return make_institution_code(prefecture=int(institution_code[:2]), table=1, serial=serial), clinic_name


def medical_ticket(person, qual, *, institution_code: str, institution_name: str, month: str,
                   names: dict[str, str] | None = None) -> MedicalTicket | None:
    """The 医療券 (医科・歯科) or 調剤券 (薬局) of `month` for an entrusted institution; None when the
    medical aid is not in force in that month. `names`: institution names the service knows."""
    period = aid_period_in(qual, month)
    if period is None:
        return None
    valid_from, valid_until = period
    dispensing = institution_table(institution_code) == 4
    ticket_type = codes.DISPENSING_TICKET if dispensing else codes.MEDICAL_TICKET
    combination = codes.AID_COMBINED if insured_beside(person.qualifications, period) else codes.AID_ALONE
    kind = care_kind(institution_code)
    # 指定医療機関確認フラグ: a ticket is only ever shown to the institution it names, so 0 一致 here.
    check = "0"
    profile = profile_for(person.seed, person.sex, person.birth_date, person.traits)
    diseases = tuple(DISEASE_NAMES[c.name] for c in profile.active(valid_until) if c.name in DISEASE_NAMES)[:3]
    issue = derive(person.seed, "ticket", institution_code, valid_from.replace(day=1).isoformat()) % 10_000_000
    prescriber_code = prescriber_name = None
    if dispensing:
        prescriber_code, prescriber_name = _prescriber(person, institution_code, names or {})
    staff = rng_for(person.seed, "ticket-staff", qual.welfare_office or "")
    officer, handler = _staff_name(staff), _staff_name(staff)
    remarks = ("医療保険併用" if combination == codes.AID_COMBINED else "", "", "")
    return MedicalTicket(
        ticket_type_code=ticket_type, ticket_type_text=codes.TICKET_TYPES[ticket_type], issue_number=f"{issue:07d}",
        treatment_month=month, care_kind=kind, care_kind_text=codes.TICKET_CARE_KINDS[kind],
        valid_from=valid_from, valid_until=valid_until,
        institution_code=institution_code, institution_name=institution_name,
        designated_institution_check=check, designated_institution_check_text=codes.DESIGNATED_INSTITUTION_CHECKS[check],
        combination_code=combination, combination_text=codes.AID_COMBINATIONS[combination],
        diseases=diseases or ("急性上気道炎",), self_pay_amount=0,
        prescribing_institution_code=prescriber_code, prescribing_institution_name=prescriber_name,
        district_officer=officer, handler=handler, remarks=remarks,
        ticket_type=codes.LEGACY_TICKET_TYPES[ticket_type], combination=codes.LEGACY_AID_COMBINATIONS[combination],
    )


def aid_in_month(quals, month: str):
    """The newest medical-aid qualification in force on some day of `month`, or None."""
    found = None
    for qual in sorted(quals, key=lambda q: q.qualification_date):
        if qual.kind == "medical_aid" and aid_period_in(qual, month) is not None:
            found = qual
    return found


def describe_day(period: tuple[date, date], today: date) -> date:
    """The day a bulk-fetched ticket's qualifications are described on: today, kept inside the ticket."""
    return min(max(today, period[0]), period[1])

