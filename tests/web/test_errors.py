"""The one error model: every domain error has a code, every code is worded once, in web/."""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from types import SimpleNamespace

import pytest

from conftest import ROOT
from consent.errors import ConsentError, DomainError
from web.error_messages import TABLES, ApiError, describe

DOMAIN_PACKAGES = ("consent", "integrations")
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")

# Values a message may quote, for the codes whose message is made from the error.
SAMPLE_DETAILS = {
    ("consent", "care_setting_unsupported"): 2,
    ("consent", "date_too_far"): 30,
    ("password", "too_short"): 12,
    ("api_client", "scope_beyond_client_credentials"): ("drug", "checkup"),
    ("token", "insufficient_scope"): "drug",
    ("oqs", "invalid_month"): "from",
}


def _import_everything() -> None:
    for package in (*DOMAIN_PACKAGES, "web"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            importlib.import_module(info.name)


def _domain_errors() -> list[type[DomainError]]:
    _import_everything()
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if not issubclass(sub, ApiError) and sub.__module__.startswith(DOMAIN_PACKAGES):
                found.append(sub)
    return found


def _sample(cls: type[DomainError], code: str) -> DomainError:
    error = cls.__new__(cls)
    detail = SAMPLE_DETAILS.get((cls.domain, code))
    if cls.domain == "read" and code not in ("not_found", "other_institution"):
        # The refusing Decision (its words come from web/error_messages.py's decision_message).
        detail = SimpleNamespace(reason="no_consent", category="drug", consent=None, state=None, since=None)
    DomainError.__init__(error, code, detail=detail)
    return error


def test_every_code_a_domain_error_can_raise_has_a_status_and_a_japanese_message():
    errors = _domain_errors()
    assert {cls.domain for cls in errors} == set(TABLES), "a domain without a table, or a table without errors"
    for cls in errors:
        if not cls.codes:  # a base only (OQSError): its subclasses declare the codes
            assert cls.__subclasses__(), f"{cls.__name__} declares no codes"
            continue
        for code in cls.codes:
            assert code in TABLES[cls.domain], f"{cls.__name__}: {code!r} has no entry in web/error_messages.py"
            answer = describe(_sample(cls, code))
            # Only the audit log's own failures (a missing key) are the service's fault: 500.
            expected = range(500, 501) if cls.domain == "audit" else range(400, 500)
            assert answer.status in expected, (cls.__name__, code, answer.status)
            assert JAPANESE.search(answer.message), (cls.__name__, code, answer.message)
            assert re.fullmatch(r"[a-z_]+", answer.error), (cls.__name__, code, answer.error)


def test_no_table_words_a_code_no_error_declares():
    declared: dict[str, set[str]] = {}
    for cls in _domain_errors():
        declared.setdefault(cls.domain, set()).update(cls.codes)
    for domain, table in TABLES.items():
        assert set(table) <= declared[domain], (domain, set(table) - declared[domain])


def test_an_undeclared_code_is_refused_when_raised():
    with pytest.raises(ValueError):
        ConsentError("some_new_code")


def test_the_public_codes_and_statuses_of_the_contract_stay():
    # The API contract (README, "Pharmacy-system API"): another institution's consent is 404 not_found, scope refusals 403.
    from consent.decision import ReadRefused
    from consent.oauth_clients import TokenRefused

    assert describe(ReadRefused("other_institution")) == describe(ReadRefused("not_found"))
    assert describe(ReadRefused("not_found")).error == "not_found"
    assert (describe(TokenRefused("expired")).status, describe(TokenRefused("expired")).error) == (401, "invalid_token")
    assert describe(TokenRefused("missing")).error == "unauthorized"
    refused = describe(TokenRefused("insufficient_scope", detail="drug"))
    assert (refused.status, refused.error, refused.message) == (
        403, "insufficient_scope", "このトークンには「薬剤情報」（drug）の権限がありません。")


def _domain_sources():
    for package in DOMAIN_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _texts(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_no_domain_module_puts_japanese_text_in_an_error():
    """Japanese lives in web/error_messages.py. A `field` may name an input as staff know it
    (保険者番号, the batch CSV's column names); nothing else raised or built as an error may."""
    names = {cls.__name__ for cls in _domain_errors()} | {"Exception", "ValueError", "LookupError", "RuntimeError",
                                                        "KeyError", "TypeError"}
    found = []
    for path, tree in _domain_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                calls = [node.exc] if not isinstance(node.exc, ast.Call) else []
                calls += [n for n in ast.walk(node.exc) if isinstance(n, ast.Call)]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in names:
                calls = [node]
            else:
                continue
            for call in calls:
                parts = [call] if not isinstance(call, ast.Call) else [
                    *call.args, *(k.value for k in call.keywords if k.arg != "field")]
                for part in parts:
                    found += [f"{path.relative_to(ROOT)}:{node.lineno}: {t}" for t in _texts(part) if JAPANESE.search(t)]
    assert not found, "\n".join(found)


def test_domain_errors_carry_no_message_attribute():
    for cls in _domain_errors():
        assert "message" not in vars(cls), cls.__name__
        if not cls.codes:
            continue
        error = _sample(cls, sorted(cls.codes)[0])
        assert not hasattr(error, "message"), cls.__name__
        assert not JAPANESE.search(str(error)), cls.__name__


def test_errors_are_raised_not_returned():
    """No domain function answers with an error string that a caller must test with isinstance."""
    found = []
    for package in ("web", *DOMAIN_PACKAGES):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance"
                        and len(node.args) == 2 and getattr(node.args[1], "id", None) == "str"
                        and getattr(node.args[0], "id", None) in ("grant", "error", "result", "reason")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
