"""The README and the guides in docs/ name only what exists: every repository path, every `make`
target and every `flask --app app` command (with its options) they mention, and every file they link.
A reader who follows them from a fresh checkout never hits a missing file or an unknown command.

CHANGELOG.md is left out on purpose: it names what used to exist (renamed modules, old commands)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDES = ["pharmacist", "admin", "qa", "integrator", "operator", "domain"]
DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "e2e" / "README.md",
        ROOT / "clients" / "python" / "README.md"]

# Paths the docs name that a checkout does not hold, each for a stated reason.
NOT_IN_CHECKOUT = {
    "instance/app.db": "created by make run",
    "./instance": "INSTANCE_DIR's default, created at the first start",
    "demo-screenshots/": "written by make demo",
    "dist/mynareception-*.whl": "built by pip wheel",
    "checkpoints/": "the operator's own folder in a cron example",
    "my-qa-tests": "a QA team's folder in a recipe",
    "utils/webauthn.py": "warehouse's module, named as the model for ours",
}
# File endings that make a code span a repository path even without a folder in it.
PATH_ENDINGS = (".py", ".md", ".png", ".toml", ".ini", ".conf", ".service", ".html", ".cfg", ".txt")

CODE_SPAN = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"")
MAKE = re.compile(r"^(?:[A-Z_]+=\S+\s+)*make\s+([a-z][a-z0-9-]*)")
FLASK = re.compile(r"flask --app app((?:\s+[a-z][a-z-]*)+)([^#\n]*)")


def _code(text: str) -> list[str]:
    """Code spans (whitespace folded, as Markdown reads a span that wraps) and code-block lines."""
    spans = [" ".join(m.group(1).split()) for m in CODE_SPAN.finditer(text)]
    block = [line.strip() for line in text.splitlines()
             if line.startswith("    ") and not line.lstrip().startswith("-")]
    return spans + block


def _path_like(token: str) -> bool:
    if not re.fullmatch(r"[A-Za-z0-9_.][\w.\-/*]*", token) or token.startswith(("http", "//")):
        return False
    if "/" in token:
        return not re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", token) or token.endswith(PATH_ENDINGS) or token.endswith("/")
    return token.endswith(PATH_ENDINGS) and not token.startswith(".") or token == ".ci/run"


@cache
def _checkout_paths() -> frozenset[str]:
    """Every file and folder of the checkout (folders with a trailing slash), relative to it."""
    found = set()
    for p in ROOT.rglob("*"):
        rel = p.relative_to(ROOT)
        if rel.parts[0] in {".venv", ".git", "instance"} or "__pycache__" in rel.parts or ".egg-info" in str(rel):
            continue
        found.add(f"{rel}/" if p.is_dir() else str(rel))
    return frozenset(found)


def _somewhere_in_checkout(written: str) -> bool:
    """A path written relative to the folder its sentence is about (`admin.py` in a list under
    `web/console/`, `oqs/simulator/` under `integrations/`) must end some path of the checkout."""
    return any(p == written or p.endswith("/" + written) for p in _checkout_paths())


def _named_paths(doc: Path) -> set[tuple[str, Path]]:
    """(as written, where it must be) for every path in a code span and every relative link."""
    text = doc.read_text()
    found = {(t, ROOT / t) for t in _code(text) if _path_like(t)}
    for m in LINK.finditer(text):
        target = (m.group(1) or m.group(2)).split("#")[0]
        if target and not re.match(r"[a-z]+:", target):
            found.add((target, doc.parent / target))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_doc_names_exists(doc: Path):
    missing = sorted(written for written, where in _named_paths(doc)
                     if written not in NOT_IN_CHECKOUT and not where.exists()
                     and not any(where.parent.glob(where.name)) and not _somewhere_in_checkout(written))
    assert missing == []


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*)\s*:", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_a_doc_names_exists(doc: Path):
    named = {m.group(1) for c in _code(doc.read_text()) if (m := MAKE.match(c))}
    assert named - _makefile_targets() == set()


# The `flask --app app` command tree as an operator's shell sees it: groups, their commands and each
# command's options, read from the app that `flask --app app` loads (make run's sandbox mode, which
# registers every group), in a scratch instance folder. One process instead of one `--help` each.
_TREE = """
import json, click
from importlib.metadata import entry_points
from app import create_app
def opts(cmd):
    return sorted(o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--"))
commands = {e.name: e.load() for e in entry_points(group="flask.commands")}   # as flask adds them
commands.update(create_app().cli.commands)
tree = {}
for name, cmd in commands.items():
    subs = getattr(cmd, "commands", None)
    tree[name] = {"options": opts(cmd),
                  "commands": {n: opts(c) for n, c in subs.items()} if subs is not None else None}
print(json.dumps(tree))
"""


@cache
def _command_tree() -> dict:
    with tempfile.TemporaryDirectory(prefix="test-docs-") as instance:
        env = {**os.environ, "APP_ENV": "sandbox", "INSTANCE_DIR": instance}
        env.pop("DATABASE_URL", None)
        done = subprocess.run([sys.executable, "-c", _TREE], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def _flask_commands(doc: Path) -> set[tuple[str, ...]]:
    found = set()
    for code in _code(doc.read_text()):
        for m in FLASK.finditer(code):
            words = m.group(1).split()
            options = re.findall(r"(?<!\S)(--[a-z][a-z-]*)", m.group(2))
            found.add((*words[:2], *sorted(set(options))))
    return found


def test_the_command_tree_is_read():
    tree = _command_tree()
    assert {"db", "demo", "institution", "audit"} <= set(tree)
    assert "upgrade" in tree["db"]["commands"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flask_command_a_doc_names_exists(doc: Path):
    tree, unknown = _command_tree(), []
    for named in sorted(_flask_commands(doc)):
        words = [w for w in named if not w.startswith("--")]
        group = tree.get(words[0])
        if group is None:
            unknown.append(" ".join(named))
            continue
        options = group["options"]
        if group["commands"] is not None:                   # a group: the second word is its command
            if len(words) < 2 or words[1] not in group["commands"]:
                unknown.append(" ".join(named))
                continue
            options = group["commands"][words[1]]
        unknown += [f"{' '.join(words)} {o}" for o in named if o.startswith("--") and o not in options]
    assert unknown == []


def test_the_readme_reads_in_ten_minutes_and_links_every_guide():
    text = README.read_text()
    assert len(text.splitlines()) < 150
    links = {m.group(1) for m in LINK.finditer(text) if m.group(1)}
    assert {f"docs/{g}.md" for g in GUIDES} | {"CHANGELOG.md"} <= links


def test_the_two_commands_lead_the_readme():
    blocks = [line.split("#")[0].strip() for line in README.read_text().splitlines() if line.startswith("    ")]
    assert blocks[:2] == ["make run", "make test"]                 # the first code block, comments aside


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's rule) gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_to_a_section_finds_its_heading(doc: Path):
    broken = []
    for m in LINK.finditer(doc.read_text()):
        target = m.group(1) or ""
        if "#" not in target or re.match(r"[a-z]+:", target):
            continue
        file, anchor = target.split("#", 1)
        linked = (doc.parent / file) if file else doc
        headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M) if linked.exists() else []
        if anchor not in {_slug(h) for h in headings}:
            broken.append(target)
    assert broken == []
