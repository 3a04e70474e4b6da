"""The web side of the review before 服薬指導 (issue 33): the history's period, the charts, the
print view, the list's search key and sort, and birth dates with 和暦."""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest

from consent.medication_review.dispensing import Dispensing
from web.console.charts import Chart, Point, checkup_charts, lab_charts, parse_reference, range_text, render_svg
from web.console.patient_list import list_sort, search_key, sort_rows
from web.console.review import history_months, months_before, shown_dispensings

from conftest import TODAY
from console_support import EVERYTHING, find_person, login, warned
from test_console_clinical import console, review, section  # noqa: F401 - the fixture and helpers


# --- the history's period ----------------------------------------------------------------------

@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 11, 23), 6, date(2026, 5, 23)),
    (date(2026, 8, 31), 6, date(2026, 2, 28)),  # no 31st in February: its last day
    (date(2028, 8, 31), 6, date(2028, 2, 29)),
    (date(2026, 3, 15), 36, date(2023, 3, 15)),
    (date(2026, 1, 10), 1, date(2025, 12, 10)),
])
def test_months_before(day, months, expected):
    assert months_before(day, months) == expected


@pytest.mark.parametrize(("raw", "months"), [
    (None, 6), ("", 6), ("6", 6), ("12", 12), ("36", 36), ("42", 6), ("0", 6), ("7", 6), ("-6", 6), ("１２", 6),
    ("12a", 6), ("999", 6),
])
def test_history_months_takes_multiples_of_six_up_to_three_years(raw, months):
    assert history_months(raw) == months


def _dispensing(day: date) -> Dispensing:
    return Dispensing(dispensing_id=day.isoformat(), day=day, pharmacy="本町薬局", prescriber="本町医院", drugs=())


def test_shown_dispensings_at_the_period_boundary_and_by_month_filter():
    today = date(2026, 11, 23)
    days = [date(2026, 11, 1), date(2026, 5, 23), date(2026, 5, 22), date(2025, 1, 5)]
    history = [_dispensing(d) for d in days]
    # Six months back from 11/23 is 5/23: that day is in, the day before is out.
    assert [d.day for d in shown_dispensings(history, today=today, months=6)] == days[:2]
    assert [d.day for d in shown_dispensings(history, today=today, months=36)] == days
    # The month filter: months inclusive, whatever the period.
    assert [d.day for d in shown_dispensings(history, today=today, months=6, drug_from="202605",
                                             drug_to="202605")] == days[1:3]
    assert [d.day for d in shown_dispensings(history, today=today, months=6, drug_to="202501")] == days[3:]


# --- charts -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "bounds"), [
    ("5.6未満", (None, 5.6)), ("60以上", (60.0, None)), ("0.65〜1.07", (0.65, 1.07)), ("", (None, None)),
    ("（−）", (None, None)), (None, (None, None)), ("120以下", (None, 120.0)),
])
def test_parse_reference(text, bounds):
    assert parse_reference(text) == bounds


def test_range_text():
    assert range_text(None, 5.6) == "5.6未満" and range_text(60, None) == "60以上"
    assert range_text(0.65, 1.07) == "0.65〜1.07" and range_text(None, None) == "なし"


def _item(code, value, abnormal, unit="%", reference="5.6未満", name="HbA1c（NGSP）"):
    return SimpleNamespace(code=code, name=name, value=value, unit=unit, reference=reference, abnormal=abnormal)


def _checkup(day, *items):
    return SimpleNamespace(examined_on=day, items=items)


def test_a_checkup_chart_has_one_point_per_year_on_a_time_axis_with_the_abnormal_one_marked():
    records = [_checkup(date(2025, 6, 1), _item("hba1c", 6.8, True)),
               _checkup(date(2023, 6, 1), _item("hba1c", 5.4, False)),
               _checkup(date(2024, 9, 1), _item("hba1c", 5.5, False), _item("urine_protein", "（−）", False))]
    [chart] = checkup_charts(records)
    svg = str(chart.svg)
    points = re.findall(r'<circle class="point[^"]*" cx="([\d.]+)"[^>]*data-day="([\d-]+)"', svg)
    assert [day for _, day in points] == ["2023-06-01", "2024-09-01", "2025-06-01"]
    xs = [float(x) for x, _ in points]
    # A real time axis: 15 months then 9 months apart, not evenly spaced.
    assert abs((xs[1] - xs[0]) / (xs[2] - xs[1]) - 458 / 273) < 0.01
    assert svg.count('data-abnormal="true"') == 1 and 'data-day="2025-06-01" data-value="6.8" data-abnormal="true"' in svg
    assert '<rect class="range"' in svg  # the reference range shaded
    assert "2025年6月1日 6.8（範囲外）" in chart.text and "基準範囲 5.6未満" in chart.text
    assert f'aria-label="{chart.text}"' in svg and 'role="img"' in svg
    assert chart.title == "HbA1c（NGSP）（%）"


def test_units_come_from_the_vocabulary_not_the_source():
    [chart] = checkup_charts([_checkup(date(2025, 6, 1), _item("egfr", 55, True, "mL/分/1.73m2", "60以上", "eGFR"))])
    assert chart.unit == "mL/分/1.73m²"
    labs = [SimpleNamespace(code="eGFR", name="eGFR", value=45.0, unit="mL/min/1.73m2", low=60.0, high=None,
                            flag="L", tested_on=date(2026, 9, 1))]
    [chart] = lab_charts(labs)
    assert chart.title == "eGFR（mL/分/1.73m²）" and "mL/min" not in str(chart.svg)


def test_a_single_point_chart_and_text_are_escaped():
    chart = Chart("x", "<b>", "", "検査", (Point(date(2026, 1, 1), 3.0, False),), None, None)
    svg = render_svg(chart)
    assert "<b>" not in svg and "&lt;b&gt;" in svg and svg.count("<circle") == 1
    assert '<rect class="range"' not in svg


def test_the_time_axis_labels_years_and_on_a_short_span_months_too():
    from web.console.charts import x_ticks

    def texts(first, last):
        return [text for _, text in x_ticks(first, last)]

    assert texts(date(2023, 12, 19), date(2026, 6, 1)) == ["2024", "2025", "2026"]
    assert texts(date(2020, 1, 2), date(2026, 12, 1)) == ["2021", "2023", "2025"]
    # Labs of ten months: the year and the quarters, not 「2026」 alone.
    assert texts(date(2025, 12, 10), date(2026, 10, 18)) == ["2026", "4月", "7月", "10月"]
    # Three months: each month start (the boundary itself counts).
    assert texts(date(2026, 5, 20), date(2026, 8, 1)) == ["6月", "7月", "8月"]


# --- the list ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["ｽｽﾞｷ", "すずき", "スズキ", "ｽｽﾞｷ ｲﾁﾛｳ", "鈴木", "鈴木　一郎", "ＳＵＺ"])
def test_what_is_typed_and_the_row_meet_in_one_form(typed):
    row = search_key("鈴木　一郎", "スズキ　イチロウ") + search_key("SUZUKI")
    assert search_key(typed) in row


def test_sort_by_kana_or_time():
    rows = [{"kana": "ヤマダ　タロウ", "consented_at": 1}, {"kana": "イトウ　タダシ", "consented_at": 2},
            {"kana": "ｱｵｷ", "consented_at": 3}]
    assert [r["consented_at"] for r in sort_rows(rows, "kana")] == [3, 2, 1]
    assert [r["consented_at"] for r in sort_rows(rows, "time")] == [1, 2, 3]
    assert list_sort("kana") == "kana" and list_sort("name; drop") == "time" and list_sort(None) == "time"


def test_the_list_has_the_search_field_and_distinct_columns(console):  # noqa: F811
    app, ids = console
    client, _ = login(app, "pharmacist")
    html = client.get(f"/pharmacy/?date={TODAY.isoformat()}").get_data(as_text=True)
    assert '<label for="patient-search">氏名・カナで検索</label>' in html
    assert "<th>資格（受付時）</th><th>同意</th>" in html
    assert "<td>同意あり</td>" in html
    assert re.search(r'data-search="[^"]*[ァ-ヶ]', html)
    by_kana = client.get(f"/pharmacy/?date={TODAY.isoformat()}&sort=kana")
    assert by_kana.status_code == 200
    fragment = client.get(f"/pharmacy/patients-fragment?date={TODAY.isoformat()}&sort=kana")
    assert fragment.status_code == 200 and "data-id=" in fragment.get_data(as_text=True)


# --- the patient page and its print view --------------------------------------------------------

def test_more_history_and_the_month_filter(console):  # noqa: F811
    app, ids = console
    client, _ = login(app, "pharmacist")
    page = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    more = re.search(r'href="([^"]*months=12[^"]*)"[^>]*>さらに表示', page)
    assert more
    longer = section(client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True), "薬剤情報")
    assert longer.count('class="dispensing"') > section(page, "薬剤情報").count('class="dispensing"')
    three_years = section(client.get(f"/pharmacy/consents/{ids['warned']}?months=36").get_data(as_text=True), "薬剤情報")
    assert "さらに表示" not in three_years
    month = client.get(f"/pharmacy/consents/{ids['warned']}?from=2025-01&to=2025-03").get_data(as_text=True)
    heads = re.findall(r'<h3 class="dispensing-head">(\d{4})年(\d{1,2})月', section(month, "薬剤情報"))
    assert heads and all((int(y), int(m)) in ((2025, 1), (2025, 2), (2025, 3)) for y, m in heads)
    # The review does not follow the filter: it is about today.
    assert review(month) == review(page)
    wrong = client.get(f"/pharmacy/consents/{ids['warned']}?from=2025-03&to=2025-01")
    assert wrong.status_code == 400 and "診療年月（から）は診療年月（まで）以前" in wrong.get_data(as_text=True)


def test_the_print_view_has_the_review_the_last_three_months_and_the_reader(console):  # noqa: F811
    app, ids = console
    client, _ = login(app, "pharmacist")
    page = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    assert f'href="/pharmacy/consents/{ids["warned"]}/print"' in page and ">印刷用</a>" in page
    printed = client.get(f"/pharmacy/consents/{ids['warned']}/print")
    html = printed.get_data(as_text=True)
    assert printed.status_code == 200
    assert "確認事項" in html and "現在の薬" in html and "閲覧者：" in html and "閲覧日時：" in html
    days = [date(int(y), int(m), int(d)) for y, m, d in
            re.findall(r'<h3 class="dispensing-head">(\d{4})年(\d{1,2})月(\d{1,2})日', html)]
    assert all(day >= months_before(TODAY, 3) for day in days)
    assert "<script>" not in html  # the CSP allows no inline script: the button's is web/static/print.js
    assert client.get("/pharmacy/consents/nope/print").status_code == 404


def test_birth_dates_read_with_their_era(console):  # noqa: F811
    app, ids = console
    client, _ = login(app, "pharmacist")
    page = client.get(f"/pharmacy/consents/{ids['warned']}").get_data(as_text=True)
    assert "1950年6月6日（昭和25年）" in page
