"""Planning synthetic people and their qualification histories (before anything is stored).

A plan is plain data; `generator.py` writes plans in bulk and `simulator.create_person` one
at a time. Households share an address, a surname and (for employee insurance and 国保) the
insurance symbol and number, told apart by the branch number (枝番) — so an inquiry without
the branch can match a whole family, as it can in the real system.

Scenarios ("status") give every validity code a natural cause:

- active: qualifications in force (validity 1); a past job change may precede them (喪失事由 03);
- lost: the last qualification was lost with no new one (2; 99 その他, or 01 死亡 for a death);
- changing: lost (03) a few days ago, the new insurer's qualification starts soon (3);
- overlap: a new qualification started while the old one is not yet registered as lost (5);
- future: the only qualification starts in the future (4 by card);
- welfare: 国保 lost with 02 生活保護受給開始, then medical aid (A1): 1 at entrusted
  institutions, 6 有効（未登録） elsewhere.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from integrations.oqs.simulator import insurers as ins
from integrations.oqs.simulator.ages import add_years, age_on, anniversary, late_elderly_from, turns
from integrations.oqs.codes import MEDICAL_AID_CARD, SHORT_TERM_ABOLISHED_ON, SHORT_TERM_CARD
from integrations.oqs.simulator.health import sample_traits
from integrations.oqs.simulator.names import full_name, given_name, surname
from integrations.oqs.numbering import make_institution_code, make_insurer_number, with_check_digit
from integrations.oqs.simulator.places import Municipality, make_address, pick_municipality
from integrations.oqs.simulator.rows import PersonRow, QualRow

LATE_ELDERLY_SCHEME_START = date(2008, 4, 1)  # 後期高齢者医療制度 began on 1 April 2008


_RANKS = (1, 2, 3, 4, 5)  # ア イ ウ エ オ
_RANK_CUMULATIVE = {kind: list(accumulate(weights)) for kind, weights in {
    "kumiai": (3, 10, 45, 35, 7), "kyosai": (2, 8, 50, 35, 5), "kokuho": (2, 5, 25, 40, 28),
    "other": (2, 7, 38, 40, 13)}.items()}
_HEAD_AGES = {kind: (bands, list(accumulate(weights))) for kind, (bands, weights) in {
    "employee": (((22, 34), (35, 49), (50, 64), (65, 69)), (30, 33, 30, 7)),
    "kokuho": (((20, 39), (40, 59), (60, 74)), (25, 25, 50)),
    "welfare": (((25, 64), (65, 92)), (45, 55)),
}.items()}


@dataclass
class QualPlan(QualRow):
    def lose(self, day: date, reason: str) -> None:
        self.disqualification_date = day
        self.reason_of_loss = reason


@dataclass
class PersonPlan(PersonRow):
    quals: list[QualPlan] = field(default_factory=list)
    entrusted: list[str] = field(default_factory=list)


@dataclass
class Member:
    sex: str
    birth_date: date
    role: str  # head / spouse / child
    name: str = ""
    kana: str = ""


class KeyRegistry:
    """Keeps (insurer, symbol, number) unique within one generation run."""

    def __init__(self) -> None:
        self._used: set[tuple] = set()

    def claim(self, rng: random.Random, insurer: ins.Insurer) -> tuple[str | None, str]:
        for _ in range(50):
            symbol, number = ins.symbol_and_number(rng, insurer)
            key = (insurer.number, symbol, number)
            if key not in self._used:
                self._used.add(key)
                return symbol, number
        raise RuntimeError("could not find a free insurance number")

    def claim_recipient(self, rng: random.Random, payer: str) -> str:
        for _ in range(50):
            number = with_check_digit(f"{rng.randrange(100_000, 1_000_000)}")
            if (payer, number) not in self._used:
                self._used.add((payer, number))
                return number
        raise RuntimeError("could not find a free recipient number")


def days_before(day: date, low: int, high: int, rng: random.Random) -> date:
    return day - timedelta(days=rng.randint(low, high))


def birth_for_age(rng: random.Random, today: date, age: int) -> date:
    """A uniformly chosen birth date giving the legal age `age` on `today`."""
    tomorrow = today + timedelta(days=1)
    latest = add_years(tomorrow, -age)  # turns `age` today
    earliest = add_years(tomorrow, -(age + 1)) + timedelta(days=1)
    for _ in range(8):
        candidate = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
        if candidate <= today and age_on(candidate, today) == age:
            return candidate
    return latest


def boundary_birth(rng: random.Random, today: date) -> date:
    """Someone within days of a copay boundary: the preschool March, 70 or 75."""
    which = rng.choice(["preschool", "seventy", "seventy_first", "seventy_five"])
    offset = timedelta(days=rng.randint(-20, 20))
    if which == "preschool":
        # Turning 6 around the end of this school year: born around 1 April six years before.
        year = today.year - 6 if today.month >= 4 else today.year - 7
        return date(year + 1, 4, 1) + offset if rng.random() < 0.5 else date(year, 4, 2) + offset
    if which == "seventy":
        return date(today.year - 70, today.month, 1) + offset
    if which == "seventy_first":
        month_start = date(today.year - 70, today.month, 1)
        return month_start if rng.random() < 0.5 else month_start - timedelta(days=rng.randint(0, 3))
    return date(today.year - 75, today.month, min(today.day, 28)) + offset


def _end_old(people: list[PersonPlan], old: list[QualPlan], day: date, reason: str) -> None:
    """End the household's old insurance on `day` for `reason` (`old[i]` is `people[i]`'s); a member
    whose share would only start by then (born later, say) never had it."""
    for person, qual in zip(people, old):
        if qual.qualification_date < day:
            qual.lose(day, reason)
        else:
            person.quals.remove(qual)


class Planner:
    """Builds households for one `today`; ids come from `new_id`, randomness from the caller."""

    def __init__(self, *, today: date, origin: str, keys: KeyRegistry | None = None) -> None:
        self.today = today
        self.origin = origin
        self.keys = keys or KeyRegistry()

    # -- people ---------------------------------------------------------------------------

    def _person(self, rng: random.Random, member: Member, *, pid: str, seed: int, home, income) -> PersonPlan:
        postcode, address, town, municipality = home
        return PersonPlan(
            id=pid, seed=seed, name=member.name, kana=member.kana, sex=member.sex,
            birth_date=member.birth_date, postcode=postcode, address=address, city=municipality.city,
            town=town, income_rank=income[0], income_flag=income[1],
            traits=sample_traits(rng, age=age_on(member.birth_date, self.today), sex=member.sex),
            origin=self.origin, created_on=self.today,
        )

    def _name(self, rng: random.Random, member: Member, family: tuple[str, str]) -> None:
        member.name, member.kana = full_name(family, given_name(rng, sex=member.sex,
                                                                 birth_year=member.birth_date.year))

    def _income(self, rng: random.Random, *, head_age: int, kind: str) -> tuple[int, int]:
        if head_age >= 70 or kind == "koki":
            roll = rng.random()
            rank = 1 if roll < 0.01 else 2 if roll < 0.03 else 3 if roll < 0.07 else 4 if roll < 0.67 else 5
            flag = 0
            if rank == 4 and rng.random() < 0.3:
                flag = 1  # 後期 一般Ⅱ
            elif rank == 5:
                roll = rng.random()
                flag = 3 if roll < 0.005 else 2 if roll < 0.015 else 1 if roll < 0.365 else 0
            return rank, flag
        rank = rng.choices(_RANKS, cum_weights=_RANK_CUMULATIVE.get(kind, _RANK_CUMULATIVE["other"]))[0]
        flag = 2 if rank == 5 and rng.random() < 0.01 else 0
        return rank, flag

    def home(self, rng: random.Random, municipality: Municipality | None = None):
        municipality = municipality or pick_municipality(rng)
        postcode, address, town = make_address(rng, municipality)
        return postcode, address, town, municipality

    # -- households -----------------------------------------------------------------------

    def members(self, rng: random.Random, kind: str, *, head_age: int | None = None,
                head_birth: date | None = None, single: bool = False) -> list[Member]:
        today = self.today
        if head_birth is None:
            head_birth = birth_for_age(rng, today, head_age)
        head_age = age_on(head_birth, today)
        members = [Member(rng.choice("12"), head_birth, "head")]
        if single:
            return members
        if kind in ("employee", "kokuho", "tokurei") and head_age >= 27 and rng.random() < 0.62:
            # Spouses stay under 75 (at 75 they would be in 後期高齢者医療 on their own).
            spouse_age = max(20, min(head_age + rng.randint(-6, 4), 74))
            members.append(Member("2" if members[0].sex == "1" else "1", birth_for_age(rng, today, spouse_age),
                                  "spouse"))
        if kind in ("employee", "kokuho") and 26 <= head_age <= 58:
            children = rng.choices((0, 1, 2, 3), cum_weights=(30, 55, 90, 100))[0]
            oldest = min(head_age - 24, 22)
            for _ in range(children):
                members.append(Member(rng.choice("12"), birth_for_age(rng, today, rng.randint(0, oldest)), "child"))
        return members

    def household(self, rng: random.Random, kind: str, status: str, *, new_ids, members: list[Member] | None = None,
                  municipality: Municipality | None = None, entrust_to: list[str] | None = None,
                  default_entrusted: bool = True, insured: bool = False) -> list[PersonPlan]:
        """Plan one household of `kind` (employee, kokuho, koki, welfare, tokurei) under `status`;
        `insured` welfare households keep their employee insurance beside the medical aid (併用)."""
        today = self.today
        if members is None:
            members = self.members(rng, kind, head_age=self._head_age(rng, kind))
        home = self.home(rng, municipality)
        family = surname(rng)
        for member in members:
            if not member.name:  # demo people come with their names
                self._name(rng, member, family)
        head = members[0]
        income = self._income(rng, head_age=age_on(head.birth_date, today), kind=kind)
        if kind == "welfare":
            income = (5, 0)
        people = []
        for member in members:
            pid, seed = new_ids()
            people.append(self._person(rng, member, pid=pid, seed=seed, home=home, income=income))
        municipality = home[3]
        if kind == "employee":
            self._employee(rng, people, members, status, municipality)
        elif kind == "tokurei":
            self._retiree(rng, people, members, status)
        elif kind == "kokuho":
            self._kokuho(rng, people, members, status, municipality)
        elif kind == "koki":
            for person in people:
                self._late_elderly(rng, person, status, municipality)
        elif kind == "welfare":
            if insured:
                self._employee(rng, people, members, "active", municipality)
            self._welfare(rng, people, status, municipality, entrust_to=entrust_to,
                          default_entrusted=default_entrusted, insured=insured)
        else:
            raise ValueError(f"unknown household kind {kind!r}")
        if status == "active" and kind in ("employee", "kokuho", "tokurei"):
            for person in people:
                self._pre_register_late_elderly(rng, person, municipality)
        return people

    def _pre_register_late_elderly(self, rng, person: PersonPlan, municipality: Municipality) -> None:
        """Insurers register the move to 後期高齢者医療 ahead of the 75th birthday."""
        start = late_elderly_from(person.birth_date)
        if not self.today < start <= self.today + timedelta(days=60):
            return
        open_quals = [q for q in person.quals if q.disqualification_date is None]
        if not open_quals:
            return
        for qual in open_quals:
            qual.lose(start, "03")
        insurer = ins.late_elderly(municipality.prefecture)
        symbol, number = self.keys.claim(rng, insurer)
        person.quals.append(self._qual(insurer, symbol=symbol, number=number, branch=None, relationship="1",
                                       insured_name=person.name, start=start))

    def _head_age(self, rng: random.Random, kind: str) -> int:
        if kind in _HEAD_AGES:
            bands, cumulative = _HEAD_AGES[kind]
            low, high = rng.choices(bands, cum_weights=cumulative)[0]
            return rng.randint(low, high)
        if kind == "koki":
            return 75 + min(30, int(abs(rng.gauss(0, 8))))
        if kind == "tokurei":
            return rng.randint(60, 74)
        raise ValueError(kind)

    # -- insurance timelines --------------------------------------------------------------

    def _qual(self, insurer: ins.Insurer, *, symbol, number, branch, relationship, insured_name, start,
              card=None) -> QualPlan:
        return QualPlan(
            kind=insurer.kind, card_classification=card or insurer.card_classification,
            insurer_number=insurer.number, insurer_name=insurer.name, symbol=symbol, number=number,
            branch=branch, relationship_code=relationship, insured_name=insured_name, qualification_date=start,
            disqualification_date=None, reason_of_loss=None, public_payer_number=None, recipient_number=None,
            welfare_office=None,
        )

    def _family_quals(self, rng, people, members, insurer, start_of_head: date, *, card=None,
                      all_principal: bool = False) -> list[QualPlan]:
        """One qualification per member sharing symbol and number; branch 00 for the head."""
        symbol, number = self.keys.claim(rng, insurer)
        head_name = people[0].name
        quals = []
        for index, (person, member) in enumerate(zip(people, members)):
            start = max(start_of_head, member.birth_date)
            if member.role == "spouse":
                start = max(start_of_head, anniversary(member.birth_date, 20))
            relationship = "1" if (member.role == "head" or all_principal) else "2"
            qual = self._qual(insurer, symbol=symbol, number=number, branch=f"{index:02d}",
                              relationship=relationship, insured_name=head_name, start=start, card=card)
            person.quals.append(qual)
            quals.append(qual)
        return quals

    def _employment_start(self, rng, head: Member, *, earliest: date | None = None) -> date:
        today = self.today
        low = max(anniversary(head.birth_date, 22), today - timedelta(days=365 * 25), earliest or date.min)
        high = today - timedelta(days=30)
        if high <= low:
            return low if low <= today else today
        return low + timedelta(days=rng.randrange((high - low).days + 1))

    def _apply_status(self, rng, people, members, status, current: list[QualPlan], municipality: Municipality,
                      new_insurer_kind: str) -> None:
        """Turn the household's current qualifications into the scenario's shape."""
        today = self.today
        if status in ("lost", "changing") and max(q.qualification_date for q in current) >= today:
            # Begun today (or later), it cannot be lost by today: let it begin a little earlier
            # (never before anyone in the household was born).
            born = max(p.birth_date for p in people)
            for qual in current:
                if qual.qualification_date >= today:
                    qual.qualification_date = max(born, today - timedelta(days=rng.randint(1, 60)))
        if status == "lost":
            day = days_before(today, 1, 300, rng)
            day = max(day, max(q.qualification_date for q in current) + timedelta(days=1))
            for qual in current:
                qual.lose(day, "99")
        elif status == "changing":
            lost = days_before(today, 0, 20, rng)
            lost = max(lost, max(q.qualification_date for q in current) + timedelta(days=1))
            starts = max(today + timedelta(days=rng.randint(1, 25)), lost + timedelta(days=1))
            for qual in current:
                qual.lose(lost, "03")
            new = self._new_insurer(rng, people[0], municipality, new_insurer_kind)
            self._family_quals(rng, people, members, new, starts, all_principal=new.kind == "kokuho")
        elif status == "overlap":
            started = days_before(today, 5, 60, rng)
            new = self._new_insurer(rng, people[0], municipality, new_insurer_kind)
            self._family_quals(rng, people, members, new, started, all_principal=new.kind == "kokuho")
        elif status == "future":
            starts = today + timedelta(days=rng.randint(1, 30))
            for qual in current:
                qual.qualification_date = max(starts, qual.qualification_date)

    def _new_insurer(self, rng, head: PersonPlan, municipality: Municipality, kind: str) -> ins.Insurer:
        if kind == "koki":
            other = rng.choice([p for p in (13, 14, 11, 12, 27) if p != municipality.prefecture])
            return ins.late_elderly(other)
        if kind == "kokuho":
            return ins.national_health(municipality)
        return ins.employer_insurer(rng, prefecture=municipality.prefecture)

    def _employee(self, rng, people, members, status, municipality: Municipality) -> None:
        today = self.today
        head = members[0]
        pref = municipality.prefecture
        if pref in (11, 12, 14) and rng.random() < 0.4:
            pref = 13  # commuters into Tokyo work for Tokyo employers
        insurer = ins.employer_insurer(rng, prefecture=pref)
        start = self._employment_start(rng, head)
        if status == "future":
            start = today + timedelta(days=rng.randint(1, 30))
        if status == "active" and rng.random() < 0.18 and start > anniversary(head.birth_date, 24):
            # A job change in the past: the old employer's qualification ended the day the new began.
            previous = ins.employer_insurer(rng, prefecture=pref)
            if previous.number != insurer.number:
                earlier = self._employment_start(rng, head)
                earlier = min(earlier, start - timedelta(days=200))
                if earlier >= anniversary(head.birth_date, 18):
                    old = self._family_quals(rng, people, members, previous, earlier)
                    _end_old(people, old, start, "03")
        current = self._family_quals(rng, people, members, insurer, start)
        self._apply_status(rng, people, members, status, current, municipality, "employee")

    def _retiree(self, rng, people, members, status) -> None:
        head = members[0]
        society = rng.choice(ins.RETIREE_SOCIETIES)
        regular = next(s for s in ins.SOCIETIES if s.number[2:7] == society.number[2:7])
        retired = anniversary(head.birth_date, 60)
        hired = max(anniversary(head.birth_date, 22), retired - timedelta(days=365 * 30))
        old = self._family_quals(rng, people, members, regular, hired)
        _end_old(people, old, retired, "03")
        current = self._family_quals(rng, people, members, society, retired, card="06")
        if status == "lost":
            self._apply_status(rng, people, members, "lost", current, None, "kokuho")  # type: ignore[arg-type]

    def _kokuho(self, rng, people, members, status, municipality: Municipality) -> None:
        today = self.today
        head = members[0]
        insurer = ins.national_health(municipality)
        if rng.random() < 0.05:
            insurer = rng.choice(ins.NHI_SOCIETIES)
        head_age = age_on(head.birth_date, today)
        card = "01"
        roll = rng.random()
        if roll < 0.01:
            # 短期被保険者証 (arrears) - abolished with the reform: from 2 December 2024 such a
            # member holds the ordinary qualification (the same roll, so earlier dates plan as before).
            card = SHORT_TERM_CARD if today < SHORT_TERM_ABOLISHED_ON else "01"
        elif roll < 0.013:
            card = "05"  # 特別療養費支給対象者 (被保険者資格証明書 before the reform)
        if status != "future" and head_age >= 61 and rng.random() < 0.7:
            # Retired at 60 or 65 from employee insurance (退職: その他) into 国保.
            retired = anniversary(head.birth_date, rng.choice([60, 65]))
            if retired > today:
                retired = anniversary(head.birth_date, 60)
            employer = ins.employer_insurer(rng, prefecture=municipality.prefecture)
            hired = max(anniversary(head.birth_date, 22), retired - timedelta(days=365 * 30))
            old = self._family_quals(rng, people, members, employer, hired)
            _end_old(people, old, retired, "99")
            start = retired
        else:
            # From the day one reaches 20 (the day before the birthday), as `age_on` counts ages.
            start = max(turns(head.birth_date, 20), today - timedelta(days=rng.randint(60, 365 * 20)))
        if status == "future":
            start = today + timedelta(days=rng.randint(1, 30))
        current = self._family_quals(rng, people, members, insurer, start, card=card, all_principal=True)
        self._apply_status(rng, people, members, status, current, municipality, "employee")

    def _late_elderly(self, rng, person: PersonPlan, status: str, municipality: Municipality) -> None:
        """75 and over: the previous insurance ends on the 75th birthday (03); 後期 starts that day."""
        today = self.today
        start = max(late_elderly_from(person.birth_date), LATE_ELDERLY_SCHEME_START)
        previous = (ins.national_health(municipality) if rng.random() < 0.7
                    else ins.employer_insurer(rng, prefecture=municipality.prefecture))
        before = max(anniversary(person.birth_date, 60), start - timedelta(days=365 * 15))
        if before < start:
            symbol, number = self.keys.claim(rng, previous)
            old = self._qual(previous, symbol=symbol, number=number, branch="00", relationship="1",
                             insured_name=person.name, start=before)
            old.lose(start, "03")
            person.quals.append(old)
        insurer = ins.late_elderly(municipality.prefecture)
        symbol, number = self.keys.claim(rng, insurer)
        qual = self._qual(insurer, symbol=symbol, number=number, branch=None, relationship="1",
                          insured_name=person.name, start=start)
        person.quals.append(qual)
        if status == "death":
            qual.lose(max(days_before(today, 1, 400, rng), start + timedelta(days=1)), "01")
        elif status in ("lost", "changing", "overlap", "future"):
            self._apply_status(rng, [person], [Member(person.sex, person.birth_date, "head")], status, [qual],
                               municipality, "koki")

    def _welfare(self, rng, people, status, municipality: Municipality, *, entrust_to, default_entrusted,
                 insured: bool = False) -> None:
        """生活保護: the previous insurance ends with 02 the day medical aid (A1) starts — except an
        employee insurance (`insured`), which stays in force beside it (併用)."""
        today = self.today
        started = today - timedelta(days=rng.randint(30, 365 * 12))
        started = max(started, max(p.birth_date for p in people))
        if insured:
            # On welfare while employed: the aid begins after the job's insurance did.
            started = max(started, max(q.qualification_date for p in people for q in p.quals) + timedelta(days=1))
            started = min(started, today)
        payer = make_insurer_number(law=12, prefecture=municipality.prefecture,
                                    serial=municipality.local_code % 1000)
        for person in people:
            begin = max(started, person.birth_date)
            if not insured and begin > person.birth_date + timedelta(days=365):
                scheme_75 = late_elderly_from(person.birth_date)
                previous = ins.late_elderly(municipality.prefecture) if begin >= scheme_75 else (
                    ins.national_health(municipality))
                symbol, number = self.keys.claim(rng, previous)
                old = self._qual(previous, symbol=symbol, number=number, branch=None if previous.kind == "koki"
                                 else "00", relationship="1", insured_name=person.name,
                                 start=max(person.birth_date, begin - timedelta(days=rng.randint(200, 365 * 10))))
                old.lose(begin, "02")
                person.quals.append(old)
            aid = QualPlan(
                kind="medical_aid", card_classification=MEDICAL_AID_CARD, insurer_number=None,
                insurer_name=municipality.welfare_office, symbol=None, number=None, branch=None,
                relationship_code=None, insured_name=None, qualification_date=begin,
                disqualification_date=None, reason_of_loss=None, public_payer_number=payer, recipient_number=self.keys.claim_recipient(rng, payer),
                welfare_office=municipality.welfare_office,
            )
            if status == "lost":
                aid.lose(max(days_before(today, 1, 200, rng), begin + timedelta(days=1)), "99")
            person.quals.append(aid)
            codes = list(entrust_to or [])
            if default_entrusted:
                # The welfare office entrusts a nearby clinic and pharmacy (synthetic codes).
                codes += [make_institution_code(prefecture=municipality.prefecture, table=table,
                                                serial=rng.randrange(100_000, 1_000_000)) for table in (1, 4)]
            person.entrusted = list(dict.fromkeys(codes))
