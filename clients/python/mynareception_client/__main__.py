"""`python -m mynareception_client watch`: today's consents, then every event as it arrives.

    python -m mynareception_client watch --base-url http://localhost:5000 \\
        --client-id demo-system --client-secret demo-system-secret

A client-credentials client with the scopes `consents` and `events` (the sandbox's `api_client`
and the demo's `demo-system` have them). Events come from the feed (polled every
`--poll-interval` seconds) and, with `--webhook-port` and `--webhook-secret`, from webhooks
too (register http://127.0.0.1:PORT/ in 「API連携」; each event prints once, whichever comes first).
`--no-feed` leaves the feed out (webhooks only). `--cursor-file` keeps the feed's position between runs; without it, watching starts at the end of
the feed. The client secret may come from MYNARECEPTION_CLIENT_SECRET instead of the command line.
Ctrl-C stops.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from mynareception_client.client import Client, today_jst
from mynareception_client.errors import ApiError, CursorExpired, MynaReceptionError
from mynareception_client.models import Consent, Event
from mynareception_client.webhooks import serve_webhooks


class Printer:
    """Prints consents and events, each event once (the feed and a webhook may both bring it)."""

    def __init__(self, api: Client, out: TextIO, *, as_json: bool) -> None:
        self.api, self.out, self.as_json = api, out, as_json
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def line(self, text: str, record: dict[str, Any]) -> None:
        print(json.dumps(record, ensure_ascii=False, default=str) if self.as_json else text, file=self.out, flush=True)

    def consent(self, consent: Consent, prefix: str = "  ") -> None:
        person = consent.person
        self.line(
            f"{prefix}{consent.id}  {person.name or '-'}（{person.kana or '-'}）  {consent.status}  "
            f"{','.join(consent.categories) or '-'}  閲覧期限 {consent.window_end.isoformat() if consent.window_end else '-'}",
            {"consent": {"id": consent.id, "name": person.name, "kana": person.kana, "status": consent.status,
                         "categories": consent.categories, "window_end": consent.window_end}})

    def event(self, event: Event, via: str) -> None:
        with self.lock:
            if event.id in self.seen:
                return
            self.seen.add(event.id)
        name = ""
        if event.consent_id and event.type.startswith(("consent.", "visit.", "relationship.")):
            try:
                name = self.api.consent(event.consent_id).person.name or ""
            except ApiError:
                name = ""  # a token without `consents`, or the consent is gone: the event still prints
        self.line(f"{event.id}  {event.occurred_at.isoformat()}  {event.type}  consent={event.consent_id or '-'}"
                  f"  {name}  {json.dumps(event.data, ensure_ascii=False)}  ({via})",
                  {"event": {"id": event.id, "type": event.type, "occurred_at": event.occurred_at,
                             "consent_id": event.consent_id, "patient_id": event.patient_id, "data": event.data,
                             "name": name or None}, "via": via})


def _end_of_feed(api: Client) -> str | None:
    """The cursor after the newest event (walks the feed without printing it)."""
    stream = api.iter_events(limit=1000)
    for _ in stream:
        pass
    return stream.cursor


def watch(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    secret = args.client_secret or os.environ.get("MYNARECEPTION_CLIENT_SECRET")
    if not secret:
        print("--client-secret (or MYNARECEPTION_CLIENT_SECRET) is required", file=sys.stderr)
        return 2
    cursor_file = Path(args.cursor_file) if args.cursor_file else None
    api = Client.client_credentials(args.base_url, args.client_id, secret)
    printer = Printer(api, out, as_json=args.json)
    with api:
        cursor = cursor_file.read_text().strip() if cursor_file and cursor_file.exists() else None
        if cursor is None and not args.no_feed:
            cursor = _end_of_feed(api)  # first the position, then the list: nothing falls between
        day = args.date or str(today_jst())
        consents = api.consents(day)
        printer.line(f"Consents of {day}: {len(consents)}", {"date": day, "count": len(consents)})
        for consent in consents:
            printer.consent(consent)
        hooks = None
        if args.webhook_port is not None:
            hooks = serve_webhooks(args.webhook_secret, lambda e: printer.event(e, "webhook"), port=args.webhook_port)
            printer.line(f"Webhooks: http://127.0.0.1:{hooks.server_port}/", {"webhooks": hooks.server_port})
        printer.line("Watching events (Ctrl-C stops)", {"watching": True})
        if args.no_feed:
            try:
                threading.Event().wait()  # webhooks only: their server's thread prints
            finally:
                hooks.shutdown()
        stream = api.iter_events(after=cursor, follow=True, poll_interval=args.poll_interval)
        try:
            for event in stream:
                printer.event(event, "feed")
                if cursor_file:
                    cursor_file.write_text(stream.cursor or "")
        except CursorExpired as expired:
            print(f"cursor_expired: {expired.advice}", file=sys.stderr)
            return 3
        finally:
            if hooks is not None:
                hooks.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mynareception_client",
                                     description="Tools of the mynareception API client.")
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("watch", help="print today's consents, then every event as it arrives",
                            description=__doc__.split("\n\n")[0])
    w.add_argument("--base-url", required=True, help="the service, e.g. http://localhost:5000")
    w.add_argument("--client-id", required=True)
    w.add_argument("--client-secret", help="or set MYNARECEPTION_CLIENT_SECRET")
    w.add_argument("--date", help="the consultation day to list (YYYY-MM-DD; default today in Japan)")
    w.add_argument("--cursor-file", help="keep the feed's position here between runs")
    w.add_argument("--poll-interval", type=float, default=5.0, help="seconds between feed polls (default 5)")
    w.add_argument("--webhook-port", type=int, help="also receive webhooks on 127.0.0.1:PORT (0: any free port)")
    w.add_argument("--webhook-secret", help="the endpoint's whsec_ secret (with --webhook-port)")
    w.add_argument("--no-feed", action="store_true", help="webhooks only: do not poll the feed")
    w.add_argument("--json", action="store_true", help="one JSON object a line")
    args = parser.parse_args(argv)
    if args.webhook_port is not None and not (args.webhook_secret or "").startswith("whsec_"):
        parser.error("--webhook-port needs --webhook-secret whsec_…")
    if args.no_feed and args.webhook_port is None:
        parser.error("--no-feed needs --webhook-port (events must come from somewhere)")
    try:
        return watch(args)
    except KeyboardInterrupt:
        return 0
    except MynaReceptionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
