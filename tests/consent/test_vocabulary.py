"""The vocabulary is defined once (consent/vocabulary.py): scopes, categories and their labels,
care settings. Pages, the API and its OpenAPI document derive from it, and these tests fail when
something is added or spelled beside it."""
from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

import web
from api_support import TODAY, console_login
from consent import grants, vocabulary
from consent.actors import Actor
from consent.decision import INSUFFICIENT_SCOPE, decide
from consent.institutions import create_institution
from consent.vocabulary import (
    BATCH_SCOPE, EVENTS_SCOPE, CARE_SETTINGS, CATEGORIES, CATEGORY, CATEGORY_LABELS, CLIENT_CREDENTIALS_SCOPES, CONSENTS_SCOPE,
    HEADINGS, READ_CATEGORIES, SCOPE, SCOPE_LABELS, SCOPE_OF_CATEGORY, SCOPES,
)
from integrations.oqs import InvalidInput
from integrations.oqs.simulator import make_oqs
from web.api import DATA_READS
from web.error_messages import describe

# Public contracts (docs/layout.md, "Where the vocabulary lives"): the reception's checkboxes and the console's section headings.
CONSENT_LABELS = ["薬剤・処方", "特定健診", "診療・アレルギー・検査", "手術・傷病名・感染症", "特定疾病療養受療証", "限度額"]
CONSOLE_HEADINGS = ["薬剤情報", "特定健診情報", "診療・アレルギー・検査", "手術・傷病名・感染症", "特定疾病療養受療証",
                    "限度額"]
CONTRACT_SCOPES = ["consents", "qualification", "limit", "specific_disease", "drug", "checkup", "clinical", "surgery",
                   "batch", "events"]
# Every template, wherever its package keeps it (web/templates, web/<audience>/templates).
TEMPLATES = sorted(p for p in Path(web.__file__).parent.rglob("*.html") if "templates" in p.parts)


def test_each_category_has_its_two_public_labels():
    assert [CATEGORY_LABELS[c] for c in CATEGORIES] == CONSENT_LABELS
    assert [HEADINGS[c] for c in CATEGORIES] == CONSOLE_HEADINGS
    assert HEADINGS["qualification"] == "資格情報" and "qualification" not in CATEGORY_LABELS


def test_every_scope_opens_a_category_or_is_the_list_or_the_batch():
    assert list(SCOPES) == CONTRACT_SCOPES
    for name, scope in SCOPE.items():
        if scope.category is None:
            # Not a data read: each has a route of its own in the API.
            assert name in (CONSENTS_SCOPE, BATCH_SCOPE, EVENTS_SCOPE)
        else:
            assert scope.category in CATEGORY, f"scope {name} without its category"
            assert SCOPE_OF_CATEGORY[scope.category] == name
            assert scope.label == HEADINGS[scope.category]
    # Every read category is reached by exactly one scope, and no two categories share one.
    assert set(SCOPE_OF_CATEGORY) == set(READ_CATEGORIES)
    assert set(SCOPE_OF_CATEGORY.values()) <= set(SCOPES)
    assert len(set(SCOPE_OF_CATEGORY.values())) == len(SCOPE_OF_CATEGORY)


def test_system_jobs_reach_the_list_qualification_limit_batch_and_events_only():
    assert CLIENT_CREDENTIALS_SCOPES == {"consents", "qualification", "limit", "batch", "events"}
    assert {SCOPE_OF_CATEGORY[c] for c in vocabulary.LIMITED_CLIENT_CATEGORIES} <= CLIENT_CREDENTIALS_SCOPES
    assert vocabulary.CLINICAL_SCOPES == {"drug", "checkup", "clinical", "surgery"}


def test_the_api_has_one_data_read_per_category_behind_its_scope():
    assert sorted(read.category for read in DATA_READS) == sorted(READ_CATEGORIES)
    assert all(read.scope == SCOPE_OF_CATEGORY[read.category] for read in DATA_READS)


def _decide(sessions, institution_id, clock, category, scopes):
    with sessions() as session:
        decision = decide(session, institution_id=institution_id, person_id="person-1", category=category,
                          actor=Actor.for_staff(staff_id=1, institution_id=institution_id, role="pharmacist"),
                          now=clock.now(), scopes=scopes)
        session.commit()
        return decision


def test_decide_judges_a_token_by_the_scope_mapped_to_the_category(sessions, institution_id, clock, monkeypatch):
    with sessions() as session:
        grants.register_consent(session, institution_id=institution_id, person_id="person-1", card_id="card-1",
                                care_setting=3, categories=CATEGORIES, consultation_date=TODAY, now=clock.now(),
                                validity_code=1)
        session.commit()
    for category in READ_CATEGORIES:
        scope = SCOPE_OF_CATEGORY[category]
        assert _decide(sessions, institution_id, clock, category, {scope}).allowed, category
        refused = _decide(sessions, institution_id, clock, category, set(SCOPES) - {scope})
        assert refused.reason == INSUFFICIENT_SCOPE, category
    # The mapping decides, not a scope that happens to be named like the category.
    monkeypatch.setitem(SCOPE_OF_CATEGORY, "drug", "medication")
    assert _decide(sessions, institution_id, clock, "drug", {"drug"}).reason == INSUFFICIENT_SCOPE
    assert _decide(sessions, institution_id, clock, "drug", {"medication"}).allowed


def test_care_settings_are_the_three_of_this_system(sessions):
    assert CARE_SETTINGS == {1: "外来", 2: "訪問診療等", 3: "オンライン診療等"}
    with sessions() as session:
        with pytest.raises(InvalidInput) as refused:
            make_oqs(session).qualification("nobody", institution_code="1341234563", care_setting=4, today=TODAY)
    assert describe(refused.value).message == "診療区分は1（外来）、2（訪問診療等）、3（オンライン診療等）のいずれかです。"


# The same words naming something else: a checkup's kind (特定健診 / 後期高齢者健診) and where a
# drug was dispensed (入院 / 外来).
OTHER_MEANINGS = {("integrations/oqs/simulator/checkup_history.py", "特定健診"),
                  ("integrations/oqs/simulator/drug_history.py", "外来")}


def test_no_code_defines_a_label_again():
    """`git grep` finds each label as a string only in consent/vocabulary.py."""
    labels = {*CATEGORY_LABELS.values(), *HEADINGS.values(), *SCOPE_LABELS.values(), *CARE_SETTINGS.values(),
              *vocabulary.VALIDITY.values(), *vocabulary.STATUS_LABELS.values(),
              *vocabulary.REVOCATION_REASONS.values(), *vocabulary.BATCH_STATUSES}
    root = Path(web.__file__).parent.parent
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=root, capture_output=True, text=True,
                           check=True).stdout.split()
    assert "consent/vocabulary.py" in files
    found = set()
    for name in files:
        if name == "consent/vocabulary.py" or name.startswith(("tests/", "e2e/", "bench/")):
            continue
        source = (root / name).read_text(encoding="utf-8")
        found |= {(name, label) for label in labels if re.search(rf"[\"']{re.escape(label)}[\"']", source)}
    assert found <= OTHER_MEANINGS


# --- pages and the OpenAPI document spell no label of their own ---------------------------------


def _static_text(source: str) -> str:
    return re.sub(r"\{([{%#]).*?[}%#]\}", "", source, flags=re.S)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_spells_a_category_label(template):
    """A heading, checkbox or quoted name of a category comes from the vocabulary, never the template."""
    text = _static_text(template.read_text(encoding="utf-8"))
    for label in {*CATEGORY_LABELS.values(), *HEADINGS.values()}:
        assert not re.search(rf">\s*{re.escape(label)}\s*<", text), f"{template.name} spells {label}"
        assert f"「{label}」" not in text, f"{template.name} spells {label}"


# Words that only a category's name contains (診療 and 資格 also name dates and fields).
CATEGORY_WORDS = ("薬剤", "処方", "特定健診", "アレルギー", "手術", "傷病名", "感染症", "特定疾病", "限度額")
NAMING_ELEMENTS = re.compile(r"<(h1|h2|h3|legend|label|button|option|a)\b[^>]*>(.*?)</\1>", re.S)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_names_a_category_its_own_way(template):
    """A heading, button, choice or quoted name with a category word must come from the vocabulary:
    written in the template it would be a second spelling, or one the domain does not define."""
    text = _static_text(template.read_text(encoding="utf-8"))
    names = [re.sub(r"<[^>]+>", "", inner) for _, inner in NAMING_ELEMENTS.findall(text)]
    names += re.findall(r"「([^」]*)」", text)
    for name in names:
        assert not any(word in name for word in CATEGORY_WORDS), f"{template.name} names {name!r}"


def test_the_reception_offers_exactly_the_domains_categories(make_app, clock):
    app = make_app("development")
    with app.extensions["sessionmaker"]() as session:
        token = create_institution(session, code="1341234563", name="テスト薬局", now=clock.now()).reception_token
        session.commit()
    html = app.test_client().get(f"/r/{token}/consent").get_data(as_text=True)
    offered = re.findall(r'<input type="checkbox" name="categories" value="(\w+)" *>([^<]+)</label>', html)
    assert offered == list(CATEGORY_LABELS.items())


def test_the_console_heads_every_section_with_the_domains_heading(world, clock):  # noqa: F811
    with world.session() as s:
        consent = grants.register_consent(
            s, institution_id=world.here, person_id=world.person.person_id, card_id="card_x", care_setting=3,
            categories=CATEGORIES, consultation_date=TODAY + timedelta(days=1), now=clock.now(),
            validity_code=1)
        s.commit()
    html = console_login(world.app, "pharmacist").get(f"/pharmacy/consents/{consent.id}").get_data(as_text=True)
    headings = dict(re.findall(r'<h2 id="h-(\w+)">([^<]+)</h2>', html))
    assert headings == HEADINGS
    assert f"<dd>{'、'.join(CONSENT_LABELS)}</dd>" in html


def test_the_api_client_page_lists_the_domains_scopes(world):  # noqa: F811
    html = console_login(world.app, "admin").get("/pharmacy/admin").get_data(as_text=True)
    offered = re.findall(r'<input type="checkbox" name="scopes" value="(\w+)"> ([^<]+)</label>', html)
    assert offered == list(SCOPE_LABELS.items())


def test_the_openapi_document_names_only_the_domains_labels(world):  # noqa: F811
    doc = world.app.test_client().get("/api/openapi.json").get_json()
    quoted = set(re.findall(r"「([^」]+)」", json.dumps(doc, ensure_ascii=False)))
    assert quoted and quoted <= {*HEADINGS.values(), *CATEGORY_LABELS.values(), *SCOPE_LABELS.values()}
    for read in DATA_READS:
        operation = doc["paths"]["/api" + read.path.replace("<consent_id>", "{consent_id}")]["get"]
        assert operation["summary"].startswith(HEADINGS[read.category])
        assert operation["security"] == [{"oauth2": [SCOPE_OF_CATEGORY[read.category]]}]
    consent = doc["components"]["schemas"]["Consent"]["properties"]
    assert consent["categories"]["items"]["enum"] == list(CATEGORIES)
    schemas = doc["components"]["schemas"]  # coded enums are named schemas (x-enum-varnames)
    assert consent["care_setting"]["$ref"].endswith("/CareSetting")
    assert schemas["CareSetting"]["enum"] == list(CARE_SETTINGS)
    assert consent["status_label"]["$ref"].endswith("/StatusLabel")
    assert schemas["StatusLabel"]["enum"] == list(vocabulary.STATUS_LABELS.values())
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["authorizationCode"]["scopes"] == SCOPE_LABELS


def test_the_console_shows_no_fields_for_no_qualification(world, clock):  # noqa: F811
    """Validity 4 (該当資格なし) by its name: the page says so and shows no empty insurance fields."""
    with world.session() as s:
        person = make_oqs(s).create_person(today=TODAY, validity=vocabulary.NO_QUALIFICATION)
        consent = grants.register_consent(
            s, institution_id=world.here, person_id=person.person_id, card_id="card_y", care_setting=3,
            categories=["limit"], consultation_date=TODAY, now=clock.now(), validity_code=vocabulary.NO_QUALIFICATION)
        s.commit()
    html = console_login(world.app, "clerk").get(f"/pharmacy/consents/{consent.id}").get_data(as_text=True)
    assert "4：該当資格なし" in html and "被保険者証区分" not in html
    valid = console_login(world.app, "clerk").get(f"/pharmacy/consents/{world.consent}").get_data(as_text=True)
    assert "1：有効" in valid and "被保険者証区分" in valid


def test_every_read_category_has_one_loader():
    # consent/app/reads.py's table serves the console, the API and the disaster read alike.
    from consent.app.reads import LOADERS

    assert sorted(LOADERS) == sorted(READ_CATEGORIES)
