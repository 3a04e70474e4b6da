"""The house's layout rules, checked on the source: which package may import which (migrations
and the QA plugin included), that web/ and ops/ see the OQS only through its contract, no import
cycles (function-local imports included), and the console blueprint built the same whatever the
order its modules are named in."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("web", "consent", "integrations", "store", "ops")
# The QA teams' browser fixtures: installed with the product, read here too, imported by none of it.
QA_PLUGIN = "e2e"


def project_modules() -> dict[str, Path]:
    modules = {"app": ROOT / "app.py"}
    for package in (*PACKAGES, QA_PLUGIN):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = project_modules()


def imported_names(name: str, path: Path) -> set[str]:
    """Every module `name` imports anywhere in its file (top level or inside a function)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                base = f"{parent}.{base}".strip(".")
            # `from web import metrics` names the module web.metrics (a package is loaded before
            # its modules anyway: that is no cycle).
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules or {base})
    return found


# From the bottom up: each imports only those before it. The migrations belong to store/ and import
# nothing above it either (they are listed apart, so a rule names them when they break it).
LAYERS = ("store", "consent", "integrations", "web", "ops", "app")
MIGRATIONS = "store.migrations"
# The QA plugin drives the service over HTTP: it may use the clock's zone and a database, no more.
QA_NEVER = ("integrations", "web", "ops", "app")
NEVER = (
    [(low, high) for i, low in enumerate(LAYERS) for high in LAYERS[i + 1:]]
    + [(MIGRATIONS, high) for high in LAYERS[1:]]
    + [(package, QA_PLUGIN) for package in (*LAYERS, MIGRATIONS)]
    + [(QA_PLUGIN, high) for high in QA_NEVER]
)
# web/ by audience: none imports another; what they share is web/'s plumbing, which imports none of
# them (but web/__init__.py, which wires them into the app).
AUDIENCES = ("web.patient", "web.console", "web.api", "web.sandbox")
NEVER_IN_WEB = [(a, b) for a in AUDIENCES for b in AUDIENCES if a != b] + [("web plumbing", a) for a in AUDIENCES]
# The OQS contract: the modules directly in integrations/oqs/; the simulator is one implementation.
OQS_CONTRACT = {"integrations.oqs"} | {f"integrations.oqs.{p.stem}" for p in (ROOT / "integrations" / "oqs").glob("*.py")
                                      if p.stem != "__init__"}
SIMULATOR = "integrations.oqs.simulator"


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def importers(package: str) -> dict[str, Path]:
    """The modules a rule speaks of: a package's, but store/'s without its migrations (they have
    rules of their own), and web/'s plumbing: web/ without its audiences and their wiring."""
    if package == "web plumbing":
        return {n: p for n, p in MODULES.items()
                if inside(n, "web") and n != "web" and not any(inside(n, a) for a in AUDIENCES)}
    return {n: p for n, p in MODULES.items()
            if inside(n, package) and not (package == "store" and inside(n, MIGRATIONS))}


def offenders(package: str, imported: str) -> dict[str, list[str]]:
    """Modules of `package` that import `imported` (or anything inside it), with what they import."""
    found = {}
    for name, path in importers(package).items():
        hits = sorted(m for m in imported_names(name, path) if inside(m, imported))
        if hits:
            found[name] = hits
    return found


@pytest.mark.parametrize(("package", "imported"), [pytest.param(a, b, id=f"{a} never imports {b}")
                                                   for a, b in NEVER + NEVER_IN_WEB])
def test_never_imports(package, imported):
    assert importers(package), f"no module of {package}: the rule checks nothing"
    assert offenders(package, imported) == {}


def test_web_and_ops_import_only_the_oqs_contract():
    """Never the simulator: a real OQS connection must not drag it along."""
    found = {}
    for package in ("web", "ops"):
        for name, path in importers(package).items():
            outside = sorted(m for m in imported_names(name, path)
                             if inside(m, "integrations.oqs") and m not in OQS_CONTRACT)
            if outside:
                found[name] = outside
    assert found == {}


def test_the_oqs_contract_stands_without_its_simulator():
    found = {name: sorted(m for m in imported_names(name, MODULES[name]) if inside(m, SIMULATOR))
             for name in OQS_CONTRACT}
    assert {name: mods for name, mods in found.items() if mods} == {}


def test_the_simulator_reads_none_of_the_services_tables():
    """What the simulator knows of the service comes in through the contract (InstitutionNames)."""
    from ops.schema import MODEL_MODULES

    tables = {module.__name__ for module in MODEL_MODULES} - {f"{SIMULATOR}.models"}
    found = {}
    for name, path in MODULES.items():
        if inside(name, SIMULATOR):
            hits = sorted(imported_names(name, path) & tables)
            if hits:
                found[name] = hits
    assert found == {}


def test_consent_imports_neither_flask_nor_integrations():
    offenders = {
        name: sorted(m for m in imported_names(name, path)
                     if m.split(".")[0] in ("flask", "werkzeug", "integrations", "web"))
        for name, path in MODULES.items() if name.split(".")[0] == "consent"
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_even_through_function_local_imports():
    graph = {
        name: {m for m in imported_names(name, path) if m in MODULES and m != name}
        for name, path in MODULES.items()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def rules_of(app: Flask) -> set[tuple[str, str, frozenset[str]]]:
    return {(rule.rule, rule.endpoint, frozenset(rule.methods)) for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.")}


def test_the_console_blueprint_is_the_same_whatever_the_order_of_its_modules(app):
    from web import console
    from web.console import admin, api_clients, disaster, home_visits, medical_aid, passkeys, webhooks

    reversed_app = Flask(__name__)
    reversed_app.register_blueprint(console.blueprint(
        webhooks.routes, api_clients.routes, passkeys.routes, disaster.routes, home_visits.routes, medical_aid.routes, admin.routes))
    assert rules_of(reversed_app) == rules_of(app)
    endpoints = {endpoint for _, endpoint, _ in rules_of(app)}
    # One from each module, as the templates name them.
    assert {"console.patients", "console.admin_home", "console.passkeys",
            "console.admin_register_api_client", "console.home_visit_patients"} <= endpoints


def test_tests_mirror_the_packages():
    """tests/<package>/... holds the tests of that package: every folder under tests/ names a
    package (or subpackage) of the project, so a reader finds a module's tests by its path."""
    tests = ROOT / "tests"
    folders = [p for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert folders, "tests/ is flat again"
    strays = [p.name for p in folders if p.name not in PACKAGES]
    assert strays == []
    assert sorted(p.name for p in tests.glob("test_*.py")) == ["test_docs.py", "test_layout.py", "test_qa_suite.py",
                                                                "test_wheel.py"]


# Where web/ may still commit: a use case commits in consent/app/ (issue 29), a view never does.
# Each exception is named by (module, function) with the reason.
COMMITS_ALLOWED_IN_WEB: dict[tuple[str, str], str] = {
    # authlib calls these hooks inside its own request handling; the tokens are stored there.
    ("web.api.oauth", "token"): "OAuth token storage inside authlib's token endpoint hooks",
    ("web.api.oauth", "revoke"): "OAuth token revocation inside authlib's revocation endpoint",
    ("web.api.oauth", "authorize"): "the authorization code stored inside authlib's grant hooks",
    # The sandbox's set-up routes build test worlds (QA's institutions, patients, cards, disasters).
    **{("web.sandbox", name): "the sandbox's set-up routes" for name in (
        "create_sandbox_institution", "change_sandbox_institution", "create_sandbox_patient",
        "entrust_sandbox_patient", "create_sandbox_card", "set_card_status", "declare_sandbox_disaster",
        "delete_sandbox_institution")},
    **{("web.sandbox.demo_cards", name): "the demo card's WebAuthn ceremony (sandbox only)"
       for name in ("options", "verify")},
    # WebAuthn ceremonies are sign-in plumbing, not use cases: they store a single-use challenge
    # between their two requests or a card's new sign count, and change no consent. The card's
    # check is integrations/card's, which consent/ may not import.
    # The card's WebAuthn ceremony (web.patient.card: its counts, challenge, sign count) commits
    # through this, with the browser session's row in the same transaction.
    ("web.sessions", "commit_with_session"): "the request's transaction with the browser session's row",
    ("web.patient.reception", "_card_step"): "the card's sign count before 同意照会・更新 or 取消",
    **{("web.console.passkeys", name): "staff passkeys' WebAuthn ceremonies (challenge, credential)" for name in (
        "passkey_register_options", "passkey_register_verify", "passkey_signin_options", "passkey_signin_verify")},
}


def commits_in_web() -> set[tuple[str, str]]:
    """(module, top-level function) of every `.commit()` call in web/."""
    found = set()
    for name, path in MODULES.items():
        if not inside(name, "web"):
            continue
        for top in ast.parse(path.read_text(encoding="utf-8")).body:
            for node in ast.walk(top):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "commit"):
                    found.add((name, getattr(top, "name", "<module>")))
    return found


def test_web_commits_only_where_the_allow_list_says_why():
    unexplained = commits_in_web() - COMMITS_ALLOWED_IN_WEB.keys()
    assert not unexplained, f"commit in a use case of consent/app/, not in the view: {sorted(unexplained)}"
    # An entry whose commit has gone is struck off, so the list stays the truth.
    assert not COMMITS_ALLOWED_IN_WEB.keys() - commits_in_web()


def test_comments_point_at_files_in_the_repository():
    # The design brief and the source documents live outside the repository: cite docs/sources.md,
    # docs/domain.md or the README instead, which a reader of the code has.
    import re

    outside = re.compile(r"DESIGN\.md|CONTRACTS\.md|BROWSER_TESTING\.md|\bseeds? 0\d\d|shared/")
    found = []
    for pattern in ("*.py", "*.html", "*.js"):
        for path in ROOT.rglob(pattern):
            if ".venv" in path.parts or "node_modules" in path.parts or path == Path(__file__):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if outside.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert not found, found


def test_the_read_decision_carries_codes_and_web_words_them():
    # consent/decision.py answers with a reason code; web/error_messages.py's decision_message words it.
    import re

    source = (ROOT / "consent" / "decision.py").read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    strings = re.findall(r'"[^"\n]*"', code)
    assert not [s for s in strings if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", s)]
