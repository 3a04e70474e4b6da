"""「災害時閲覧」: reading a person's data without the card under a declared disaster (災害時特別措置).

Licensed staff of an institution in the disaster's area, inside its period, find a person by
insurance numbers or by kana name + birth date + address or postcode - exactly one match, or they
are asked for more; never a list - record 「口頭で同意を得た」 or 「同意なし」, then read the
qualification, drug and checkup data as the patient page shows them. No consent is created: each
read goes through consent.decision.decide with the disaster as its basis (audited, and shown to
the patient in 同意照会・更新's 閲覧の記録). The person found is kept in the (server-side) session,
never in the form, so a read cannot be pointed at someone else.
"""
from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, session, url_for

from consent.date_input import parse_birth_date
from consent import disasters, searches
from consent.app import disaster as app_disaster, reads
from consent.app.disaster import ByName
from consent.insurance_keys import InsuranceKeys, KeysRefused, parse_insurance_keys
from consent.decision import DISASTER_NO_CONSENT_KIND
from consent.disasters import DisasterBasis
from consent.vocabulary import (
    DISASTER_CATEGORIES, DISASTER_CONSENT_KINDS, DISASTER_READ_HEADING, HEADINGS, NO_QUALIFICATION, PART_HEADINGS,
    PREFECTURES, QUALIFICATION,
)
from consent.window import deadline_text, format_jst
from web import metrics
from web.console import drug_parts
from consent.institutions import names_by_code
from web.consent_view import worded
from web.context import RATE_LIMITS, now, oqs_for, today_jst
from web.db import db, reader
from web.error_messages import describe
from web.console.routes import Routes
from web.staff_session import current_staff, staff_required

routes = Routes()

FOUND = "disaster_person"  # session key: {"person_id", "disaster_id", "staff_id"}
MAX_FIELD = 200
# An ended disaster stays announced this long, so staff learn why 「災害時閲覧」 went away.
ENDED_SHOWN_FOR = timedelta(days=7)


def period_text(disaster) -> str:
    """「2026年11月23日 09:00〜2026年12月22日 23:59」 (the end is exclusive: its last minute)."""
    return f"{format_jst(disaster.starts_at)}〜{deadline_text(disaster.effective_end)}"


def area_text(disaster) -> str:
    """「東京都、神奈川県、本町薬局」: the area as people read it - institutions by name (an
    unknown code, a name no longer on record, as 「医療機関 1341234563」)."""
    parts = [PREFECTURES.get(int(p), p) for p in disaster.prefecture_list]
    names = names_by_code(reader(), list(disaster.institution_list)) if disaster.institution_list else {}
    parts += [names.get(code) or f"医療機関 {code}" for code in disaster.institution_list]
    return "、".join(parts)


def _state(disaster, current) -> str:
    """実施中, 予定 (declared, not started) or 終了 (over, or ended by an operator - even before its start)."""
    if disaster.in_effect(current):
        return "実施中"
    return "予定" if disaster.ended_at is None and current < disaster.starts_at else "終了"


def notices():
    """Console context: the active disasters covering the signed-in staff's institution (a banner on
    every page) and whether the 「災害時閲覧」 menu entry is shown (licensed staff, in effect now)."""
    staff = current_staff()
    if staff is None:
        return {}
    current = now()
    covering = disasters.announced_for(reader(), staff.institution_code, current, ended_within=ENDED_SHOWN_FOR)
    banners = [{
        "name": d.name, "in_effect": d.in_effect(current), "area": area_text(d), "period": period_text(d),
        "state": _state(d, current),
    } for d in covering]
    return {"disaster_banners": banners, "disaster_read_heading": DISASTER_READ_HEADING,
            "disaster_link": staff.licensed and any(b["in_effect"] for b in banners)}


def _the_disaster(staff, wanted: int | None = None):
    """The disaster to judge: the one a form names when it covers the staff's institution (the
    page was shown for it: past its end it is refused as 期間外, naming it); else the one in
    effect for the institution now; else one covering it but not in effect (over, or not begun:
    期間外); else one in effect elsewhere (refused as out of the area); else None."""
    current = now()
    if wanted is not None:
        named = reader().get(disasters.Disaster, wanted)
        if named is not None and named.covers(staff.institution_code):
            return named
    mine = disasters.in_effect_for(reader(), staff.institution_code, current)
    if mine is not None:
        return mine
    covering = disasters.announced_for(reader(), staff.institution_code, current, ended_within=ENDED_SHOWN_FOR)
    if covering:
        return covering[-1]
    return next(iter(disasters.in_effect(reader(), current)), None)


def _gate(staff, disaster):
    """None when the staff member may use the measure now; else the refusal (a Decision, audited)."""
    basis = DisasterBasis(disaster.id if disaster else None)
    if (disaster is not None and staff.licensed and disaster.covers(staff.institution_code)
            and disaster.in_effect(now())):
        return None
    [decision] = worded(reads.decide_reads(db(), actor=staff.actor(), institution_id=staff.institution_id,
                                           categories=(QUALIFICATION,), now=now(), metrics=metrics, disaster=basis))
    return decision


def _found(staff, disaster_id: int | None) -> str | None:
    """The person this staff member found under this disaster (kept in the session), or None."""
    kept = session.get(FOUND)
    if (isinstance(kept, dict) and disaster_id is not None and kept.get("disaster_id") == disaster_id
            and kept.get("staff_id") == staff.staff_id):
        return kept.get("person_id")
    return None


def _page(staff, disaster, *, status: int = 200, refusal=None, error: str | None = None, form=None,
          sections=None, consent_kind: str | None = None, person_id: str | None = None):
    person = None
    if person_id is None and refusal is None and disaster is not None:
        person_id = _found(staff, disaster.id)
    if person_id is not None:
        person = oqs_for(reader()).person(person_id)
    kept = session.get(FOUND)
    return render_template(
        "console/disaster.html", staff=staff, disaster=disaster, refusal=refusal, error=error,
        form=form or {}, person=person, sections=sections, consent=None, consent_kinds=DISASTER_CONSENT_KINDS,
        consent_kind_label=DISASTER_CONSENT_KINDS.get(consent_kind or ""), heading=DISASTER_READ_HEADING,
        area=area_text(disaster) if disaster else "", period=period_text(disaster) if disaster else "",
        parts=PART_HEADINGS, no_qualification=NO_QUALIFICATION,
        qualification_note=f"災害時特別措置による照会（{format_jst(now())}）の結果です。", warnings=[],
        filter_error=None, found_disaster_id=kept.get("disaster_id") if isinstance(kept, dict) else None,
    ), status


def _opened(wanted: int | None = None):
    """(staff, disaster, None) when the signed-in member may use the measure now; else the refusal
    page (403) in third place. `wanted`: the disaster a form was shown for."""
    staff = current_staff()
    disaster = _the_disaster(staff, wanted)
    refusal = _gate(staff, disaster)
    return staff, disaster, None if refusal is None else _page(staff, disaster, status=403, refusal=refusal)


@routes.get("/disaster")
@staff_required
def disaster_page():
    staff, disaster, refused = _opened()
    return refused or _page(staff, disaster)


def _field(name: str) -> str:
    return request.form.get(name, "").strip()[:MAX_FIELD]


NOT_FOUND = "該当する方が見つかりません。入力した内容を確かめてください。"
ASK_MORE = ("複数の方が該当するため、特定できません。枝番・生年月日や、住所・郵便番号などをもう少し詳しく"
            "入力してください。")


def _criteria(how: str, form: dict[str, str]) -> tuple[InsuranceKeys | ByName | None, str | None]:
    """The search's criteria, or None and what to say about what is missing."""
    if how == "insurance":
        try:
            return parse_insurance_keys(form), None  # as 再照会 and the API take them
        except KeysRefused as exc:
            return None, describe(exc).message
    birth = parse_birth_date(form["birth_date"])
    if not form["kana"] or birth is None or not (form["address"] or form["postcode"]):
        return None, "氏名（カナ）、生年月日（YYYY-MM-DD）と、住所か郵便番号を入力してください。"
    return ByName(form["kana"], birth, form["postcode"] or None, form["address"] or None), None


# What a search that found nobody says, and its status.
_ANSWERS = {searches.NOT_FOUND: (NOT_FOUND, 404), searches.SEVERAL: (ASK_MORE, 409)}
SEARCH_FIELDS = ("how", "insurer_number", "symbol", "number", "branch", "birth_date", "kana", "address", "postcode")


@routes.post("/disaster/search")
@staff_required
def disaster_search():
    staff = current_staff()
    app_disaster.count_search(RATE_LIMITS, staff.actor())
    raw = request.form.get("disaster_id", "")
    staff, disaster, refused = _opened(int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None)
    if refused:
        return refused
    form = {name: _field(name) for name in SEARCH_FIELDS}
    session.pop(FOUND, None)
    how = "insurance" if form["how"] == "insurance" else "name"
    criteria, error = _criteria(how, form)
    found = app_disaster.search_person(db(), oqs_for(reader()), actor=staff.actor(), disaster_id=disaster.id, by=how,
                                       criteria=criteria, institution_code=staff.institution_code, today=today_jst(),
                                       now=now())
    person_id = found.person_id
    if person_id is None:
        if found.refused is not None:
            error, status = describe(found.refused).message, 400
        else:
            error, status = _ANSWERS.get(found.outcome, (error, 400))
        return _page(staff, disaster, status=status, error=error, form=form)
    session[FOUND] = {"person_id": person_id, "disaster_id": disaster.id, "staff_id": staff.staff_id}
    return redirect(url_for("console.disaster_page"), code=303)


@routes.post("/disaster/clear")
@staff_required
def disaster_clear():
    session.pop(FOUND, None)
    return redirect(url_for("console.disaster_page"), code=303)


def _shown(category: str, data):
    return drug_parts(data) if category == "drug" else data


@routes.post("/disaster/read")
@staff_required
def disaster_read():
    """Record the consent kind and read. The decision judges everything (period, area, licence,
    consent kind) for the disaster the person was found under: a read a second after the period
    is refused and audited with that disaster and that person."""
    staff = current_staff()
    raw = request.form.get("disaster_id", "")
    # ASCII digits only: str.isdigit() also takes 「²」, which int() refuses.
    disaster_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    person_id = _found(staff, disaster_id)
    if person_id is None:  # nobody found under this disaster (or by someone else): search first
        return redirect(url_for("console.disaster_page"), code=303)
    kind = request.form.get("consent_kind", "")[:16]
    basis = DisasterBasis(disaster_id, kind if kind in DISASTER_CONSENT_KINDS else None)
    current = now()
    decisions = worded(reads.decide_reads(db(), actor=staff.actor(), institution_id=staff.institution_id,
                                          categories=DISASTER_CATEGORIES, now=current, metrics=metrics,
                                          person_id=person_id, disaster=basis))
    disaster = _the_disaster(staff, disaster_id)
    if basis.consent_kind is None and decisions[0].reason == DISASTER_NO_CONSENT_KIND:
        return _page(staff, disaster, status=400, error=decisions[0].message + "。", person_id=person_id)
    oqs = oqs_for(reader())
    # Today's qualification, 外来: the measure rests on no consent given at a reception.
    subject = reads.Subject(person_id, staff.institution_code, today_jst())
    sections = [{"category": category, "heading": HEADINGS[category], "decision": decision,
                 "data": _shown(category, reads.load(category, oqs, subject)) if decision.allowed else None}
                for category, decision in zip(DISASTER_CATEGORIES, decisions)]
    status = 200 if all(d.allowed for d in decisions) else 403
    return _page(staff, disaster, status=status, sections=sections, consent_kind=basis.consent_kind,
                 person_id=person_id)
