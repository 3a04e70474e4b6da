"""Smoke test of `make demo`: the walkthrough runs end to end and leaves real PNG screenshots."""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

# The same on either database: CI runs it once (on SQLite), not again on PostgreSQL.
pytestmark = pytest.mark.database_independent

ROOT = Path(__file__).resolve().parent.parent
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(path: Path) -> tuple[int, int, bytes]:
    """Check a PNG's structure (signature, chunk CRCs, IHDR, IEND); return width, height, pixel data."""
    data = path.read_bytes()
    assert data[:8] == SIGNATURE, f"{path} is not a PNG"
    pos, kinds, idat = 8, [], b""
    width = height = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"{path}: bad CRC in {kind!r}"
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND", f"{path}: truncated PNG"
    return width, height, zlib.decompress(idat)


def test_walkthrough_saves_numbered_screenshots(tmp_path):
    out, docs = tmp_path / "shots", tmp_path / "docs"
    env = {k: v for k, v in os.environ.items() if k != "E2E_BASE_URL"}
    run = subprocess.run([sys.executable, "-m", "e2e.walkthrough", "--out", str(out), "--docs-images", str(docs)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]

    printed = [Path(line) for line in run.stdout.splitlines() if line.endswith(".png")]
    shots = sorted(out.glob("*.png"))
    assert printed == shots, run.stdout
    assert len(shots) >= 12
    assert [int(p.name[:2]) for p in shots] == list(range(1, len(shots) + 1))
    for name in ("phone-registered", "console-patient", "console-refused-after-window", "phone-revoked",
                 "console-refused-after-revoke"):
        assert any(p.name[3:] == f"{name}.png" for p in shots), name

    for path in shots:
        assert path.stat().st_size > 2_000, f"{path} is suspiciously small"
        width, height, pixels = read_png(path)
        assert 300 <= width <= 2000 and 300 <= height <= 4000, (path, width, height)
        assert len(set(pixels[:200_000])) > 16, f"{path} looks blank"

    readme_images = sorted(docs.glob("*.png"))
    assert len(readme_images) >= 3
    for path in readme_images:
        width, height, pixels = read_png(path)
        # Readable in a README column, and not a full-page dump.
        assert 320 <= width <= 1400 and 300 <= height <= 2400, (path, width, height)
        assert len(set(pixels[:200_000])) > 16, f"{path} looks blank"
        # Compressed like a screenshot of a page (text with or without Japanese fonts stays well
        # under half a byte a pixel; a photo-like or uncompressed image would not).
        assert path.stat().st_size <= width * height // 2, f"{path} is poorly compressed for the README"
