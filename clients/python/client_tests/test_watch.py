"""`python -m mynareception_client watch`, the copy-and-run example: started for a sandbox pharmacy,
it prints the day's consents (none yet), then the consent a patient registers on a phone in real
Chromium, as it arrives through the feed; started again, it lists that consent among today's."""
from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from e2e.test_reception import register


@contextmanager
def watching(live_server, pharmacy):
    creds = pharmacy["api_client"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mynareception_client", "watch", "--base-url", live_server.url,
         "--client-id", creds["client_id"], "--client-secret", creds["client_secret"], "--poll-interval", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()

    def until(predicate, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        printed = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            printed.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"watch did not print it; it printed {printed}; stderr: "
                             f"{proc.stderr.read() if proc.poll() is not None else '(running)'}")
    try:
        yield until
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_watch_prints_a_consent_registered_on_a_phone(live_server, pharmacy, phone_page, nfc_card):
    name = nfc_card.person["name"]
    with watching(live_server, pharmacy) as printed:
        assert printed(lambda line: line.startswith("Consents of ")).endswith(": 0")
        printed(lambda line: line.startswith("Watching events"))

        register(phone_page, pharmacy)  # 「同意登録が完了しました」 on the phone

        line = printed(lambda line: "consent.registered" in line)
        assert name in line and "(feed)" in line
    assert phone_page.console.errors == []

    with watching(live_server, pharmacy) as printed:
        assert printed(lambda line: line.startswith("Consents of ")).endswith(": 1")
        listed = printed(lambda line: name in line)
        assert "active" in listed and "閲覧期限" in listed
