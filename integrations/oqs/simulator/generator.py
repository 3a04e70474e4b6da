"""The synthetic population: deterministic for (seed, today), written in bulk.

`generate_population(session, size=, seed=, today=)` plans households one after another, each
from its own (seed, household index) stream, and person ids from (seed, person index): the
first N people of a larger run are the N people of a smaller one, and running it twice adds
nothing the second time (existing ids are skipped).

Spread (people): about 58% employee insurance (協会けんぽ, 組合健保, 共済, 自衛官), 22% 国保
(6-digit numbers, a few 国保組合 and 特別療養費支給対象者; 短期証 only for dates before the reform of
2 December 2024), 16% 後期高齢者 (39…), 2% medical aid, 1% 特例退職; every validity code and reason of loss occurs, and a few percent of people are
born within days of the preschool, 70 and 75 boundaries. About one medical-aid household in six
is a working person who keeps employee insurance beside the aid (併用).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from integrations.oqs.simulator.ages import age_on, late_elderly_from
from integrations.oqs.simulator.models import OqsEntrustment, OqsPerson, OqsQualification
from integrations.oqs.simulator.planning import KeyRegistry, Member, PersonPlan, Planner, birth_for_age, boundary_birth
from integrations.oqs.simulator.seeding import derive, rng_for
from integrations.oqs.simulator.validity import decide_card

MAX_SIZE = 1_000_000

_KINDS = ["employee", "kokuho", "koki", "welfare", "tokurei"]
_KIND_CUMULATIVE = list(accumulate([45, 22, 29, 2.5, 0.9]))
_STATUSES = {
    kind: (statuses, list(accumulate(weights))) for kind, (statuses, weights) in {
        "employee": (["active", "lost", "changing", "overlap", "future"], [95.9, 2.2, 0.9, 0.6, 0.4]),
        "kokuho": (["active", "lost", "changing", "overlap", "future"], [96.5, 2.0, 0.8, 0.3, 0.4]),
        "koki": (["active", "death", "changing", "overlap", "lost"], [97.3, 2.0, 0.3, 0.2, 0.2]),
        "welfare": (["active", "lost"], [97.0, 3.0]),
        "tokurei": (["active", "lost"], [98.0, 2.0]),
    }.items()
}


@dataclass
class PopulationSummary:
    size: int
    inserted: int
    skipped: int
    households: int
    seconds: float
    by_kind: Counter = field(default_factory=Counter)
    by_validity: Counter = field(default_factory=Counter)
    by_reason_of_loss: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        from integrations.oqs.codes import INSURER_KINDS, REASONS_OF_LOSS, VALIDITY

        lines = [f"{self.size} people in {self.households} households: {self.inserted} added, "
                 f"{self.skipped} already there ({self.seconds:.1f} s)"]
        lines.append("  insurer kinds: " + ", ".join(f"{INSURER_KINDS[k]} {n}" for k, n in self.by_kind.most_common()))
        lines.append("  validity by card: " + ", ".join(
            f"{c} {VALIDITY[c]} {self.by_validity[c]}" for c in sorted(self.by_validity)))
        lines.append("  reasons of loss: " + ", ".join(
            f"{c} {REASONS_OF_LOSS[c]} {self.by_reason_of_loss[c]}" for c in sorted(self.by_reason_of_loss)))
        return "\n".join(lines)


def _id_source(seed: int, prefix: str = ""):
    counter = iter(range(MAX_SIZE * 2))

    def new_ids() -> tuple[str, int]:
        index = next(counter)
        return f"{prefix}{derive(seed, 'person-id', index):016x}", derive(seed, "person-seed", index)

    return new_ids


def _boundary_household(rng, planner: Planner, new_ids) -> list[PersonPlan]:
    """Someone born within days of the preschool, 70 or 75 boundary."""
    today = planner.today
    birth = boundary_birth(rng, today)
    if birth > today:
        birth = today
    age = age_on(birth, today)
    if age < 20:
        head = Member(rng.choice("12"), birth_for_age(rng, today, rng.randint(28, 42)), "head")
        return planner.household(rng, "employee", "active", new_ids=new_ids,
                                 members=[head, Member(rng.choice("12"), birth, "child")])
    kind = "koki" if age >= 75 else "kokuho"
    return planner.household(rng, kind, "active", new_ids=new_ids,
                             members=[Member(rng.choice("12"), birth, "head")])


def plan_population(*, size: int, seed: int, today: date, entrust_to: list[str] | None = None,
                    origin: str = "population") -> tuple[list[PersonPlan], int]:
    """(plans, number of households) for the first `size` people of population `seed`."""
    planner = Planner(today=today, origin=origin, keys=KeyRegistry())
    new_ids = _id_source(seed)
    plans: list[PersonPlan] = []
    households = 0
    while len(plans) < size:
        rng = rng_for(seed, "household", households)
        households += 1
        if rng.random() < 0.04:
            people = _boundary_household(rng, planner, new_ids)
        else:
            kind = rng.choices(_KINDS, cum_weights=_KIND_CUMULATIVE)[0]
            statuses, weights = _STATUSES[kind]
            status = rng.choices(statuses, cum_weights=weights)[0]
            single = kind == "welfare" and rng.random() < 0.75
            members = None
            insured = False
            if single:
                members = planner.members(rng, kind, head_age=planner._head_age(rng, kind), single=True)
                # Working recipients under 70 keep their employer's insurance (併用).
                insured = status == "active" and age_on(members[0].birth_date, today) < 70 and rng.random() < 0.25
            # Some welfare recipients are entrusted to the institutions named (e.g. the demo pharmacy).
            entrust = entrust_to if (kind == "welfare" and entrust_to and rng.random() < 0.5) else None
            people = planner.household(rng, kind, status, new_ids=new_ids, members=members, entrust_to=entrust,
                                       insured=insured)
        plans.extend(people)
    return plans[:size], households


def _rows(plans: list[PersonPlan]):
    people, quals, entrusted = [], [], []
    for plan in plans:
        people.append(dict(
            id=plan.id, seed=plan.seed, name=plan.name, kana=plan.kana, sex=plan.sex, birth_date=plan.birth_date,
            postcode=plan.postcode, address=plan.address, city=plan.city, town=plan.town,
            income_rank=plan.income_rank, income_flag=plan.income_flag, traits=plan.traits, origin=plan.origin,
            created_on=plan.created_on,
        ))
        for q in plan.quals:
            quals.append(dict(
                person_id=plan.id, kind=q.kind, card_classification=q.card_classification,
                insurer_number=q.insurer_number, insurer_name=q.insurer_name, symbol=q.symbol, number=q.number,
                branch=q.branch, relationship_code=q.relationship_code, insured_name=q.insured_name,
                qualification_date=q.qualification_date, disqualification_date=q.disqualification_date,
                reason_of_loss=q.reason_of_loss, public_payer_number=q.public_payer_number,
                recipient_number=q.recipient_number, welfare_office=q.welfare_office,
            ))
        for code in plan.entrusted:
            entrusted.append(dict(person_id=plan.id, institution_code=code))
    return people, quals, entrusted


def store_plans(session: Session, plans: list[PersonPlan], *, batch: int = 5000) -> None:
    """Insert planned people with their qualifications and entrustments (bulk, no commit)."""
    session.flush()
    # Core executemany on the session's connection: the ORM's per-row bookkeeping would
    # make 100,000 people take minutes instead of seconds.
    connection = session.connection()
    for start in range(0, len(plans), batch):
        people, quals, entrusted = _rows(plans[start:start + batch])
        if people:
            connection.execute(insert(OqsPerson.__table__), people)
        if quals:
            connection.execute(insert(OqsQualification.__table__), quals)
        if entrusted:
            connection.execute(insert(OqsEntrustment.__table__), entrusted)


def _existing_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        found.update(session.scalars(select(OqsPerson.id).where(OqsPerson.id.in_(chunk))))
    return found


def generate_population(session: Session, *, size: int, seed: int, today: date,
                        entrust_to: list[str] | None = None) -> PopulationSummary:
    """Add the first `size` people of population `seed` (as of `today`) to OQS; no commit.

    Deterministic: the same (size, seed, today) always plans the same people, ids included;
    people already stored are skipped, so a rerun is a no-op. `entrust_to` names institutions
    that some medical-aid recipients are entrusted to.
    """
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be a whole number from 1 to {MAX_SIZE:,}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError("seed must be a whole number, 0 or more")
    started = time.perf_counter()
    plans, households = plan_population(size=size, seed=seed, today=today, entrust_to=entrust_to)
    existing = _existing_ids(session, [p.id for p in plans])
    fresh = [p for p in plans if p.id not in existing]
    store_plans(session, fresh)
    summary = PopulationSummary(size=size, inserted=len(fresh), skipped=len(existing), households=households,
                                seconds=0.0)
    for plan in plans:
        code, chosen, _ = decide_card(plan.quals, today)
        if code == 1 and chosen is not None and chosen.kind == "medical_aid":
            code = 6  # as any institution the person is not entrusted to sees it
        summary.by_validity[code] += 1
        if chosen is not None:
            summary.by_kind[chosen.kind] += 1
        for qual in plan.quals:
            if qual.reason_of_loss:
                summary.by_reason_of_loss[qual.reason_of_loss] += 1
    summary.seconds = time.perf_counter() - started
    return summary


def plan_sandbox_person(*, today: date, seed: int, birth_date: date | None, validity: int | None,
                        medical_aid: bool, entrusted: list[str] | None, person_id: str,
                        insured: bool = False) -> PersonPlan:
    """One person for the sandbox, shaped so that a card inquiry on `today` answers `validity`;
    `insured` (with `medical_aid`) keeps employee insurance beside the aid (併用)."""
    rng = rng_for(seed, "sandbox")
    planner = Planner(today=today, origin="sandbox")
    status = {None: "active", 1: "active", 2: "lost", 3: "changing", 4: "future", 5: "overlap", 6: "active"}[validity]
    if birth_date is None:
        if medical_aid:
            age = rng.randint(25, 64) if insured else rng.randint(25, 90)
        elif validity in (3, 5):
            age = rng.randint(25, 64)
        else:
            age = rng.choices([rng.randint(0, 5), rng.randint(6, 19), rng.randint(20, 64), rng.randint(65, 74),
                               rng.randint(75, 95)], [5, 10, 55, 15, 15])[0]
        birth_date = birth_for_age(rng, today, age)
    age = age_on(birth_date, today)
    # 後期高齢者 from the 75th birthday itself, a day after one legally turns 75; one that
    # begins today has nothing to lose or change yet.
    late_elderly = late_elderly_from(birth_date)
    if medical_aid:
        kind = "welfare"
    elif late_elderly < today or (late_elderly == today and status not in ("lost", "changing")):
        kind = "koki"
    elif age >= 70:
        kind = "kokuho"
    elif age >= 20:
        kind = "employee" if rng.random() < (0.65 if age < 65 else 0.3) else "kokuho"
    else:
        kind = "employee" if rng.random() < 0.75 else "kokuho"
    target = Member(rng.choice("12"), birth_date, "head")
    members = [target]
    if age < 20:
        target.role = "child"
        head = Member(rng.choice("12"), birth_for_age(rng, today, min(age + rng.randint(24, 38), 69)), "head")
        members = [head, target]
    ids = iter([(f"x{person_id}", 0), (person_id, seed)] if len(members) == 2 else [(person_id, seed)])
    if insured:
        members = [Member(target.sex, birth_date, "head")]
        ids = iter([(person_id, seed)])
    people = planner.household(rng, kind, status, new_ids=lambda: next(ids), members=members,
                               entrust_to=entrusted, default_entrusted=entrusted is None, insured=insured)
    plan = next(p for p in people if p.id == person_id)
    if validity == 4:
        plan.quals = [q for q in plan.quals if q.qualification_date > today]
    code, chosen, _ = decide_card(plan.quals, today)
    expected = {None: 1, 6: 1}.get(validity, validity)
    if code != expected:  # pragma: no cover - a planning bug, not bad input
        raise RuntimeError(f"planned validity {code}, wanted {expected}")
    return plan
