"""axe-core in real Chromium: a page's WCAG 2.x A and AA violations.

axe-core comes from npm (`make test` runs `npm ci` in e2e/axe/, at the version its lock file
pins); it is evaluated in the page through the DevTools protocol, so the app's Content Security
Policy (scripts from 'self' only) need not be loosened for it, and nothing of it is ever served.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the issue asks of every patient page.
WCAG_A_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")


@cache
def _source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(AXE.parents[3])} is missing: run `make install-test` (npm ci in e2e/axe/)")
    return AXE.read_text(encoding="utf-8")


def violations(page, *, tags: tuple[str, ...] = WCAG_A_AA) -> list[dict]:
    """axe's violations of `tags` on the page as it is now (an empty list: none)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))})); }",
        list(tags))
    return result


def assert_accessible(page, where: str = "") -> None:
    """Fail with axe's findings (rule, impact, the elements) when the page has any WCAG A/AA violation."""
    found = violations(page)
    if found:
        lines = [f"{where or page.url}: {len(found)} WCAG A/AA violation(s)"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {json.dumps(n['target'], ensure_ascii=False)} {n['html'][:160]}" for n in v["nodes"][:5])
        pytest.fail("\n".join(lines))
