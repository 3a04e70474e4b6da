"""Drug rows carry a stable `id` and their dispensing's `dispensing_id` (a claims row and an
e-prescription row of one dispensing share it), and /drugs pages on request (issue 32)."""
from __future__ import annotations

from collections import defaultdict

from api_support import bearer, staff_token


def _drugs(world, token, consent=None, query=""):
    resp = world.app.test_client().get(f"/api/v1/consents/{consent or world.consent}/drugs{query}",
                                       headers=bearer(token))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_rows_have_stable_ids_and_a_dispensing_links_its_two_sources(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    first, again = _drugs(world, token), _drugs(world, token)
    rows = first["drugs"]
    assert rows and [r["id"] for r in rows] == [r["id"] for r in again["drugs"]]
    assert len({r["id"] for r in rows}) == len(rows)
    by_dispensing = defaultdict(set)
    for row in rows:
        by_dispensing[row["dispensing_id"]].add((row["dispensed_on"], row["dispenser"], row["prescriber"]))
    # One dispensing id, one (day, pharmacy, prescriber): whichever source reported it.
    assert all(len(where) == 1 for where in by_dispensing.values())
    sources = defaultdict(set)
    for row in rows:
        sources[row["dispensing_id"]].add(row["source"])
    linked = [d for d, s in sources.items() if s == {"claims", "prescription"}]
    assert linked, "the fixed seed's history has a dispensing reported by both claims and an e-prescription"


def test_ids_differ_between_institutions(world):
    here = _drugs(world, staff_token(world.app, world.code_client, "pharmacist"))["drugs"]
    there = _drugs(world, staff_token(world.app, world.other_code_client, "other-pharmacist"),
                   consent=world.other_consent)["drugs"]
    assert len(here) == len(there) and not {r["id"] for r in here} & {r["id"] for r in there}


def test_drugs_page_on_request_and_answer_everything_without_limit(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    everything = _drugs(world, token)
    assert everything["next_cursor"] is None
    pages, cursor = [], None
    while True:
        page = _drugs(world, token, query="?limit=7" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["drugs"]) <= 7
        pages += page["drugs"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everything["drugs"]


def test_a_bad_limit_or_cursor_is_422(world):
    token = staff_token(world.app, world.code_client, "pharmacist")
    client = world.app.test_client()
    for query, name in (("?limit=0", "limit"), ("?limit=1001", "limit"), ("?limit=x", "limit"),
                        ("?limit=5&cursor=0123456789abcdef", "cursor"), ("?cursor=zz", "cursor")):
        resp = client.get(f"/api/v1/consents/{world.consent}/drugs{query}", headers=bearer(token))
        assert resp.status_code == 422 and name in resp.get_json()["message"], query
