"""The package stands alone: it declares httpx, authlib and standardwebhooks only, and imports
nothing else outside the standard library (never the service's own packages)."""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

# What the database holds changes nothing here: CI runs it once, on SQLite.
pytestmark = pytest.mark.database_independent

PACKAGE = Path(__file__).resolve().parents[1]
DEPENDENCIES = {"httpx", "authlib", "standardwebhooks"}


def test_the_declared_dependencies_are_the_three():
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    assert project["name"] == "mynareception-client"
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip().lower() for dep in project["dependencies"]}
    assert names == DEPENDENCIES


def test_the_module_imports_only_the_standard_library_its_dependencies_and_itself():
    foreign = set()
    for source in (PACKAGE / "mynareception_client").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops = [node.module.split(".")[0]]
            else:
                continue
            foreign |= {(source.name, top) for top in tops
                        if top not in sys.stdlib_module_names and top not in DEPENDENCIES | {"mynareception_client"}}
    assert foreign == set()
