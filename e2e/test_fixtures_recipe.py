"""e2e/README.md's recipe, run as a QA team would: its example, and docs/qa.md's, in a folder of their own."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# The same on either database: CI runs it once (on SQLite), not again on PostgreSQL.
pytestmark = pytest.mark.database_independent

README = Path(__file__).resolve().parent / "README.md"
QA_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "qa.md"


def test_the_readme_recipe_runs_from_a_folder_of_its_own(tmp_path):
    text = README.read_text()
    assert "pip install -e '.[test]'" in text
    assert re.search(r"^\s+pytest -p e2e\.fixtures$", text, re.M)
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "test_example.py").write_text(example)
    # docs/qa.md's copy-and-run test too: goto("/") relative to base_url, an institution and its clock.
    guide = re.search(r"```python\n(.*?)```", QA_GUIDE.read_text(), re.S).group(1)
    assert 'goto("/")' in guide and "institution_clock" in guide
    (tmp_path / "test_first.py").write_text(guide)
    # Its own server and SQLite database: never the outer run's PostgreSQL database.
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEST_DATABASE_URL", "E2E_BASE_URL", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "e2e.fixtures", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout
