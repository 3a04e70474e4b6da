"""The smallest real-Chromium check: the top page works on a phone."""
from __future__ import annotations


def test_top_page_on_a_phone_has_no_errors_and_no_horizontal_scroll(phone_page):
    response = phone_page.goto("/")
    assert response.status == 200
    assert phone_page.locator("html").get_attribute("lang") == "ja"
    assert phone_page.get_by_role("heading", level=1).inner_text() == "マイナ在宅受付"
    phone_page.set_viewport_size({"width": 360, "height": 740})
    scroll_width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360
    assert phone_page.console.errors == []


def test_unknown_page_is_a_japanese_404(phone_page):
    response = phone_page.goto("/no-such-page")
    assert response.status == 404
    assert "ページが見つかりません" in phone_page.get_by_role("alert").inner_text()
