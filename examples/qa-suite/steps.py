"""What a patient and a pharmacist do, step by step, shared by the sample tests."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from playwright.sync_api import expect


def window_end(day: date, zone) -> datetime:
    """A consent for 診療日 `day` may be read until the next day ends (00:00 JST the day after)."""
    return datetime.combine(day + timedelta(days=2), time(0), tzinfo=zone)


def deadline_text(day: date) -> str:
    """The 閲覧期限 as the done page writes it."""
    nxt = day + timedelta(days=1)
    return f"{nxt.year}年{nxt.month}月{nxt.day}日 23:59まで"


def register_from_top(page, *, date_asked: bool = True) -> None:
    """「同意登録をする」 → 「すべて同意する」 → 「読み取り開始」 → 「同意登録が完了しました」."""
    page.get_by_role("link", name="同意登録をする").click()
    if not date_asked:  # the institution's tablet does not ask for the 診療日 (today)
        expect(page.get_by_label("診療日")).to_have_count(0)
    page.get_by_role("button", name="すべて同意する").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意登録が完了しました")).to_be_visible(timeout=15_000)


def register(page, institution: dict) -> None:
    """The patient consents to every category on their phone, for today."""
    page.goto(institution["reception_url"])
    register_from_top(page)


def open_review(page, institution: dict) -> None:
    """「同意照会・更新」 with the card."""
    page.goto(institution["reception_url"])
    page.get_by_role("link", name="同意照会・更新").click()
    page.get_by_role("button", name="読み取り開始").click()
    expect(page.get_by_role("heading", name="同意の内容")).to_be_visible(timeout=15_000)


def revoke_all(page, institution: dict) -> None:
    page.goto(institution["reception_url"])
    page.get_by_role("link", name="すべての同意を取消す").click()
    page.get_by_role("button", name="読み取り開始").click()
    page.get_by_role("button", name="取り消す").click()
    expect(page.get_by_role("heading", name="同意を取り消しました")).to_be_visible()


def reinquire(console, person: dict) -> None:
    """「訪問患者」 → 「再照会」 with the insurance keys and the birth date (no card at the patient's home)."""
    console.goto("/pharmacy/home-visits")
    console.get_by_label("保険者番号").fill(person["insurer_number"])
    console.get_by_label("記号").fill(person["symbol"] or "")
    console.get_by_label("番号", exact=True).fill(person["number"])
    console.get_by_label("枝番").fill(person["branch"] or "")
    console.get_by_label("生年月日").fill(person["birth_date"])
    console.get_by_role("button", name="再照会", exact=True).click()
    console.get_by_role("heading", name="再照会の結果").wait_for()


def call_api(base_url: str, method: str, path: str, *, headers: dict | None = None,
             form: dict | None = None, auth: tuple[str, str] | None = None) -> tuple[int, dict]:
    """One request to the pharmacy-system API: (status, JSON body)."""
    headers = dict(headers or {})
    if auth is not None:
        import base64

        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
