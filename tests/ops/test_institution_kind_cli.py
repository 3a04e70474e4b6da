"""`institution create --kind`: every kind, stored, checked against the code's 点数表番号."""
from __future__ import annotations

import pytest

from consent.institutions import Institution
from integrations.oqs.numbering import make_institution_code


@pytest.mark.parametrize("kind, table, label", [
    ("pharmacy", 4, "調剤"), ("clinic", 1, "医科"), ("dental", 3, "歯科"), ("visiting_nurse", 6, "訪問看護"),
])
def test_each_kind_is_created_stored_and_listed(cli, kind, table, label):
    code = make_institution_code(prefecture=13, table=table, serial=245678)
    result = cli("institution", "create", "--code", code, "--name", "本町", "--kind", kind)
    assert result.exit_code == 0, result.output
    with cli.app.extensions["sessionmaker"]() as session:
        assert session.query(Institution).filter_by(institution_code=code).one().kind == kind
    assert f"{code}  {label}  本町" in cli("institution", "list").output


def test_a_kind_that_does_not_match_the_code_is_refused(cli):
    code = make_institution_code(prefecture=13, table=6, serial=245678)
    result = cli("institution", "create", "--code", code, "--name", "訪問看護", "--kind", "clinic")
    assert result.exit_code == 2 and "is a 訪問看護 code, not clinic" in result.output
