"""The pharmacist's review before 服薬指導 in real Chromium (issue 33): 「確認事項」 for the demo
patients the README names, the page's height, the checkup charts, the printed PDF, and the list a
busy counter keeps open (a badge for a reception made elsewhere, search by half-width kana,
「更新が止まりました」), and one-click 「再照会」 on 「訪問患者」."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.fixtures import ROOT, TEST_HASHING_ENV, run_live_server
from e2e.test_reception import register

DEMO_PHARMACIST = {"login_id": "demo-pharmacist", "password": "demo-pharmacist-pass"}
MAX_HEIGHT = 6000  # px at 1280x800 (issue 33)
MAX_PDF_PAGES = 4


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A server of its own with the demo data (`flask demo load`), as after `make run`."""
    from e2e.databases import derived_postgres_url, reset_postgres_database

    tmp = tmp_path_factory.mktemp("demo")
    pg = os.environ.get("TEST_DATABASE_URL")
    database_url = derived_postgres_url(pg, "e2e_demo") if pg else f"sqlite:///{tmp / 'demo.db'}"
    if pg:
        reset_postgres_database(database_url)
    from store.migrate import upgrade

    upgrade(database_url)
    env = {**os.environ, **TEST_HASHING_ENV, "APP_ENV": "sandbox", "DATABASE_URL": database_url,
           "SECRET_KEY": "e2e-" + "s" * 60}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo", "load"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    with run_live_server(tmp, database_url, extra_env=TEST_HASHING_ENV) as server:
        yield server


def _signed_in(context):
    page = context.new_page()
    page.goto("/pharmacy/login")
    page.get_by_label("ログインID").fill(DEMO_PHARMACIST["login_id"])
    page.get_by_label("パスワード").fill(DEMO_PHARMACIST["password"])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_role("heading", name="同意取得済み患者一覧").wait_for()
    return page


@pytest.fixture
def demo_console(browser, demo_server):
    """The demo pharmacist's console at 1280x800."""
    context = browser.new_context(base_url=demo_server.url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                  viewport={"width": 1280, "height": 800})
    yield _signed_in(context)
    context.close()


def open_patient(page, name: str):
    page.goto("/pharmacy/")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def review_lines(page) -> list[str]:
    box = page.locator("section", has=page.get_by_role("heading", name="確認事項", exact=True))
    return box.locator("li").all_inner_texts()


def test_the_review_is_first_and_names_metformin_for_suzuki(demo_console):
    page = demo_console
    open_patient(page, "鈴木　一郎")
    first = page.locator("main section").first
    expect(first.get_by_role("heading", level=2)).to_have_text("確認事項")
    renal = [line for line in review_lines(page) if line.startswith("腎機能：")]
    assert renal and "メトホルミン" in renal[0] and "eGFR 45" in renal[0], renal
    expect(first).to_contain_text("判断に代わるものではありません")
    # 「現在の薬」 comes next, and lists metformin.
    current = page.locator("main section").nth(1)
    expect(current.get_by_role("heading", level=2)).to_have_text("現在の薬")
    expect(current).to_contain_text("メトホルミン")
    expect(page.locator("main")).to_contain_text("1954年2月1日（昭和29年）")


def test_the_allergy_cross_check_names_celecoxib_for_watanabe(demo_console):
    page = demo_console
    open_patient(page, "渡辺　幸子")
    allergy = [line for line in review_lines(page) if line.startswith("アレルギー：")]
    assert allergy and "セレコキシブ" in allergy[0] and "スルホンアミド" in allergy[0], allergy


def test_a_duplicate_hypnotic_from_two_prescribers_is_marked_for_takahashi(demo_console):
    page = demo_console
    open_patient(page, "高橋　文子")
    duplicate = [line for line in review_lines(page) if line.startswith("重複：")]
    assert duplicate, review_lines(page)
    assert "ブロチゾラム" in duplicate[0] and "ゾルピデム" in duplicate[0] and "別の処方元" in duplicate[0]
    many = [line for line in review_lines(page) if line.startswith("多剤：")]
    assert many and "9剤" in many[0]


def _heights(page) -> dict[str, int]:
    page.goto("/pharmacy/")
    names = page.locator("#patient-rows a").all_inner_texts()
    heights = {}
    for name in names:
        open_patient(page, name)
        page.wait_for_load_state("load")  # the stylesheet applied: measured as the pharmacist sees it
        heights[name] = page.evaluate("document.documentElement.scrollHeight")
    return heights


def test_every_demo_patients_page_is_under_6000px_at_1280x800(demo_console):
    heights = _heights(demo_console)
    assert len(heights) >= 9 and max(heights.values()) < MAX_HEIGHT, heights


def test_under_6000px_without_japanese_fonts_too(playwright, demo_server, tmp_path):
    """Chromium with a fontconfig that knows DejaVu only (no IPA font): Japanese text falls back
    to boxes of about the same width, so lines wrap as they do with the font installed."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    "<dir>/usr/share/fonts/truetype/dejavu</dir>"
                    f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    from e2e.chromium import CHROMIUM

    # This fontconfig offers no Japanese font (what Chromium falls back to is DejaVu).
    matched = subprocess.run(["fc-match", ":lang=ja", "family"], env={**os.environ, "FONTCONFIG_FILE": str(conf)},
                             capture_output=True, text=True, check=True).stdout
    assert "DejaVu" in matched and "IPA" not in matched, matched

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"],
                                         env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    try:
        context = browser.new_context(base_url=demo_server.url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                      viewport={"width": 1280, "height": 800})
        page = _signed_in(context)
        heights = _heights(page)
        assert max(heights.values()) < MAX_HEIGHT, heights
    finally:
        browser.close()


def _iso(japanese: str) -> str:
    y, m, d = (int(x) for x in re.match(r"(\d+)年(\d+)月(\d+)日", japanese).groups())
    return f"{y:04d}-{m:02d}-{d:02d}"


CHECKUP_TABLE_AND_CHARTS = """() => {
  const section = [...document.querySelectorAll("section")].find(
      s => s.querySelector("h2") && s.querySelector("h2").textContent.trim() === "特定健診情報");
  const table = section.querySelector("table");
  const years = [...table.querySelectorAll("thead th")].slice(1).map(th => th.textContent.trim());
  const rows = {};
  for (const tr of table.querySelectorAll("tbody tr")) {
    const cells = [...tr.querySelectorAll("td")];
    rows[tr.querySelector("th").textContent.trim()] = cells.map(td => ({
      value: td.textContent.trim(), abnormal: td.classList.contains("abnormal")}));
  }
  const charts = [...section.querySelectorAll("figure.chart-box")].map(f => ({
    title: f.querySelector("figcaption").textContent.trim(),
    label: f.querySelector("svg").getAttribute("aria-label"),
    points: [...f.querySelectorAll("circle.point")].map(c => ({
      day: c.dataset.day, abnormal: c.dataset.abnormal === "true"}))}));
  return {years, rows, charts};
}"""


def test_each_checkup_chart_has_one_point_per_year_with_the_abnormal_one_marked(demo_console):
    page = demo_console
    open_patient(page, "鈴木　一郎")
    found = page.evaluate(CHECKUP_TABLE_AND_CHARTS)
    assert found["charts"] and len(found["years"]) >= 2
    one_abnormal = 0
    for chart in found["charts"]:
        cells = found["rows"][chart["title"]]  # the table's row for the same measure and unit
        # The table's columns are checkup days, newest first: each numeric value is one point.
        numeric = {_iso(year): cell for year, cell in zip(found["years"], cells) if re.match(r"^[\d.]+", cell["value"])}
        assert [p["day"] for p in chart["points"]] == sorted(numeric), chart["title"]
        assert [p["abnormal"] for p in chart["points"]] == [numeric[d]["abnormal"] for d in sorted(numeric)], \
            chart["title"]
        assert chart["label"].startswith(chart["title"])  # the text alternative
        one_abnormal += sum(p["abnormal"] for p in chart["points"]) == 1
    assert one_abnormal, "no chart with exactly one abnormal point to check"


def test_the_printed_pdf_of_the_busiest_patient_has_at_most_4_pages(demo_console):
    page = demo_console
    open_patient(page, "高橋　文子")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="印刷用").click()
    printed = opened.value
    printed.wait_for_load_state()
    expect(printed.get_by_role("heading", name="確認事項", exact=True)).to_be_visible()
    expect(printed.locator(".print-footer")).to_contain_text("閲覧者：薬剤師 デモ")
    pdf = printed.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= MAX_PDF_PAGES, pages


def test_search_finds_a_patient_by_half_width_kana(demo_console):
    page = demo_console
    page.get_by_label("氏名・カナで検索").fill("ｽｽﾞｷ")
    rows = page.locator("#patient-rows tr[data-id]:visible")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("鈴木　一郎")
    page.get_by_label("氏名・カナで検索").fill("たかはし")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("高橋　文子")
    page.get_by_label("氏名・カナで検索").fill("")
    expect(rows).to_have_count(page.locator("#patient-rows tr[data-id]").count())


def test_a_rows_reinquiry_answers_without_typing(demo_console):
    page = demo_console
    page.goto("/pharmacy/home-visits")
    row = page.locator("#home-visit-list tbody tr").first
    name = row.locator("a").first.inner_text()
    row.get_by_role("button", name="再照会").click()
    expect(page.get_by_role("heading", name="再照会の結果")).to_be_visible()
    expect(page.locator("main")).to_contain_text(name)
    expect(page.locator("main")).to_contain_text("有効")


def test_the_badge_counts_a_reception_made_in_another_context(phone_page, nfc_card, pharmacy, signed_in_pharmacist):
    console = signed_in_pharmacist
    badge = console.locator("#new-badge")
    expect(badge).to_be_hidden()
    register(phone_page, pharmacy)
    expect(badge).to_have_text("新しい受付 1件", timeout=15_000)
    expect(console).to_have_title(re.compile(r"^（新着1）"))
    expect(console.get_by_role("link", name=nfc_card.person["name"])).to_be_visible()
    assert console.console.errors == []


def test_the_list_says_when_updating_stopped_and_why(signed_in_pharmacist):
    console = signed_in_pharmacist
    status = console.locator("#list-status")
    expect(status).to_contain_text("自動で更新されます")
    console.route("**/pharmacy/patients-fragment*", lambda route: route.fulfill(status=503, body="down"))
    expect(status).to_contain_text("更新が止まりました", timeout=15_000)
    expect(status).to_contain_text("503")
    console.unroute("**/pharmacy/patients-fragment*")
    expect(status).to_contain_text("自動で更新されます", timeout=15_000)
