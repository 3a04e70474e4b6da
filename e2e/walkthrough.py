"""`make demo`: a scripted walkthrough of the service in real Chromium, with screenshots.

    python -m e2e.walkthrough [--out DIR] [--docs-images DIR]

It starts its own server (gunicorn, sandbox mode, a fresh temporary SQLite database, the same code
as the e2e `live_server` fixture), then, with a seeded sandbox patient and a virtual NFC card:

1. on a phone-sized page, the patient registers a consent (同意登録をする → すべて同意する →
   読み取り開始 → 同意登録が完了しました);
2. on a desktop page, the pharmacist reads the data (the patient list, 資格情報, 薬剤情報, 特定健診情報);
3. with the sandbox clock moved past the window's end, the console refuses (then real time again);
4. the patient revokes every consent (すべての同意を取消す → 読み取り開始 → 取り消す), and the
   console refuses again.

Numbered PNG screenshots go into DIR (default `demo-screenshots/`; earlier `NN-*.png` there are
removed first) and their paths are printed. `--docs-images` also copies the few that illustrate the
README, recompressed losslessly. The exit status is 1 when a step fails (its screenshot is saved as
`NN-FAILED-<step>.png` when the page allows), 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from consent.clock import JST
from e2e.fixtures import CHROMIUM, PHONE, ConsoleWatch, run_live_server, sign_in_staff
from e2e.sandbox_client import SandboxClient
from e2e.virtual_card import install_card

DEFAULT_OUT = "demo-screenshots"
PHARMACY_NAME = "みなと薬局 駅前店"
# 58 years old (in the 特定健診 age range), valid insurance; seed 39 gives checkups, years of drugs,
# and 「確認事項」 with something to say (腎機能 and 多剤).
PATIENT = {"birth_date": "1968-05-20", "validity": 1, "seed": 39}
# Screenshots that illustrate the README (copied by --docs-images under these names).
DOCS_IMAGES = {
    "phone-registered": "reception-registered.png",
    "console-review": "console-review.png",
    "console-review-phone": "console-review-phone.png",
    "console-drugs": "console-drugs.png",
    "console-checkups": "console-checkups.png",
    "console-refused-after-window": "console-refused.png",
}
TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 900}


class StepFailed(Exception):
    pass


class Walkthrough:
    """Runs named steps in order; each one may save a numbered screenshot."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.number = 0
        self.saved: list[Path] = []
        self.step_name = ""
        self.pages: dict = {}  # label -> page, for the failure screenshots and console errors

    def path_for(self, name: str) -> Path:
        self.number += 1
        return self.out / f"{self.number:02d}-{name}.png"

    def shot(self, page, name: str, *, full_page: bool = False, region=None, max_height: int | None = None) -> Path:
        """Save the viewport (or the whole page), or `region` = (first, last) locator: the page's
        column from the top of `first` to the bottom of `last`, at most `max_height` pixels."""
        path = self.path_for(name)
        if region is not None:
            clip = column_clip(page, *region)
            if max_height:
                clip["height"] = min(clip["height"], max_height)
            page.screenshot(path=str(path), full_page=True, clip=clip)
        else:
            page.screenshot(path=str(path), full_page=full_page)
        self.saved.append(path)
        print(path, flush=True)
        return path

    def step(self, name: str):
        self.step_name = name
        print(f"-- {name}", flush=True)


def column_clip(page, first, last, pad: int = 16) -> dict:
    """The page's main column (its own side padding included), from `first`'s top to `last`'s bottom."""
    main = page.locator("main").bounding_box()
    top, bottom = first.bounding_box(), last.bounding_box()
    scroll_y = page.evaluate("window.scrollY")
    y = max(0, top["y"] + scroll_y - pad)
    return {"x": main["x"], "y": y, "width": main["width"],
            "height": bottom["y"] + scroll_y + bottom["height"] + pad - y}


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    return expect


def run(out: Path, base_url: str) -> list[Path]:
    """Drive the walkthrough against the sandbox server at `base_url`; return the screenshots."""
    from playwright.sync_api import sync_playwright

    expect = _expect()
    sandbox = SandboxClient(base_url)
    demo = Walkthrough(out)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
        try:
            _scenario(demo, pw, browser, sandbox, base_url, expect)
        except Exception as exc:
            for label, page in demo.pages.items():
                failed = out / f"{demo.number + 1:02d}-FAILED-{label}.png"
                try:
                    page.screenshot(path=str(failed))
                    print(failed, flush=True)
                except Exception:  # the page may be gone; the step's error is what matters
                    pass
            raise StepFailed(f"step {demo.step_name!r} failed: {exc}") from exc
        finally:
            try:
                sandbox.reset_clock()
            except Exception:
                pass
            browser.close()
    return demo.saved


def _scenario(demo: Walkthrough, pw, browser, sandbox: SandboxClient, base_url: str, expect) -> None:
    demo.step("sandbox pharmacy, patient and card")
    pharmacy = sandbox.institution(PHARMACY_NAME)
    person = sandbox.patient(**PATIENT)
    card = sandbox.card(person["person_id"])
    name = person["name"]
    pharmacist = next(s for s in pharmacy["staff"] if s["role"] == "pharmacist")

    # A Pixel 7-sized page at device scale 1, so the screenshots stay small.
    device = dict(pw.devices[PHONE])
    device.pop("default_browser_type", None)
    device["device_scale_factor"] = 1
    phone_context = browser.new_context(**device, base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
    phone = demo.pages["phone"] = phone_context.new_page()
    phone.console = ConsoleWatch(phone)
    phone.set_default_timeout(TIMEOUT_MS)
    virtual = install_card(phone, card, person=person)

    demo.step("patient: reception top page")
    phone.goto(pharmacy["reception_url"])
    expect(phone.get_by_role("heading", level=1)).to_have_text(PHARMACY_NAME)
    demo.shot(phone, "phone-top")

    demo.step("patient: 同意登録をする")
    phone.get_by_role("link", name="同意登録をする").click()
    expect(phone.get_by_label("診療日")).to_be_visible()
    demo.shot(phone, "phone-consent-choice", full_page=True)

    demo.step("patient: すべて同意する")
    phone.get_by_role("button", name="すべて同意する").click()
    expect(phone.get_by_role("button", name="読み取り開始")).to_be_visible()
    demo.shot(phone, "phone-confirm")

    demo.step("patient: 読み取り開始 (virtual NFC card)")
    phone.get_by_role("button", name="読み取り開始").click()
    expect(phone.get_by_role("heading", name="同意登録が完了しました")).to_be_visible()
    expect(phone.locator("main")).to_contain_text(f"{name} 様のカードで登録しました")
    demo.shot(phone, "phone-registered")

    demo.step("pharmacist: sign in, patient list")
    desktop_context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                          viewport=DESKTOP)
    console = demo.pages["console"] = desktop_context.new_page()
    console.console = ConsoleWatch(console)
    console.set_default_timeout(TIMEOUT_MS)
    sign_in_staff(console, pharmacist)
    expect(console.get_by_role("link", name=name)).to_be_visible()
    demo.shot(console, "console-list")

    demo.step("pharmacist: patient page (資格情報, 薬剤情報, 特定健診情報)")
    console.get_by_role("link", name=name).click()
    expect(console.get_by_role("heading", level=1)).to_contain_text(name)
    for heading in ("資格情報", "限度額", "薬剤情報", "特定健診情報"):
        expect(console.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(console.locator("main")).not_to_contain_text("閲覧できません")
    patient_url = console.url
    demo.shot(console, "console-patient")
    review = console.locator("section", has=console.get_by_role("heading", name="確認事項", exact=True))
    current = console.locator("section", has=console.get_by_role("heading", name="現在の薬", exact=True))
    expect(review).to_be_visible()
    demo.shot(console, "console-review", region=(console.locator("h1"), current), max_height=DESKTOP["height"])
    drugs = console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))
    expect(drugs.locator(".dispensing").first).to_be_visible()
    demo.shot(console, "console-drugs", region=(drugs, drugs), max_height=720)
    checkups = console.locator("section", has=console.get_by_role("heading", name="特定健診情報", exact=True))
    expect(checkups.locator("table")).to_be_visible()
    demo.shot(console, "console-checkups", region=(checkups, checkups), max_height=DESKTOP["height"])

    demo.step("pharmacist on a phone: 確認事項 and 現在の薬 at 390 px")
    narrow_context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                         viewport={"width": 390, "height": 844}, device_scale_factor=1)
    narrow = demo.pages["console-phone"] = narrow_context.new_page()
    narrow.console = ConsoleWatch(narrow)
    narrow.set_default_timeout(TIMEOUT_MS)
    sign_in_staff(narrow, pharmacist)
    narrow.goto(patient_url)
    expect(narrow.get_by_role("heading", name="確認事項", exact=True)).to_be_visible()
    demo.shot(narrow, "console-review-phone")

    demo.step("sandbox clock past the window's end: the console refuses")
    today = datetime.now(timezone.utc).astimezone(JST).date()
    nxt = today + timedelta(days=1)
    window_over = datetime.combine(today + timedelta(days=2), datetime.min.time(), JST)
    sandbox.set_clock(window_over.isoformat())
    try:
        console.goto(patient_url)
        expect(console.locator("main")).to_contain_text(
            f"閲覧できません：薬剤・処方の同意有効期限切れ（{nxt.year}年{nxt.month}月{nxt.day}日 23:59まで）")
        refused = console.locator("section", has=console.get_by_role("heading", name="薬剤情報", exact=True))
        demo.shot(console, "console-refused-after-window", region=(console.locator("h1"), refused))
    finally:
        sandbox.reset_clock()

    demo.step("patient: すべての同意を取消す")
    phone.goto(pharmacy["reception_url"])
    phone.get_by_role("link", name="すべての同意を取消す").click()
    expect(phone.get_by_role("button", name="読み取り開始")).to_be_visible()
    demo.shot(phone, "phone-revoke-start")
    phone.get_by_role("button", name="読み取り開始").click()
    expect(phone.get_by_role("button", name="取り消す")).to_be_visible()
    demo.shot(phone, "phone-revoke-confirm", full_page=True)

    demo.step("patient: 取り消す")
    phone.get_by_role("button", name="取り消す").click()
    expect(phone.get_by_role("heading", name="同意を取り消しました")).to_be_visible()
    demo.shot(phone, "phone-revoked")

    demo.step("pharmacist: refused after the revoke")
    console.goto(patient_url)
    expect(console.locator("main")).to_contain_text("閲覧できません：薬剤・処方の同意が取り消されました")
    demo.shot(console, "console-refused-after-revoke", region=(console.locator("h1"), drugs))

    demo.step("no console errors in the pages")
    errors = [f"{label}: {e}" for label, page in demo.pages.items() for e in page.console.errors]
    if errors:
        raise AssertionError("console errors:\n" + "\n".join(errors))
    virtual.remove()
    phone_context.close()
    desktop_context.close()
    narrow_context.close()


def recompress_png(src: Path, dest: Path) -> None:
    """Copy a PNG, deflating its image data again at level 9 (lossless; Chromium favours speed)."""
    data = src.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{src} is not a PNG")
    chunks, idat, pos = [], bytearray(), 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IDAT":
            if not idat:
                chunks.append((b"IDAT", None))
            idat += body
        else:
            chunks.append((kind, body))
    packed = zlib.compress(zlib.decompress(bytes(idat)), 9)
    out = bytearray(data[:8])
    for kind, body in chunks:
        if kind == b"IDAT":
            body = packed
        out += struct.pack(">I", len(body)) + kind + body
        out += struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    dest.write_bytes(bytes(out))


def copy_docs_images(saved: list[Path], docs: Path) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    by_name = {p.stem.split("-", 1)[1]: p for p in saved}
    copied = []
    for shot, target in DOCS_IMAGES.items():
        if shot not in by_name:
            raise StepFailed(f"screenshot {shot} for the README is missing")
        recompress_png(by_name[shot], docs / target)
        copied.append(docs / target)
    return copied


def has_japanese_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m e2e.walkthrough",
        description="Scripted walkthrough in real Chromium (patient on a phone, pharmacist console, "
                    "refusals); saves numbered PNG screenshots.")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"folder for the screenshots (default {DEFAULT_OUT}/)")
    parser.add_argument("--docs-images", metavar="DIR",
                        help="also copy the README's screenshots there (make demo: docs/images)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (make chromium installs Debian's; or set CHROMIUM_PATH)",
              file=sys.stderr)
        return 1

    if not has_japanese_font():
        print("warning: no Japanese font (fc-list :lang=ja is empty): the screenshots will show boxes; "
              "make demo installs fonts-ipafont-gothic", file=sys.stderr)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("[0-9][0-9]-*.png"):
        old.unlink()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as tmp:
        try:
            with run_live_server(Path(tmp)) as server:
                print(f"Server (sandbox mode, fresh SQLite database) at {server.url}", flush=True)
                saved = run(out, server.url)
        except (StepFailed, RuntimeError) as exc:
            print(f"walkthrough FAILED: {exc}", file=sys.stderr)
            log = Path(tmp) / "server.log"
            if log.exists():
                print("--- server log (tail) ---\n" + log.read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
    try:
        copied = copy_docs_images(saved, Path(args.docs_images)) if args.docs_images else []
    except (StepFailed, ValueError) as exc:
        print(f"walkthrough FAILED: {exc}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    print(f"{len(saved)} screenshots in {out}/ ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
