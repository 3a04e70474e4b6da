"""Read-side views of stored people: plain objects loaded with Core queries.

Inquiries read thousands of rows (a 1,000-row batch touches a few thousand qualifications);
the ORM's identity map and relationship loading cost more than the answers themselves, so
reads go through here: three queries per 500 people, no session state left behind.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from integrations.oqs.simulator.models import OqsEntrustment, OqsPerson, OqsQualification
from integrations.oqs.simulator.rows import PersonRow, QualRow
from store.prepared import Prepared

_Q = OqsQualification.__table__.c
_P = OqsPerson.__table__.c
_E = OqsEntrustment.__table__.c


@dataclass(slots=True)
class QualView(QualRow):
    id: int
    person_id: str


@dataclass(slots=True)
class PersonView(PersonRow):
    qualifications: list[QualView] = field(default_factory=list)
    entrusted: list[str] = field(default_factory=list)


_QUAL_COLUMNS = [getattr(_Q, f.name) for f in fields(QualView)]
_PERSON_COLUMNS = [getattr(_P, f.name) for f in fields(PersonRow)]


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def one_of(session: Session, column, values: list[str]):
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter instead of hundreds."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


def load_people(session: Session, ids) -> dict[str, PersonView]:
    """People by id with their qualifications (oldest first) and entrusted institution codes."""
    ids = sorted({i for i in ids if isinstance(i, str) and 0 < len(i) <= 32})
    people: dict[str, PersonView] = {}
    for chunk in _chunks(ids, 2000):
        for row in session.execute(select(*_PERSON_COLUMNS).where(one_of(session, _P.id, chunk))):
            people[row[0]] = PersonView(*row)
        for row in session.execute(select(*_QUAL_COLUMNS).where(one_of(session, _Q.person_id, chunk))
                                   .order_by(_Q.qualification_date, _Q.id)):
            people[row.person_id].qualifications.append(QualView(*row))
        for person_id, code in session.execute(select(_E.person_id, _E.institution_code)
                                               .where(one_of(session, _E.person_id, chunk)).order_by(_E.id)):
            people[person_id].entrusted.append(code)
    return people


# One person per read (a drug history, a qualification): fixed statements that skip building and
# compiling the query each time. See store/prepared.py.
_ONE_PERSON = Prepared(select(*_PERSON_COLUMNS).where(_P.id == bindparam("person_id")))
_QUALS_OF_ONE = Prepared(select(*_QUAL_COLUMNS).where(_Q.person_id == bindparam("person_id"))
                         .order_by(_Q.qualification_date, _Q.id))
_ENTRUSTED_OF_ONE = Prepared(select(_E.institution_code).where(_E.person_id == bindparam("person_id"))
                             .order_by(_E.id))


def load_identities(session: Session, ids) -> dict[str, tuple]:
    """(id, name, kana, sex, birth_date) rows by id: one query per 2,000 people, no qualifications."""
    ids = sorted({i for i in ids if isinstance(i, str) and 0 < len(i) <= 32})
    found: dict[str, tuple] = {}
    for chunk in _chunks(ids, 2000):
        rows = session.execute(select(_P.id, _P.name, _P.kana, _P.sex, _P.birth_date)
                               .where(one_of(session, _P.id, chunk)))
        found.update((row[0], tuple(row)) for row in rows)
    return found


def load_person(session: Session, person_id: str) -> PersonView | None:
    """One person with qualifications and entrusted codes, as `load_people` loads them."""
    if not isinstance(person_id, str) or not 0 < len(person_id) <= 32:
        return None
    conn = session.connection()
    params = {"person_id": person_id}
    rows = _ONE_PERSON.execute(conn, params)
    if not rows:
        return None
    person = PersonView(*rows[0])
    person.qualifications.extend(QualView(*row) for row in _QUALS_OF_ONE.execute(conn, params))
    person.entrusted.extend(code for (code,) in _ENTRUSTED_OF_ONE.execute(conn, params))
    return person


def qualifications_by_number(session: Session, numbers: set[str], *, medical_aid: bool) -> list[QualView]:
    """Qualifications whose 番号 (or, for medical aid, 受給者番号) is one of `numbers`."""
    column = _Q.recipient_number if medical_aid else _Q.number
    found: list[QualView] = []
    for chunk in _chunks(sorted(numbers), 2000):
        rows = session.execute(select(*_QUAL_COLUMNS).where(one_of(session, column, chunk)))
        found += [QualView(*row) for row in rows]
    return found
