"""A tiny client for the sandbox API (docs/qa.md, "The sandbox API"), for tests and scripts."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class SandboxError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sandbox answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path, data=data, method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, raw.decode(errors="replace")

    def _ok(self, method: str, path: str, body: dict | None = None) -> Any:
        status, data = self.request(method, path, body)
        if status >= 400:
            raise SandboxError(status, data)
        return data

    def institution(self, name: str | None = None, **fields: Any) -> dict:
        """A new institution. `fields`: the other keys of POST /sandbox/institutions, e.g.
        qualification_only=True, or prefecture="27" (大阪府; default "13" 東京都)."""
        return self._ok("POST", "/sandbox/institutions", {**fields, **({} if name is None else {"name": name})})

    def disaster(self, *, name: str, start: str, until: str, prefectures: list[str] | None = None,
                 institution_codes: list[str] | None = None) -> int:
        """Declare a disaster (災害時特別措置) over the prefectures and institutions; its id."""
        body: dict[str, Any] = {"name": name, "from": start, "until": until}
        if prefectures is not None:
            body["prefectures"] = prefectures
        if institution_codes is not None:
            body["institution_codes"] = institution_codes
        return self._ok("POST", "/sandbox/disasters", body)["disaster_id"]

    def change_institution(self, institution_code: str, **fields: Any) -> dict:
        """PATCH /sandbox/institutions/<code>: e.g. `functions={"home_visit": False}`."""
        return self._ok("PATCH", f"/sandbox/institutions/{institution_code}", fields)

    def patient(self, **fields: Any) -> dict:
        return self._ok("POST", "/sandbox/patients", fields)

    def card(self, person_id: str) -> dict:
        return self._ok("POST", "/sandbox/cards", {"person_id": person_id})

    def get_card(self, card_id: str) -> dict:
        """`{"card_id", "status", "sign_count"}`: the count the service last accepted."""
        return self._ok("GET", f"/sandbox/cards/{card_id}")

    def card_status(self, card_id: str, status: str) -> dict:
        return self._ok("POST", f"/sandbox/cards/{card_id}/status", {"status": status})

    def set_clock(self, iso_instant: str) -> dict:
        return self._ok("PUT", "/sandbox/clock", {"now": iso_instant})

    def reset_clock(self) -> dict:
        return self._ok("DELETE", "/sandbox/clock")
