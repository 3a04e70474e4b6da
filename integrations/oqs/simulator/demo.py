"""Memorable demo people for `make run` (idempotent).

Fourteen people, each showing one thing a pharmacist should see: a couple sharing one
insurance number (branch 00 / 01), a preschool child (2割), someone 70-74 with an elderly
recipient certificate, an 85-year-old on 後期高齢者医療 with many medicines, medical aid at
an entrusted institution (validity 1, payer and recipient numbers, 調剤券) and at a
non-entrusted one (6, 「医療券/調剤券情報が未登録です」), a working recipient with employee
insurance and medical aid (併用: two records, the 調剤券 naming its prescribing clinic), a lost
qualification (2), a job
change in progress (3), two overlapping insurances (5) and a dialysis patient holding a
特定疾病療養受療証, and someone who holds only a 資格確認書 (no card usable as a health insurance
card). Seeds are fixed, so their histories are the same on every machine;
scenario dates are relative to the `today` of the first load.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.oqs.simulator.generator import store_plans
from integrations.oqs.simulator.models import OqsEntrustment, OqsPerson
from integrations.oqs.simulator.places import municipality_named
from integrations.oqs.simulator.planning import Member, Planner
from integrations.oqs.simulator.seeding import rng_for


@dataclass(frozen=True)
class DemoPerson:
    id: str
    name: str
    kana: str
    sex: str
    birth_date: date
    seed: int
    note: str


@dataclass(frozen=True)
class DemoHousehold:
    kind: str
    status: str
    city: str
    people: tuple[DemoPerson, ...]
    head: DemoPerson | None = None  # a household head who is not stored (for a child's 家族 record)
    traits: str = ""
    entrusted_here: bool = False
    insured: bool = False  # welfare: employee insurance kept beside the medical aid (併用)


def _p(pid, name, kana, sex, birth, seed, note):
    return DemoPerson(pid, name, kana, sex, birth, seed, note)


HOUSEHOLDS = (
    DemoHousehold("employee", "active", "新宿区", (
        _p("demo-yamada-taro", "山田　太郎", "ヤマダ　タロウ", "1", date(1961, 6, 14), 1009,
           "協会けんぽ 本人（枝番00）、高血圧・脂質異常症の薬"),
        _p("demo-yamada-hanako", "山田　花子", "ヤマダ　ハナコ", "2", date(1963, 3, 3), 1000,
           "同じ記号・番号の家族（枝番01）、リフィル処方箋（電子処方箋）"),
    )),
    DemoHousehold("employee", "active", "世田谷区", (
        _p("demo-sato-ren", "佐藤　蓮", "サトウ　レン", "1", date(2022, 5, 10), 1101, "未就学（2割）の家族"),
    ), head=_p("demo-sato-kenichi", "佐藤　健一", "サトウ　ケンイチ", "1", date(1988, 9, 2), 1, "")),
    DemoHousehold("kokuho", "active", "新宿区", (
        _p("demo-suzuki-ichiro", "鈴木　一郎", "スズキ　イチロウ", "1", date(1954, 2, 1), 1011,
           "国保 70〜74歳（2割・高齢受給者証）、薬剤アレルギーと腎機能低下（eGFR 60未満）"),
    ), traits="drug_allergy"),
    DemoHousehold("koki", "active", "杉並区", (
        _p("demo-takahashi-fumiko", "高橋　文子", "タカハシ　フミコ", "2", date(1941, 9, 20), 1075,
           "後期高齢者（1割）、多剤服用、別の医療機関からも睡眠薬（重複）"),
    ), traits="hypnotic_elsewhere"),
    DemoHousehold("employee", "active", "港区", (
        _p("demo-tanaka-misaki", "田中　美咲", "タナカ　ミサキ", "2", date(1992, 7, 7), 1002,
           "会社員 本人（被用者保険）、花粉症"),
    )),
    DemoHousehold("welfare", "active", "新宿区", (
        _p("demo-ito-tadashi", "伊藤　正", "イトウ　タダシ", "1", date(1950, 12, 1), 1000,
           "医療扶助（このデモ薬局に委託：有効・調剤券あり）"),
    ), entrusted_here=True),
    DemoHousehold("welfare", "active", "足立区", (
        _p("demo-watanabe-sachiko", "渡辺　幸子", "ワタナベ　サチコ", "2", date(1948, 4, 18), 1005,
           "医療扶助（未委託：医療券/調剤券情報が未登録）"),
    )),
    DemoHousehold("welfare", "active", "新宿区", (
        _p("demo-kimura-yuki", "木村　由紀", "キムラ　ユキ", "2", date(1979, 11, 8), 1003,
           "医療保険と医療扶助の併用（このデモ薬局に委託：資格2件、調剤券に処方箋発行医療機関）"),
    ), entrusted_here=True, insured=True),
    DemoHousehold("employee", "lost", "練馬区", (
        _p("demo-nakamura-koji", "中村　浩二", "ナカムラ　コウジ", "1", date(1978, 1, 25), 1000,
           "資格喪失（無効）"),
    )),
    DemoHousehold("employee", "changing", "江東区", (
        _p("demo-kobayashi-naoki", "小林　直樹", "コバヤシ　ナオキ", "1", date(1985, 10, 2), 1000,
           "転職中（無効・新しい資格あり）"),
    )),
    DemoHousehold("kokuho", "active", "板橋区", (
        _p("demo-kato-keiko", "加藤　恵子", "カトウ　ケイコ", "2", date(1957, 3, 15), 1000,
           "人工透析（特定疾病療養受療証）"),
    ), traits="dialysis"),
    DemoHousehold("kokuho", "active", "新宿区", (
        _p("demo-mori-haruko", "森　春子", "モリ　ハルコ", "2", date(1956, 5, 5), 1013,
           "資格確認書だけ（マイナンバーカードの保険証利用登録なし）"),
    )),
    DemoHousehold("employee", "overlap", "大田区", (
        _p("demo-yoshida-makoto", "吉田　誠", "ヨシダ　マコト", "1", date(1975, 8, 30), 1012,
           "資格が重複（複数該当）"),
    )),
)

DEMO_IDS = tuple(p.id for h in HOUSEHOLDS for p in h.people)


def _plan(household: DemoHousehold, *, today: date, institution_codes: list[str]):
    rng = rng_for(household.people[0].seed, "demo", household.people[0].id)
    planner = Planner(today=today, origin="demo")
    members = []
    ids = []
    if household.head is not None:
        members.append(Member(household.head.sex, household.head.birth_date, "head", household.head.name,
                              household.head.kana))
        ids.append((household.head.id, household.head.seed))
    for index, person in enumerate(household.people):
        role = "head" if not members else ("child" if household.head is not None else "spouse")
        members.append(Member(person.sex, person.birth_date, role, person.name, person.kana))
        ids.append((person.id, person.seed))
    queue = iter(ids)
    plans = planner.household(
        rng, household.kind, household.status, new_ids=lambda: next(queue), members=members,
        municipality=municipality_named(household.city),
        entrust_to=institution_codes if household.entrusted_here else None, insured=household.insured,
    )
    stored = []
    for plan in plans:
        if household.head is not None and plan.id == household.head.id:
            continue
        plan.traits = household.traits
        stored.append(plan)
    return stored


def store_demo_population(session: Session, *, today: date, institution_codes: list[str]) -> tuple[str, ...]:
    """Create the demo people that are missing (no commit) and return all their ids
    (SimulatedOQS.load_demo_population answers with their records).

    `institution_codes` are the demo institutions: 伊藤 正 is entrusted to each of them
    (added to on later loads), 渡辺 幸子 to none of them.
    """
    existing = set(session.scalars(select(OqsPerson.id).where(OqsPerson.id.in_(DEMO_IDS))))
    fresh = []
    for household in HOUSEHOLDS:
        if all(p.id in existing for p in household.people):
            continue
        fresh += [p for p in _plan(household, today=today, institution_codes=institution_codes)
                  if p.id not in existing]
    if fresh:
        store_plans(session, fresh)
    for household in HOUSEHOLDS:
        if not household.entrusted_here:
            continue
        for person in household.people:
            have = set(session.scalars(select(OqsEntrustment.institution_code).where(
                OqsEntrustment.person_id == person.id)))
            for code in institution_codes:
                if code not in have:
                    session.add(OqsEntrustment(person_id=person.id, institution_code=code))
    session.flush()
    return DEMO_IDS


def demo_notes() -> dict[str, str]:
    """person id -> what the demo person shows (for printing after `make run`)."""
    return {p.id: p.note for h in HOUSEHOLDS for p in h.people}
