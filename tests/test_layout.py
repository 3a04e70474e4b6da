"""The house's layout rules, checked on the source: which package may import which, no import
cycles (function-local imports included), and the console blueprint built the same whatever
the order its modules are named in."""
from __future__ import annotations

import ast
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("web", "consent", "integrations", "store", "ops")


def project_modules() -> dict[str, Path]:
    modules = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
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
    from web import (
        api_clients_admin, console, console_admin, console_disaster, console_home_visits, console_medical_aid,
        passkeys, webhooks_admin,
    )

    reversed_app = Flask(__name__)
    reversed_app.register_blueprint(console.blueprint(
        webhooks_admin.routes, api_clients_admin.routes, passkeys.routes, console_disaster.routes, console_home_visits.routes,
        console_medical_aid.routes,
        console_admin.routes))
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
    assert sorted(p.name for p in tests.glob("test_*.py")) == ["test_layout.py", "test_wheel.py"]
