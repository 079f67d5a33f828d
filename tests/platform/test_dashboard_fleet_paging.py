"""The fleet table's pages both ways (first, next, previous, last), its capped count, the id
prefix search and the make/powertrain pairs the catalogue rules out."""

from __future__ import annotations

import re

import pytest

from motorpool.platform.services import dashboard
from motorpool.platform.sim import catalogue
from motorpool.platform.store import fleet_queries

from ..support.harness import PlatformHarness
from .test_dashboard import signed_in

ROW = re.compile(r'href="/dashboard/vehicles/([0-9a-f-]+)"')
COUNT = re.compile(r'<p id="fleet-count">([^<]*)</p>')


def _link(text: str, rel: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)" rel="{rel}">', text)
    return found.group(1).replace("&amp;", "&") if found else None


async def test_the_fleet_pages_forward_and_back_with_a_count(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = (await platform.admin("POST", "/admin/applications", json={"name": "both ways"}))["id"]
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 130, "seed": 21})
    path = f"/dashboard/applications/{app_id}/fleet"

    async def walk(start: str, rel: str) -> list[list[str]]:
        pages: list[list[str]] = []
        query: str | None = start
        while query is not None:
            page = await http.get(path + query)
            assert page.status_code == 200, page.text
            pages.append(ROW.findall(page.text))
            counted = COUNT.search(page.text)
            assert counted is not None and counted.group(1) == "130 vehicles match.", page.text
            query = _link(page.text, rel)
            assert len(pages) < 10, "more pages than vehicles"
        return pages

    forward = await walk("?", "next")
    assert [len(p) for p in forward] == [50, 50, 30]
    ids = [vehicle_id for page in forward for vehicle_id in page]
    assert ids == sorted(set(ids))
    first = await http.get(path)
    assert _link(first.text, "prev") is None and _link(first.text, "first") is None
    last_query = _link(first.text, "last")
    assert last_query is not None
    # From the last page back: the last 50, the 50 before, and the first 30, each in id order.
    backward = await walk(last_query, "prev")
    assert [len(p) for p in backward] == [50, 50, 30]
    assert [vehicle_id for page in reversed(backward) for vehicle_id in page] == ids
    last = await http.get(path + last_query)
    assert _link(last.text, "next") is None and _link(last.text, "first") == "?"
    # Back from the second page lands on the first, which offers no way further back.
    second = await http.get(path + (_link(first.text, "next") or ""))
    back = await http.get(path + (_link(second.text, "prev") or ""))
    assert ROW.findall(back.text) == forward[0]
    assert _link(back.text, "next") is not None


async def test_filters_are_kept_through_the_pages_and_counted(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = (await platform.admin("POST", "/admin/applications", json={"name": "filtered"}))["id"]
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 160, "seed": 4})
    vehicles = await platform.admin("GET", f"/admin/applications/{app_id}/vehicles")
    bev = sorted(v["id"] for v in vehicles if v["powertrainType"] == "BEV")
    assert len(bev) > 50  # more than a page, so the links must carry the filter
    path = f"/dashboard/applications/{app_id}/fleet"
    first = await http.get(path, params={"powertrain": "BEV"})
    assert COUNT.search(first.text).group(1) == f"{len(bev)} vehicles match."  # type: ignore[union-attr]
    last = await http.get(path + (_link(first.text, "last") or ""))
    assert ROW.findall(last.text) == bev[-50:]
    previous = _link(last.text, "prev")
    assert previous is not None and "powertrain=BEV" in previous


async def test_the_count_stops_at_its_cap(platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    http = await signed_in(platform)
    app_id = (await platform.admin("POST", "/admin/applications", json={"name": "capped"}))["id"]
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 40, "seed": 8})
    monkeypatch.setattr(dashboard, "FLEET_COUNT_CAP", 25)
    path = f"/dashboard/applications/{app_id}/fleet"
    page = await http.get(path)
    assert COUNT.search(page.text).group(1) == "More than 25 vehicles match."  # type: ignore[union-attr]
    assert len(ROW.findall(page.text)) == 40  # the page itself is not capped
    async with platform.platform.sessions() as session:
        assert await fleet_queries.fleet_count(session, app_id, cap=25) == 26
        assert await fleet_queries.fleet_count(session, app_id, cap=40) == 40
        # A search counts the union of its branches, each vehicle once.
        vehicles = await platform.admin("GET", f"/admin/applications/{app_id}/vehicles")
        term = vehicles[0]["id"][:1]
        expected = {v["id"] for v in vehicles if v["id"].startswith(term) or v["vin"].startswith(term.upper())
                    or (v["nickname"] or "").lower().startswith(term)}
        counted = await fleet_queries.fleet_count(session, app_id, cap=100, search=term)
        assert counted == len(expected)


async def test_a_search_finds_vehicles_by_the_start_of_their_id(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = (await platform.admin("POST", "/admin/applications", json={"name": "ids"}))["id"]
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 60, "seed": 13})
    vehicles = await platform.admin("GET", f"/admin/applications/{app_id}/vehicles")
    path = f"/dashboard/applications/{app_id}/fleet"
    some = vehicles[5]["id"]
    for prefix in (some[:8], some[:9], some[:12].upper(), some):
        page = await http.get(path, params={"search": prefix})
        found = ROW.findall(page.text)
        assert some in found, prefix
        assert all(vehicle_id.startswith(prefix.lower().rstrip("-")) or vehicle_id in _by_other_means(
            vehicles, prefix) for vehicle_id in found), prefix


def _by_other_means(vehicles: list[dict[str, str]], term: str) -> set[str]:
    """The vehicles a search term matches by VIN, nickname or model rather than by id."""
    lowered = term.lower()
    return {v["id"] for v in vehicles if v["vin"].startswith(term.upper())
            or (v["nickname"] or "").lower().startswith(lowered) or lowered in v["model"].lower()}


@pytest.mark.parametrize(("term", "bounds"), [
    ("abc", ("abc", "abd")),
    ("9", ("9", "a")),
    ("0F", ("0f", "1")),
    ("ff", ("ff", None)),
    ("12345678-", ("12345678-", "12345679")),
    ("1234567f-f", ("1234567f-f", "1234568")),
    ("xyz", None),
    ("1234-", None),
    ("", None),
    ("0" * 37, None),
])
def test_id_prefix_bounds(term: str, bounds: tuple[str, str | None] | None) -> None:
    assert fleet_queries._id_prefix_bounds(term) == bounds


async def test_a_make_and_powertrain_no_model_has_answers_empty(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    pairs = {(spec.make, spec.powertrain) for spec in catalogue.models()}
    makes = {make for make, _ in pairs}
    missing = next((make, p) for make in sorted(makes) for p in dashboard.POWERTRAINS if (make, p) not in pairs)
    page = await http.get(f"/dashboard/applications/{app_id}/fleet",
                          params={"make": missing[0], "powertrain": missing[1]})
    assert page.status_code == 200
    assert ROW.findall(page.text) == [] and "0 vehicles match." in page.text
    assert all(dashboard.catalogue_has(make, p) for make, p in pairs)


async def test_after_and_before_together_are_refused(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    page = await http.get(f"/dashboard/applications/{platform.application_id}/fleet",
                          params={"after": "a", "before": "b"})
    assert page.status_code == 400 and "after cannot be combined" in page.text
