"""The institution's phone number and privacy notice (issue 36): set by `flask institution set` and
PATCH /sandbox/institutions/<code>, shown on every patient page and on the error pages of a patient URL."""
from __future__ import annotations

import pytest

from consent.institutions import InstitutionError, check_phone, check_privacy_url, institution_by_code

ORIGIN = "http://localhost:5000"
PHONE, URL = "03-1234-5678", "https://example.jp/privacy"


@pytest.mark.parametrize("good", ["03-1234-5678", "0312345678", "0120-123-456", "090-1234-5678", " 06-6123-4567 ", ""])
def test_phone_numbers_people_write_are_taken(good):
    assert check_phone(good) == good.strip()


@pytest.mark.parametrize("bad", ["1234-5678", "03-1234-567", "03-1234-56789-0", "03 1234 5678", "03--1234-5678",
                                 "０３-1234-5678", "tel:0312345678", "03-1234-5678-", 312345678])
def test_other_phone_values_are_refused(bad):
    with pytest.raises(InstitutionError) as refused:
        check_phone(bad)
    assert refused.value.code == "invalid_phone"


@pytest.mark.parametrize("bad", ["example.jp/privacy", "javascript:alert(1)", "https://", "https://a b.jp/",
                                 "https://user:pw@example.jp/", "ftp://example.jp/", "https://example.jp/" + "a" * 500,
                                 "https://example.jp:99999/", None])
def test_privacy_urls_must_be_http_urls(bad):
    with pytest.raises(InstitutionError) as refused:
        check_privacy_url(bad)
    assert refused.value.code == "invalid_privacy_url"
    assert check_privacy_url(" " + URL + " ") == URL and check_privacy_url("") == ""


def test_the_operator_sets_and_removes_them(cli):
    code = "1341245676"
    assert cli("institution", "create", "--code", code, "--name", "本町薬局", "--kind", "pharmacy").exit_code == 0
    done = cli("institution", "set", code, "--phone", PHONE, "--privacy-url", URL)
    assert done.exit_code == 0, done.output
    assert f"phone {PHONE}" in done.output and f"privacy notice {URL}" in done.output
    with cli.app.extensions["sessionmaker"]() as session:
        institution = institution_by_code(session, code)
        assert (institution.phone, institution.privacy_url) == (PHONE, URL)
    bad = cli("institution", "set", code, "--phone", "12-34", "--privacy-url", "https://example.jp/other")
    assert bad.exit_code == 2 and "--phone" in bad.output
    with cli.app.extensions["sessionmaker"]() as session:  # nothing of a refused command is stored
        assert institution_by_code(session, code).privacy_url == URL
    assert cli("institution", "set", code, "--privacy-url", "javascript:x").exit_code == 2
    cleared = cli("institution", "set", code, "--phone", "")
    assert cleared.exit_code == 0 and "phone (none)" in cleared.output
    with cli.app.extensions["sessionmaker"]() as session:
        institution = institution_by_code(session, code)
        assert (institution.phone, institution.privacy_url) == ("", URL)
    assert cli("institution", "set", code).exit_code == 2  # nothing to set


def test_the_sandbox_sets_them_and_every_patient_page_and_error_page_shows_them(make_app):
    app = make_app("sandbox", use_clock=False)
    client = app.test_client()
    made = client.post("/sandbox/institutions", json={"phone": PHONE}).get_json()
    assert (made["phone"], made["privacy_url"]) == (PHONE, "")
    code = made["institution_code"]
    for field, bad in (("phone", "12345"), ("privacy_url", "example.jp"), ("phone", 312345678)):
        refused = client.patch(f"/sandbox/institutions/{code}", json={field: bad})
        assert refused.status_code == 422 and refused.get_json()["error"] == "invalid_field", refused.get_json()
        assert field in refused.get_json()["message"]
    changed = client.patch(f"/sandbox/institutions/{code}", json={"privacy_url": URL}).get_json()
    assert (changed["phone"], changed["privacy_url"]) == (PHONE, URL)

    base = made["reception_url"].removeprefix(ORIGIN)
    pages = [client.get(base), client.get(base + "/consent"), client.get(base + "/review"), client.get(base + "/revoke"),
             # Errors on a patient URL: a refused form (no CSRF token), and a function switched off.
             client.post(base + "/consent", data={"all": "1"})]
    assert pages[-1].status_code == 400
    # ... on the tablet's own pages too (「資格確認書で確認」, the photo check).
    tablet = made["reception_urls"]["home_visit"].removeprefix(ORIGIN)
    pages += [client.post(tablet + "/certificate", data={}), client.post(tablet + "/photo", data={})]
    assert [p.status_code for p in pages[-2:]] == [400, 400]
    client.patch(f"/sandbox/institutions/{code}", json={"functions": {"online": False}})
    pages.append(client.get(base))
    assert pages[-1].status_code == 404
    for page in pages:
        html = page.get_data(as_text=True)
        assert 'href="tel:0312345678">03-1234-5678</a>' in html, html
        assert f'href="{URL}"' in html and "個人情報の取り扱い" in html

    # Not set: the name alone; a page of no institution names none.
    other = client.post("/sandbox/institutions", json={}).get_json()
    html = client.get(other["reception_url"].removeprefix(ORIGIN)).get_data(as_text=True)
    assert "にお問い合わせください" in html and "tel:" not in html and "個人情報の取り扱い" not in html
    assert "tel:" not in client.get("/r/no-such-token").get_data(as_text=True)
