"""Where the service keeps its files and, unless told otherwise, its database.

Below everything else (the web layer's settings and the migrations both ask it), so it reads the
environment itself: INSTANCE_DIR for the folder, DATABASE_URL for the database.
"""
from __future__ import annotations

import os
from pathlib import Path


def instance_dir() -> Path:
    """INSTANCE_DIR (default ./instance, from the working directory): generated secrets and the
    SQLite file. Never beside the code: an installed package must not write into site-packages."""
    return Path(os.environ.get("INSTANCE_DIR") or "instance").resolve()


def default_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    folder = instance_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'app.db'}"
