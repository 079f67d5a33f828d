"""Connect: the consent pages, driven in-process form by form, and the codes they issue."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import update

from motorpool.platform.services.connect import CSRF_COOKIE, FLOW_TTL
from motorpool.platform.services.oauth import pkce_challenge
from motorpool.platform.sim import catalogue
from motorpool.platform.sim.signals import PERMISSIONS
from motorpool.platform.store import repo
from motorpool.platform.store.models import AuthorizationCode

from ..support.connect_pages import (
    checked,
    connect_form,
    first_brand,
    go_through_connect,
    hidden,
    inputs,
    query_of,
    step_of,
    submit,
    target_of,
)
from ..support.harness import PlatformHarness

SCOPE = "read_vehicle_info read_odometer"


async def begin(h: PlatformHarness, **params: str | None) -> httpx.Response:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": h.client_id,
        "redirect_uri": h.redirect_uri,
        "scope": SCOPE,
        "mode": "test",
        "state": "st-1",
    }
    query.update(params)
    return await h.http.get(
        "/oauth/authorize", params={k: v for k, v in query.items() if v is not None}
    )


async def connect_through(
    h: PlatformHarness,
    *,
    email: str = "owner@example.com",
    password: str = "any password",
    vehicles: list[str] | None = None,
    permissions: list[str] | None = None,
    action: str = "approve",
    **params: str | None,
) -> httpx.Response:
    """Walk the pages from ``begin(h, **params)`` the way an owner accepting the defaults would;
    answer the last response."""
    return await go_through_connect(
        h.http, await begin(h, **params), email=email, password=password,
        vehicles=vehicles, permissions=permissions, action=action,
    )  # fmt: skip


async def until_step(
    h: PlatformHarness, step: str, email: str = "owner@example.com", **params: str | None
) -> httpx.Response:
    """The page of ``step``, reached with the defaults (``make`` skips the brand page)."""
    page = await begin(h, **({"make": None} | params))
    if step != "preamble":
        page = await submit(h.http, page, {"action": "continue"})
    if step_of(page) == "brand" and step != "brand":
        page = await submit(h.http, page, {"make": first_brand(page)})
    if step == "permissions":
        page = await submit(h.http, page, {"email": email, "password": "pw"})
    assert page.status_code == 200 and step_of(page) == step, page.text
    return page


def ids(page: httpx.Response) -> set[str]:
    """The ids of the elements of the page's Connect form."""
    return {str(f["id"]) for f in connect_form(page)["fields"] if f.get("id")}


async def connections_of(h: PlatformHarness, user_id: str) -> dict[str, dict[str, Any]]:
    async with h.platform.sessions() as session:
        rows = await repo.user_connections(session, user_id)
        return {
            row.vehicle_id: {
                "permissions": list(row.permissions),
                "external_id": row.external_id,
                "mode": row.mode,
            }
            for row in rows
        }


async def redeem(h: PlatformHarness, code: str, **extra: str) -> httpx.Response:
    return await h.http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": h.client_id,
            "client_secret": h.client_secret,
            "code": code,
            "redirect_uri": h.redirect_uri,
            **extra,
        },
    )


# --- the happy path ---------------------------------------------------------------------------


async def test_test_mode_flow_from_preamble_to_redirect(platform: PlatformHarness) -> None:
    page = await begin(platform)
    assert page.status_code == 200
    assert step_of(page) == "preamble"
    assert 'lang="en"' in page.text and "Development application" in page.text
    for permission in SCOPE.split():
        assert str(PERMISSIONS[permission]) in page.text  # what it asks for, in plain words

    page = await submit(platform.http, page, {"action": "continue"})
    assert step_of(page) == "brand"
    brands = [f for f in connect_form(page)["fields"] if f.get("name") == "make"]
    assert len(brands) >= 5

    page = await submit(platform.http, page, {"make": brands[0]["value"]})
    assert step_of(page) == "login"
    assert inputs(page, "email") and inputs(page, "password")
    assert '<label for="username">' in page.text and '<label for="password">' in page.text

    page = await submit(platform.http, page, {"email": "2-vehicles@smartcar.com", "password": "whatever"}
    )
    # Straight from the sign-in to the approval page: the vehicles are chosen there.
    assert step_of(page) == "permissions"
    vehicle_ids = [f["value"] for f in inputs(page, "vehicle")]
    assert len(vehicle_ids) == 2 and checked(page, "vehicle") == vehicle_ids
    assert all(f["type"] == "checkbox" for f in inputs(page, "vehicle"))
    assert "<fieldset" in page.text and "<legend" in page.text
    for permission in SCOPE.split():
        assert str(PERMISSIONS[permission]) in page.text  # described in plain words

    done = await submit(
        platform.http, page,
        {"vehicle": vehicle_ids, "permission": SCOPE.split(), "action": "approve"},
    )  # fmt: skip
    assert done.status_code == 302  # as Smartcar answers, after a POST too
    assert target_of(done) == platform.redirect_uri
    query = query_of(done)
    assert query["state"] == "st-1"
    assert set(query) == {"user_id", "code", "state"}
    stored = await connections_of(platform, query["user_id"])
    assert set(stored) == set(vehicle_ids)
    assert all(c["permissions"] == SCOPE.split() and c["mode"] == "test" for c in stored.values())

    token = await redeem(platform, query["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["user_id"] == query["user_id"]
    assert sorted(body["vehicle_ids"]) == sorted(vehicle_ids)
    assert body["scope"].split() == SCOPE.split()


async def test_pages_carry_the_element_ids_smartcar_scripts_click(platform: PlatformHarness) -> None:
    """The ids and order browser automation written against Smartcar's Connect relies on."""
    page = await begin(platform, scope="required:read_vehicle_info read_odometer")
    assert step_of(page) == "preamble" and "continue-button" in ids(page)
    assert 'class="card-body page-content"' in page.text  # the Node SDK waits for .page-content
    page = await submit(platform.http, page, {"action": "continue"})
    assert step_of(page) == "brand"
    tiles = [f for f in connect_form(page)["fields"] if f.get("name") == "make"]
    codes = {m.code for m in catalogue.makes()}
    assert {"CHEVROLET", "FORD", "BMW", "TESLA", "KIA"} <= codes  # the SDK suites' brands
    for tile in tiles:  # button#TESLA.brand-list-item, and the older data-make form
        assert tile["tag"] == "button" and tile["id"] == tile["value"] == tile["data-make"]
        assert {"brand-list-item", "brand-selector-button"} <= set(tile["class"].split())
    assert {t["id"] for t in tiles} == codes and "brand-search" in ids(page)
    page = await submit(platform.http, page, {"make": "CHEVROLET"})
    assert {"username", "password", "sign-in-button"} <= ids(page)
    page = await submit(platform.http, page, {"email": "e2e@email.com", "password": "password"})
    assert step_of(page) == "permissions" and "approval-button" in ids(page)
    done = await submit(
        platform.http, page, {"action": "approve", "permission": checked(page, "permission")}
    )
    assert done.status_code == 302 and query_of(done)["code"]


async def test_the_brand_page_searches_without_script(platform: PlatformHarness) -> None:
    page = await until_step(platform, "brand")
    found = await submit(platform.http, page, {"action": "search", "brand_search": " Volks"})
    assert found.status_code == 200 and step_of(found) == "brand"
    assert [f["value"] for f in connect_form(found)["fields"] if f.get("name") == "make"] == ["VOLKSWAGEN"]
    assert 'value="Volks"' in found.text  # the search is kept in its field
    none = await submit(platform.http, found, {"action": "search", "brand_search": "zeppelin"})
    assert "No brand matches" in none.text
    again = await submit(platform.http, none, {"action": "search", "brand_search": ""})
    assert len([f for f in connect_form(again)["fields"] if f.get("name") == "make"]) == len(catalogue.makes())
    login = await submit(platform.http, again, {"make": "TESLA"})
    assert step_of(login) == "login" and "Sign in to Tesla" in login.text


async def test_cancel_on_the_preamble_is_access_denied(platform: PlatformHarness) -> None:
    page = await begin(platform)
    done = await submit(platform.http, page, {"action": "cancel"})
    assert query_of(done)["error"] == "access_denied" and query_of(done)["state"] == "st-1"


async def test_without_scope_connect_asks_for_the_applications_default_permissions(
    platform: PlatformHarness,
) -> None:
    path = f"/admin/applications/{platform.application_id}/connect-permissions"
    default = await platform.admin("GET", path)
    assert default["default"] is True and default["permissions"] == list(PERMISSIONS)
    # The official SDK (6.18 and later) may leave scope out: every permission is asked, none required.
    page = await until_step(platform, "permissions", email="1-vehicles@smartcar.com", scope=None)
    offered = inputs(page, "permission")
    assert [f["value"] for f in offered] == list(PERMISSIONS)
    assert not any("disabled" in f for f in offered)

    chosen = await platform.admin(
        "PUT", path, json={"permissions": ["read_odometer", "read_location", "read_odometer"]}
    )
    assert chosen == {"applicationId": platform.application_id, "default": False,
                      "permissions": ["read_odometer", "read_location"]}
    app = await platform.admin("GET", f"/admin/applications/{platform.application_id}")
    assert app["connectPermissions"] == ["read_odometer", "read_location"]
    for scope in (None, "", "  "):
        page = await begin(platform, scope=scope)
        assert step_of(page) == "preamble" and "Read the odometer" in page.text
    done = await connect_through(platform, email="1-vehicles@smartcar.com", scope=None)
    stored = await connections_of(platform, query_of(done)["user_id"])
    assert [c["permissions"] for c in stored.values()] == [["read_odometer", "read_location"]]
    # A link's own scope still wins.
    page = await until_step(platform, "permissions", email="1-vehicles@smartcar.com")
    assert [f["value"] for f in inputs(page, "permission")] == SCOPE.split()

    refused = await platform.http.put(path, headers=platform.admin_headers, json={"permissions": ["read_everything"]})
    assert refused.status_code == 400 and "read_everything" in refused.json()["description"]
    empty = await platform.http.put(path, headers=platform.admin_headers, json={"permissions": []})
    assert empty.status_code == 400
    reset = await platform.admin("PUT", path, json={"permissions": None})
    assert reset["default"] is True and reset["permissions"] == list(PERMISSIONS)


async def test_simulated_mode_makes_a_car_of_a_brand_the_fleet_lacks(platform: PlatformHarness) -> None:
    fleet_path = f"/admin/applications/{platform.application_id}/vehicles"
    fleet = await platform.admin("GET", fleet_path)
    absent = next(m for m in catalogue.makes() if m.code not in {v["make"] for v in fleet})
    await platform.admin(
        "PUT", f"/admin/applications/{platform.application_id}/clock", json={"rate": 0}
    )
    clock_now = (await platform.admin("GET", f"/admin/applications/{platform.application_id}/clock"))["nowMs"]
    done = await connect_through(platform, mode="simulated", make=absent.code, email="dev@example.com")
    query = query_of(done)
    assert "error" not in query, query
    stored = await connections_of(platform, query["user_id"])
    [vehicle_id] = stored
    after = await platform.admin("GET", fleet_path)
    made = next(v for v in after if v["id"] == vehicle_id)
    assert made["make"] == absent.code and made["mode"] == "simulated"
    assert len(after) == len(fleet) + 1
    async with platform.platform.sessions() as session:
        [vehicle] = await repo.get_vehicles(session, [vehicle_id])
    assert vehicle.state["created_at"] == clock_now  # its life starts at the application's now
    # The next owner who picks that brand is offered the same car, not another one.
    again = query_of(await connect_through(platform, mode="simulated", make=absent.code, email="x@y.z"))
    assert list(await connections_of(platform, again["user_id"])) == [vehicle_id]
    assert len(await platform.admin("GET", fleet_path)) == len(after)


async def test_connected_user_is_visible_to_the_vehicle_api(platform: PlatformHarness) -> None:
    user_id = query_of(await connect_through(platform, email="1-vehicles@smartcar.com"))["user_id"]
    response = await platform.http.get("/v3/connections", headers=await platform.auth_headers())
    assert response.status_code == 200, response.text
    assert user_id in response.text


async def test_application_id_and_default_redirect_uri(platform: PlatformHarness) -> None:
    done = await connect_through(
        platform, client_id=None, application_id=platform.application_id, redirect_uri=None
    )
    assert target_of(done) == platform.redirect_uri
    assert "user_id" in query_of(done)


async def test_three_vehicles_test_account(platform: PlatformHarness) -> None:
    page = await until_step(platform, "permissions", email="3-vehicles@smartcar.com")
    assert len(inputs(page, "vehicle")) == 3
    assert page.text.count("VIN") >= 3


async def test_make_skips_the_brand_page_and_draws_test_cars_of_that_brand(
    platform: PlatformHarness,
) -> None:
    email = "6-vehicles@smartcar.com"
    wanted = next(m for m in catalogue.makes() if len(catalogue.models_of(m.code)) > 1)
    page = await begin(platform, make=wanted.name.lower())  # a display name works as well as a code
    assert step_of(page) == "preamble" and f"sign in with your {wanted.name} account" in page.text
    page = await submit(platform.http, page, {"action": "continue"})
    assert step_of(page) == "login"
    assert f"Sign in to {wanted.name}" in page.text
    page = await submit(platform.http, page, {"email": email, "password": "pw"})
    offered = [f["value"] for f in inputs(page, "vehicle")]
    assert len(offered) == 6  # the e-mail still says how many, the brand says which make
    async with platform.platform.sessions() as session:
        vehicles = await repo.get_vehicles(session, offered)
    assert {v.make for v in vehicles} == {wanted.code} and all(v.mode == "test" for v in vehicles)

    # The same e-mail and brand find the same cars again; another brand, other cars.
    again = await until_step(platform, "permissions", email=email, make=wanted.code)
    assert sorted(f["value"] for f in inputs(again, "vehicle")) == sorted(offered)
    other = next(m for m in catalogue.makes() if m.code != wanted.code)
    elsewhere = await until_step(platform, "permissions", email=email, make=other.code)
    other_ids = [f["value"] for f in inputs(elsewhere, "vehicle")]
    assert len(other_ids) == 6 and not set(other_ids) & set(offered)


async def test_an_email_naming_a_vin_keeps_its_make_whatever_the_brand(
    platform: PlatformHarness,
) -> None:
    page = await until_step(platform, "login", make="KIA")
    done = await submit(platform.http, page, {"email": "5YJ3E1EA7KF317000@bev.smartcar.com", "password": "pw"})
    assert step_of(done) == "permissions" and "Brand: <strong>Kia</strong>" in done.text
    assert "Tesla" in done.text and "317000" in done.text  # the VIN's make, not the brand's


async def test_live_make_filters_the_owners_cars_and_says_when_none_match(
    platform: PlatformHarness,
) -> None:
    owner, password = platform.first.owners[0], platform.first.owner_password
    owners = await platform.admin("GET", "/admin/owners")
    owner_id = next(o["id"] for o in owners if o["email"] == owner)
    async with platform.platform.sessions() as session:
        theirs = list(await repo.list_owner_vehicles(session, owner_id))
    wanted = theirs[0].make
    page = await until_step(platform, "login", mode="live", make=wanted)
    shown = await submit(platform.http, page, {"email": owner, "password": password})
    offered = [f["value"] for f in inputs(shown, "vehicle")] or [
        v.id for v in theirs if v.vin[-6:] in shown.text
    ]
    assert sorted(offered) == sorted(v.id for v in theirs if v.make == wanted)

    absent = next(m for m in catalogue.makes() if m.code not in {v.make for v in theirs})
    page = await until_step(platform, "login", mode="live", make=absent.code)
    done = await submit(platform.http, page, {"email": owner, "password": password})
    query = query_of(done)
    assert query["error"] == "no_vehicles" and query["state"] == "st-1"
    assert absent.code in query["error_description"]


async def test_brand_chosen_in_simulated_mode_offers_the_fleets_cars_of_that_brand(
    platform: PlatformHarness,
) -> None:
    fleet_path = f"/admin/applications/{platform.application_id}/vehicles"
    for make, model in (("TESLA", "Model 3"), ("TESLA", "Model Y"), ("KIA", "EV6")):
        await platform.admin("POST", "/admin/vehicles", json={
            "applicationId": platform.application_id, "make": make, "model": model,
        })  # fmt: skip
    fleet = await platform.admin("GET", fleet_path)
    teslas = sorted(v["id"] for v in fleet if v["make"] == "TESLA")
    kias = [v["id"] for v in fleet if v["make"] == "KIA"]

    page = await until_step(platform, "brand", mode="simulated")
    login = await submit(platform.http, page, {"make": "TESLA"})
    assert step_of(login) == "login" and "change-brand-button" in ids(login)
    chosen = await submit(platform.http, login, {"email": "dev@example.com", "password": "pw"})
    assert step_of(chosen) == "permissions"
    assert sorted(f["value"] for f in inputs(chosen, "vehicle")) == teslas
    assert "Brand: <strong>Tesla</strong>" in chosen.text and "change-brand-button" in ids(chosen)

    # Changing the brand on the approval page goes back to the brand list, then offers that brand.
    back = await submit(platform.http, chosen, {"action": "change_brand"})
    assert back.status_code == 200 and step_of(back) == "brand"
    login = await submit(platform.http, back, {"make": "KIA"})
    kia_page = await submit(platform.http, login, {"email": "dev@example.com", "password": "pw"})
    assert step_of(kia_page) == "permissions" and "Brand: <strong>Kia</strong>" in kia_page.text
    assert inputs(kia_page, "vehicle") == [] and len(kias) == 1  # one car: shown, not chosen
    done = await submit(platform.http, kia_page, {"action": "approve", "permission": SCOPE.split()})
    assert list(await connections_of(platform, query_of(done)["user_id"])) == kias

    # From the sign-in page as well, with the fields left empty.
    page = await until_step(platform, "brand", mode="simulated")
    login = await submit(platform.http, page, {"make": "TESLA"})
    back = await submit(platform.http, login, {"action": "change_brand"})
    assert step_of(back) == "brand" and "Choose your vehicle" not in back.text  # no error shown


async def test_simulated_mode_lists_the_fleets_brands_first(platform: PlatformHarness) -> None:
    fleet = await platform.admin("GET", f"/admin/applications/{platform.application_id}/vehicles")
    own = {v["make"] for v in fleet}
    page = await until_step(platform, "brand", mode="simulated")
    listed = [f["value"] for f in connect_form(page)["fields"] if f.get("name") == "make"]
    assert set(listed[: len(own)]) == own and len(listed) == len(catalogue.makes())
    # The first brand offers the whole development fleet, as the tutorial's first click does.
    done = await connect_through(platform, mode="simulated", email="first@example.com")
    assert set(await connections_of(platform, query_of(done)["user_id"])) == {v["id"] for v in fleet}
    test_page = await until_step(platform, "brand")  # test mode: the catalogue's order
    assert [f["value"] for f in connect_form(test_page)["fields"] if f.get("name") == "make"] == [
        m.code for m in catalogue.makes()
    ]


async def test_brand_chosen_in_test_mode_draws_the_cars_in_that_brand(
    platform: PlatformHarness,
) -> None:
    page = await until_step(platform, "brand")
    login = await submit(platform.http, page, {"make": "FORD"})
    chosen = await submit(platform.http, login, {"email": "3-vehicles@smartcar.com", "password": "pw"})
    fords = [f["value"] for f in inputs(chosen, "vehicle")]
    async with platform.platform.sessions() as session:
        assert {v.make for v in await repo.get_vehicles(session, fords)} == {"FORD"}
    assert len(fords) == 3 and "Brand: <strong>Ford</strong>" in chosen.text
    back = await submit(platform.http, chosen, {"action": "change_brand"})
    login = await submit(platform.http, back, {"make": "BMW"})
    again = await submit(platform.http, login, {"email": "3-vehicles@smartcar.com", "password": "pw"})
    bmws = [f["value"] for f in inputs(again, "vehicle")]
    async with platform.platform.sessions() as session:
        assert {v.make for v in await repo.get_vehicles(session, bmws)} == {"BMW"}
    assert len(bmws) == 3 and not set(bmws) & set(fords)


async def test_a_link_naming_a_vin_has_no_brand_to_change(platform: PlatformHarness) -> None:
    vin = "5YJ3E1EA7KF317000"
    page = await until_step(platform, "permissions", email=f"{vin}@bev.smartcar.com",
                            single_select="true", single_select_vin=vin)  # fmt: skip
    assert "change-brand-button" not in ids(page) and "Brand:" not in page.text


async def test_single_select_vin_skips_brand_and_offers_only_that_vehicle(
    platform: PlatformHarness,
) -> None:
    vin = "0SCAUDI037A5ADB1C"
    page = await until_step(
        platform, "login", single_select="true", single_select_vin=vin, make="BMW"
    )
    assert "Sign in to your vehicle account" in page.text  # no brand: the VIN wins over make
    page = await submit(platform.http, page, {"email": "smartcar@successful-request.com", "password": "pw"}
    )
    assert step_of(page) == "permissions"
    assert inputs(page, "vehicle") == [] and vin[-6:] in page.text  # the one vehicle, shown
    done = await submit(platform.http, page, {"permission": SCOPE.split(), "action": "approve"})
    code = query_of(done)["code"]
    body = (await redeem(platform, code)).json()
    async with platform.platform.sessions() as session:
        vehicles = await repo.get_vehicles(session, body["vehicle_ids"])
    assert [v.vin for v in vehicles] == [vin]


async def test_single_select_vin_not_in_account_is_no_vehicles(platform: PlatformHarness) -> None:
    page = await until_step(
        platform, "login", single_select="true", single_select_vin="1HGCM82633A004352"
    )
    page = await submit(platform.http, page, {"email": "3-vehicles@smartcar.com", "password": "pw"})
    assert query_of(page)["error"] == "no_vehicles"


async def test_single_select_refuses_two_vehicles(platform: PlatformHarness) -> None:
    page = await until_step(
        platform, "permissions", email="3-vehicles@smartcar.com", single_select="true"
    )
    offered = inputs(page, "vehicle")
    assert all(f["type"] == "radio" for f in offered)
    assert sum("checked" in f for f in offered) == 1
    again = await submit(
        platform.http, page,
        {"vehicle": [f["value"] for f in offered[:2]], "permission": ["read_odometer"], "action": "approve"},
    )  # fmt: skip
    assert again.status_code == 400
    assert "only one vehicle" in again.text
    assert step_of(again) == "permissions"
    # What the owner ticked is kept.
    assert checked(again, "vehicle") == [f["value"] for f in offered[:1]]
    assert checked(again, "permission") == ["read_odometer"]


async def test_choosing_no_vehicle_shows_the_page_again(platform: PlatformHarness) -> None:
    page = await until_step(platform, "permissions", email="2-vehicles@smartcar.com")
    again = await submit(platform.http, page, {"permission": SCOPE.split(), "action": "approve"})
    assert again.status_code == 400 and step_of(again) == "permissions"
    assert 'role="alert"' in again.text and 'aria-describedby="vehicles-error"' in again.text


async def test_incompatible_test_vehicle(platform: PlatformHarness) -> None:
    vin = "1FTFW1ET5DFC10312"
    page = await until_step(platform, "permissions", email=f"{vin}@incompatible.smartcar.com")
    assert "Not compatible" in page.text and "Your vehicle cannot share what" in page.text
    assert "approval-button" not in ids(page) and "return-button" in ids(page)
    done = await submit(platform.http, page, {"action": "incompatible"})
    query = query_of(done)
    assert query["error"] == "vehicle_incompatible"
    assert query["vin"] == vin
    assert query["state"] == "st-1"
    assert query["make"] and query["model"] and query["year"].isdigit()

    # Approving it by hand is refused the same way.
    page = await until_step(platform, "permissions", email=f"{vin}@incompatible.smartcar.com")
    done = await submit(platform.http, page, {"permission": SCOPE.split(), "action": "approve"})
    assert query_of(done)["error"] == "vehicle_incompatible"


async def test_required_permission_a_vehicle_lacks_makes_it_incompatible(
    platform: PlatformHarness,
) -> None:
    vin = "1FTFW1ET5DFC10399"
    email = f"{vin}@fuel.smartcar.com"
    page = await until_step(
        platform, "permissions", email=email, scope="read_vehicle_info required:read_charge"
    )
    assert "Not compatible" in page.text and "charge" in page.text
    assert "approval-button" not in ids(page)
    # Optional, the same permission leaves the vehicle compatible; it is just not granted.
    done = await connect_through(platform, email=email, scope="read_vehicle_info read_charge")
    stored = await connections_of(platform, query_of(done)["user_id"])
    assert [c["permissions"] for c in stored.values()] == [["read_vehicle_info"]]


async def test_simulated_mode_offers_the_applications_fleet(platform: PlatformHarness) -> None:
    fleet = await platform.admin("GET", f"/admin/applications/{platform.application_id}/vehicles")
    page = await until_step(platform, "permissions", mode="simulated", email="anyone@anything.com")
    assert sorted(f["value"] for f in inputs(page, "vehicle")) == sorted(v["id"] for v in fleet)
    assert "Simulated vehicles" in page.text
    done = await submit(
        platform.http, page,
        {"vehicle": [fleet[0]["id"]], "permission": SCOPE.split(), "action": "approve"},
    )  # fmt: skip
    stored = await connections_of(platform, query_of(done)["user_id"])
    assert list(stored) == [fleet[0]["id"]]
    assert stored[fleet[0]["id"]]["mode"] == "simulated"


async def test_test_mode_needs_a_password(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    again = await submit(platform.http, page, {"email": "someone@example.com", "password": ""})
    assert again.status_code == 400 and step_of(again) == "login"
    assert 'aria-describedby="login-error"' in again.text


# --- live mode --------------------------------------------------------------------------------


async def test_live_login_with_the_right_password(platform: PlatformHarness) -> None:
    owner = platform.first.owners[0]
    done = await connect_through(
        platform, mode="live", email=owner, password=platform.first.owner_password
    )
    user_id = query_of(done)["user_id"]
    stored = await connections_of(platform, user_id)
    owners = await platform.admin("GET", "/admin/owners")
    owner_id = next(o["id"] for o in owners if o["email"] == owner)
    async with platform.platform.sessions() as session:
        theirs = {v.id for v in await repo.list_owner_vehicles(session, owner_id)}
    assert set(stored) == theirs and theirs
    assert all(c["mode"] == "live" for c in stored.values())


async def test_live_login_with_a_wrong_password_is_refused_on_the_page(
    platform: PlatformHarness,
) -> None:
    page = await until_step(platform, "login", mode="live")
    again = await submit(platform.http, page, {"email": platform.first.owners[0], "password": "not-the-password"}
    )
    assert again.status_code == 401
    assert step_of(again) == "login"
    assert "not correct" in again.text
    assert 'role="alert"' in again.text and 'aria-invalid="true"' in again.text
    assert (
        f'value="{platform.first.owners[0]}"' in again.text
    )  # the e-mail is kept, not the password
    # The form still works afterwards.
    done = await submit(
        platform.http,
        again,
        {"email": platform.first.owners[0], "password": platform.first.owner_password},
    )
    assert done.status_code == 200 and step_of(done) == "permissions"


async def test_live_login_unknown_owner_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login", mode="live")
    again = await submit(platform.http, page, {"email": "nobody@example.com", "password": "whatever-it-is"}
    )
    assert again.status_code == 401


async def test_live_owner_without_vehicles_is_no_vehicles(platform: PlatformHarness) -> None:
    await platform.admin(
        "POST", "/admin/owners", json={"email": "empty@example.com", "password": "long enough pw"}
    )
    done = await connect_through(
        platform, mode="live", email="empty@example.com", password="long enough pw"
    )
    query = query_of(done)
    assert query["error"] == "no_vehicles"
    assert query["state"] == "st-1"


# --- permissions ------------------------------------------------------------------------------


async def test_required_permissions_cannot_be_dropped(platform: PlatformHarness) -> None:
    page = await until_step(
        platform,
        "permissions",
        email="1-vehicles@smartcar.com",
        scope="required:read_vehicle_info read_odometer",
    )
    boxes = {f["value"]: f for f in inputs(page, "permission")}
    assert "disabled" in boxes["read_vehicle_info"] and "checked" in boxes["read_vehicle_info"]
    assert "disabled" not in boxes["read_odometer"]
    assert "Required" in page.text
    # The form omits the required one (as a disabled box would) and unticks the optional one.
    done = await submit(platform.http, page, {"action": "approve"})
    stored = await connections_of(platform, query_of(done)["user_id"])
    assert [c["permissions"] for c in stored.values()] == [["read_vehicle_info"]]


async def test_unticked_optional_permission_is_not_granted(platform: PlatformHarness) -> None:
    done = await connect_through(
        platform, email="1-vehicles@smartcar.com", permissions=["read_odometer"]
    )
    stored = await connections_of(platform, query_of(done)["user_id"])
    assert [c["permissions"] for c in stored.values()] == [["read_odometer"]]


async def test_granting_nothing_shows_the_page_again(platform: PlatformHarness) -> None:
    page = await until_step(platform, "permissions", email="1-vehicles@smartcar.com")
    again = await submit(platform.http, page, {"action": "approve"})
    assert again.status_code == 400 and step_of(again) == "permissions"


async def test_unknown_permission_in_the_form_is_ignored(platform: PlatformHarness) -> None:
    done = await connect_through(
        platform, email="1-vehicles@smartcar.com", permissions=["read_odometer", "control_security"]
    )
    stored = await connections_of(platform, query_of(done)["user_id"])
    assert [c["permissions"] for c in stored.values()] == [["read_odometer"]]


async def test_approval_prompt_auto_skips_what_was_granted_and_force_asks_again(
    platform: PlatformHarness,
) -> None:
    email = "1-vehicles@smartcar.com"
    first = await connect_through(platform, email=email)
    user_id = query_of(first)["user_id"]

    sign_in = {"email": email, "password": "pw"}
    page = await until_step(platform, "login")
    skipped = await submit(platform.http, page, sign_in)
    assert skipped.status_code == 302  # no approval page
    assert query_of(skipped)["user_id"] == user_id and query_of(skipped)["code"]

    page = await until_step(platform, "login", approval_prompt="force")
    forced = await submit(platform.http, page, sign_in)
    assert forced.status_code == 200 and step_of(forced) == "permissions"

    # A wider scope than was granted is asked for again under auto too.
    page = await until_step(platform, "login", scope=SCOPE + " read_location")
    wider = await submit(platform.http, page, sign_in)
    assert wider.status_code == 200 and step_of(wider) == "permissions"


async def test_user_id_is_stable_for_the_same_owner(platform: PlatformHarness) -> None:
    first = query_of(
        await connect_through(platform, email="same@example.com", approval_prompt="force")
    )
    second = query_of(
        await connect_through(platform, email="Same@Example.com", approval_prompt="force")
    )
    other = query_of(await connect_through(platform, email="other@example.com"))
    assert first["user_id"] == second["user_id"]
    assert other["user_id"] != first["user_id"]
    assert first["code"] != second["code"]


# --- external_id, state, decline ---------------------------------------------------------------


async def test_external_id_is_returned_stored_and_cleared(platform: PlatformHarness) -> None:
    done = await connect_through(platform, email="1-vehicles@smartcar.com", external_id="crm-42")
    query = query_of(done)
    assert query["external_id"] == "crm-42"
    stored = await connections_of(platform, query["user_id"])
    assert [c["external_id"] for c in stored.values()] == ["crm-42"]

    kept = query_of(await connect_through(platform, email="1-vehicles@smartcar.com"))
    assert "external_id" not in kept
    assert [
        c["external_id"] for c in (await connections_of(platform, kept["user_id"])).values()
    ] == ["crm-42"]

    cleared = query_of(
        await connect_through(platform, email="1-vehicles@smartcar.com", external_id="null")
    )
    assert "external_id" not in cleared
    assert [
        c["external_id"] for c in (await connections_of(platform, cleared["user_id"])).values()
    ] == [None]


@pytest.mark.parametrize("state", ["a b&c=d/é✓ +%20#x", "", "🚗" * 3, "x" * 500])
async def test_state_is_echoed_exactly(sqlite_platform: PlatformHarness, state: str) -> None:
    done = await connect_through(sqlite_platform, state=state)
    assert query_of(done)["state"] == state
    denied = await connect_through(
        sqlite_platform, state=state, action="deny", approval_prompt="force"
    )
    assert query_of(denied)["state"] == state


async def test_without_state_no_state_is_returned(platform: PlatformHarness) -> None:
    assert "state" not in query_of(await connect_through(platform, state=None))


async def test_decline_is_access_denied(platform: PlatformHarness) -> None:
    done = await connect_through(platform, action="deny")
    query = query_of(done)
    assert target_of(done) == platform.redirect_uri
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "st-1"
    assert "code" not in query and "user_id" not in query


async def test_cancel_on_the_login_page_is_access_denied(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    done = await submit(platform.http, page, {"action": "cancel"})
    assert query_of(done)["error"] == "access_denied"


async def test_redirect_uri_with_a_query_keeps_it(platform: PlatformHarness) -> None:
    uri = "http://localhost:8000/callback?tenant=blue"
    await platform.admin(
        "POST", f"/admin/applications/{platform.application_id}/redirect-uris", json={"uri": uri}
    )
    done = await connect_through(platform, redirect_uri=uri)
    query = query_of(done)
    assert query["tenant"] == "blue" and query["code"]
    assert target_of(done) == "http://localhost:8000/callback"


# --- refused without a redirect -----------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:8000/exchange/",
        "http://localhost:8001/exchange",
        "https://localhost:8000/exchange",
        "http://localhost:8000/exchange?extra=1",
        "http://localhost/exchange",
        "http://evil.example/exchange",
        "",
    ],
)
async def test_unregistered_redirect_uri_gets_an_error_page(
    platform: PlatformHarness, redirect_uri: str
) -> None:
    page = await begin(platform, redirect_uri=redirect_uri)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert page.headers["content-type"].startswith("text/html")
    assert "redirect" in page.text.lower()


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "client_unknown"},
        {"client_id": None},
        {"client_id": None, "application_id": "00000000-0000-0000-0000-000000000000"},
        {"client_id": None, "application_id": "not-a-uuid"},
    ],
)
async def test_unknown_client_gets_an_error_page(
    platform: PlatformHarness, params: dict[str, str | None]
) -> None:
    page = await begin(platform, **params)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "application" in page.text


async def test_client_id_and_application_id_must_agree(platform: PlatformHarness) -> None:
    other = await platform.admin(
        "POST",
        "/admin/applications",
        json={"name": "Other", "redirectUris": [platform.redirect_uri]},
    )
    page = await begin(platform, application_id=other["id"])
    assert page.status_code == 400 and "location" not in page.headers


async def test_repeated_redirect_uri_gets_an_error_page(platform: PlatformHarness) -> None:
    url = platform.http.build_request("GET", "/oauth/authorize").url
    response = await platform.http.get(
        str(url),
        params=[
            ("response_type", "code"), ("client_id", platform.client_id), ("scope", "read_odometer"),
            ("redirect_uri", platform.redirect_uri), ("redirect_uri", "http://evil.example/"),
        ],
    )  # fmt: skip
    assert response.status_code == 400 and "location" not in response.headers


# --- invalid_request redirects ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"response_type": "token"}, "response_type"),
        ({"response_type": None}, "response_type"),
        ({"mode": "sandbox"}, "mode"),
        ({"approval_prompt": "sometimes"}, "approval_prompt"),
        ({"scope": "read_odometer read_everything"}, "read_everything"),
        ({"make": "NOTACAR"}, "make"),
        ({"single_select": "yes"}, "single_select"),
        ({"single_select_vin": "0SCAUDI037A5ADB1C"}, "single_select"),
        ({"single_select": "true", "single_select_vin": "SHORT"}, "single_select_vin"),
        ({"flags": "country:DE broken"}, "flags"),
        ({"code_challenge": "a" * 43}, "code_challenge_method"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "S256"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "code_challenge"),
        ({"code_challenge_method": "S256"}, "code_challenge"),
        ({"external_id": "x" * 256}, "external_id"),
        ({"user": "u" * 256}, "user"),
    ],
)
async def test_bad_parameters_redirect_with_invalid_request(
    sqlite_platform: PlatformHarness, params: dict[str, str | None], mentions: str
) -> None:
    response = await begin(sqlite_platform, state="keep me", **params)
    assert response.status_code == 302
    assert target_of(response) == sqlite_platform.redirect_uri
    query = query_of(response)
    assert query["error"] == "invalid_request"
    assert mentions in query["error_description"]
    assert query["state"] == "keep me"


async def test_valid_optional_parameters_are_accepted(platform: PlatformHarness) -> None:
    page = await begin(
        platform,
        flags="country:DE color:00819D",
        user="owner-17",
        approval_prompt="force",
        single_select="false",
        mode="test",
    )
    assert page.status_code == 200 and step_of(page) == "preamble"


async def test_repeated_parameter_is_invalid_request(platform: PlatformHarness) -> None:
    response = await platform.http.get(
        "/oauth/authorize",
        params=[
            ("response_type", "code"), ("client_id", platform.client_id), ("redirect_uri", platform.redirect_uri),
            ("scope", "read_odometer"), ("scope", "read_location"), ("state", "s"),
        ],
    )  # fmt: skip
    assert query_of(response)["error"] == "invalid_request"


# --- CSRF and signed flow state ---------------------------------------------------------------


async def test_missing_csrf_cookie_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    platform.http.cookies.clear()
    refused = await submit(platform.http, page, {"email": "a@b.c", "password": "pw"})
    assert refused.status_code == 403
    assert "Security check failed" in refused.text


async def test_missing_csrf_field_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    fields = hidden(page)
    del fields["csrf_token"]
    refused = await platform.http.post(
        "/oauth/connect/login", data=fields | {"email": "a@b.c", "password": "pw"}
    )
    assert refused.status_code == 403


async def test_tampered_csrf_field_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    fields = hidden(page)
    fields["csrf_token"] = fields["csrf_token"][:-2] + (
        "AA" if not fields["csrf_token"].endswith("AA") else "BB"
    )
    refused = await platform.http.post(
        "/oauth/connect/login", data=fields | {"email": "a@b.c", "password": "pw"}
    )
    assert refused.status_code == 403


async def test_a_page_from_another_browser_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    platform.http.cookies.clear()
    platform.http.cookies.set(
        CSRF_COOKIE, "a-different-browsers-cookie-value", domain="motorpool.test", path="/oauth"
    )
    refused = await submit(platform.http, page, {"email": "a@b.c", "password": "pw"})
    assert refused.status_code == 403


async def test_csrf_cookie_is_http_only_and_same_site(platform: PlatformHarness) -> None:
    page = await begin(platform)
    cookie = page.headers["set-cookie"].lower()
    assert CSRF_COOKIE in cookie and "httponly" in cookie and "samesite=lax" in cookie
    again = await begin(platform)
    assert "set-cookie" not in again.headers  # the same browser keeps its token


async def test_tampered_flow_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    fields = hidden(page)
    fields["flow"] = fields["flow"].replace(".", ".x", 1)
    refused = await platform.http.post(
        "/oauth/connect/login", data=fields | {"email": "a@b.c", "password": "pw"}
    )
    assert refused.status_code == 400
    assert "location" not in refused.headers


async def test_a_form_posted_to_the_wrong_step_is_refused(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login")
    refused = await platform.http.post(
        "/oauth/connect/permissions", data=hidden(page) | {"action": "approve"}
    )
    assert refused.status_code == 400
    assert "location" not in refused.headers
    unknown = await platform.http.post("/oauth/connect/nowhere", data=hidden(page))
    assert unknown.status_code == 400


async def test_expired_flow_is_refused(
    platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = await until_step(platform, "login")
    later = int(time.time()) + FLOW_TTL + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    refused = await submit(platform.http, page, {"email": "a@b.c", "password": "pw"})
    assert refused.status_code == 400
    assert "expired" in refused.text


async def test_reloading_a_form_answer_is_an_error_page(platform: PlatformHarness) -> None:
    response = await platform.http.get("/oauth/connect/login")
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]


async def test_garbage_form_is_handled(platform: PlatformHarness) -> None:
    response = await platform.http.post(
        "/oauth/connect/login",
        content=b"\xff\xfe=%%%",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (400, 403)
    assert "text/html" in response.headers["content-type"]


# --- codes ------------------------------------------------------------------------------------


async def test_a_code_works_once(platform: PlatformHarness) -> None:
    code = query_of(await connect_through(platform))["code"]
    assert (await redeem(platform, code)).status_code == 200
    reused = await redeem(platform, code)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_an_expired_code_is_refused(platform: PlatformHarness) -> None:
    from motorpool.platform.services.oauth import hash_code

    code = query_of(await connect_through(platform))["code"]
    async with platform.platform.sessions() as session, session.begin():
        row = await session.get(AuthorizationCode, hash_code(code))
        assert row is not None
        expires = repo.aware(row.expires_at)
        assert expires is not None
        assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
        await session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.code_hash == hash_code(code))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused = await redeem(platform, code)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_code_is_stored_hashed(platform: PlatformHarness) -> None:
    from sqlalchemy import select

    code = query_of(await connect_through(platform))["code"]
    async with platform.platform.sessions() as session:
        stored = (await session.scalars(select(AuthorizationCode.code_hash))).all()
    assert stored and code not in stored


async def test_code_needs_the_same_redirect_uri(platform: PlatformHarness) -> None:
    code = query_of(await connect_through(platform))["code"]
    refused = await redeem(platform, code, redirect_uri="http://localhost:8000/other")
    assert refused.json()["error"] == "invalid_grant"


async def test_pkce(platform: PlatformHarness) -> None:
    verifier = "v" * 20 + "-._~" + "W" * 30
    challenge = pkce_challenge(verifier)
    params = {"code_challenge": challenge, "code_challenge_method": "S256"}

    code = query_of(await connect_through(platform, **params))["code"]
    accepted = await redeem(platform, code, code_verifier=verifier)
    assert accepted.status_code == 200, accepted.text

    code = query_of(await connect_through(platform, approval_prompt="force", **params))["code"]
    wrong = await redeem(platform, code, code_verifier=verifier + "x")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    code = query_of(await connect_through(platform, approval_prompt="force", **params))["code"]
    missing = await redeem(platform, code)
    assert missing.status_code == 400


# --- reauthenticate ---------------------------------------------------------------------------


async def _connected_vehicle(
    h: PlatformHarness, email: str = "1-vehicles@smartcar.com", **params: str
) -> tuple[str, str]:
    query = query_of(await connect_through(h, email=email, **params))
    body = (await redeem(h, query["code"])).json()
    return query["user_id"], body["vehicle_ids"][0]


async def reauth(h: PlatformHarness, **params: str | None) -> httpx.Response:
    query = {
        "response_type": "vehicle_id",
        "client_id": h.client_id,
        "redirect_uri": h.redirect_uri,
        "state": "re 1",
    }
    query.update(params)
    return await h.http.get(
        "/oauth/reauthenticate", params={k: v for k, v in query.items() if v is not None}
    )


async def test_reauthenticate_redirects_with_the_vehicle(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await _connected_vehicle(platform, external_id="first")
    page = await reauth(platform, vehicle_id=vehicle_id, external_id="second")
    assert page.status_code == 200 and step_of(page) == "login"
    page = await submit(platform.http, page, {"email": "1-vehicles@smartcar.com", "password": "pw"})
    assert step_of(page) == "confirm"
    assert str(PERMISSIONS["read_odometer"]) in page.text
    done = await submit(platform.http, page, {"action": "approve"})
    assert target_of(done) == platform.redirect_uri
    assert query_of(done) == {"vehicle_id": vehicle_id, "state": "re 1", "external_id": "second"}
    stored = await connections_of(platform, user_id)
    assert stored[vehicle_id]["external_id"] == "second"
    assert stored[vehicle_id]["permissions"] == SCOPE.split()


async def test_reauthenticate_with_application_id_and_none_ends_on_a_page(
    platform: PlatformHarness,
) -> None:
    _, vehicle_id = await _connected_vehicle(platform)
    page = await reauth(
        platform, response_type="none", client_id=None, application_id=platform.application_id,
        redirect_uri=None, vehicle_id=vehicle_id,
    )  # fmt: skip
    page = await submit(platform.http, page, {"email": "1-vehicles@smartcar.com", "password": "pw"})
    done = await submit(platform.http, page, {"action": "approve"})
    assert done.status_code == 200 and "reconnected" in done.text
    assert done.headers["x-frame-options"] == "DENY"


async def test_reauthenticate_decline(platform: PlatformHarness) -> None:
    _, vehicle_id = await _connected_vehicle(platform)
    page = await reauth(platform, vehicle_id=vehicle_id)
    page = await submit(platform.http, page, {"email": "1-vehicles@smartcar.com", "password": "pw"})
    done = await submit(platform.http, page, {"action": "deny"})
    assert query_of(done)["error"] == "access_denied" and query_of(done)["state"] == "re 1"


async def test_reauthenticate_as_another_account_is_refused(platform: PlatformHarness) -> None:
    _, vehicle_id = await _connected_vehicle(platform)
    page = await reauth(platform, vehicle_id=vehicle_id)
    again = await submit(platform.http, page, {"email": "2-vehicles@smartcar.com", "password": "pw"})
    assert again.status_code == 403 and step_of(again) == "login"


async def test_reauthenticate_live_owner_needs_the_password(platform: PlatformHarness) -> None:
    owner = platform.first.owners[0]
    _, vehicle_id = await _connected_vehicle(
        platform, email=owner, password=platform.first.owner_password, mode="live"
    )
    page = await reauth(platform, vehicle_id=vehicle_id)
    wrong = await submit(platform.http, page, {"email": owner, "password": "wrong password"})
    assert wrong.status_code == 401
    right = await submit(platform.http, wrong, {"email": owner, "password": platform.first.owner_password}
    )
    done = await submit(platform.http, right, {"action": "approve"})
    assert query_of(done)["vehicle_id"] == vehicle_id


@pytest.mark.parametrize("vehicle_id", [None, "00000000-0000-0000-0000-000000000000"])
async def test_reauthenticate_unknown_vehicle_is_invalid_request(
    platform: PlatformHarness, vehicle_id: str | None
) -> None:
    response = await reauth(platform, vehicle_id=vehicle_id)
    assert query_of(response)["error"] == "invalid_request"


async def test_reauthenticate_bad_client_or_redirect_gets_an_error_page(
    platform: PlatformHarness,
) -> None:
    _, vehicle_id = await _connected_vehicle(platform)
    for params in (
        {"client_id": "client_nope"},
        {"redirect_uri": "http://localhost:8000/exchange/"},
        {"response_type": "code"},
    ):
        page = await reauth(platform, vehicle_id=vehicle_id, **params)
        assert page.status_code == 400 and "location" not in page.headers


# --- headers ----------------------------------------------------------------------------------


def assert_secure(response: httpx.Response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


async def test_security_headers_on_every_connect_response(platform: PlatformHarness) -> None:
    page = await begin(platform)
    assert_secure(page)
    assert_secure(await begin(platform, client_id="client_unknown"))
    assert_secure(await begin(platform, mode="nope"))
    brand = await submit(platform.http, page, {"action": "continue"})
    assert_secure(brand)
    login = await submit(platform.http, brand, {"make": first_brand(brand)})
    assert_secure(login)
    assert_secure(await submit(platform.http, login, {"action": "cancel"}))
    assert_secure(await platform.http.get("/oauth/connect/login"))


async def test_stylesheet_is_served_locally(platform: PlatformHarness) -> None:
    page = await begin(platform)
    assert 'href="/static/connect/connect.css"' in page.text
    assert "http://" not in page.text.split("<body", 1)[0].replace('content="', "")
    css = await platform.http.get("/static/connect/connect.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "@import" not in css.text and "url(" not in css.text
