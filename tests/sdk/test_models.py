"""Models read both wire shapes (JSON:API and flat), ignore what they do not know, and carry meta."""

from __future__ import annotations

import gc
import json

import pytest

import motorpool
from motorpool.sdk._calls import _may_continue, following_signals_page

from ..support.sdk import signal_item, signals_body

CONNECTION = {
    "id": "c-1",
    "type": "connection",
    "attributes": {
        "permissions": ["read_vehicle_info", "read_odometer"],
        "externalId": "ext",
        "vehicle": {"make": "TESLA", "model": "Model 3", "year": 2022, "mode": "live", "powertrainType": "BEV"},
        "somethingNew": {"x": 1},
    },
    "relationships": {"vehicle": {"data": {"id": "v-1", "type": "vehicle"}}, "user": {"data": {"id": "u-1", "type": "user"}}},
    "meta": {"createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T00:00:00.000Z"},
    "links": {"self": "x"},
}


def test_connection_from_the_json_api_shape() -> None:
    connection = motorpool.Connection.model_validate(CONNECTION)
    assert (connection.id, connection.vehicle_id, connection.user_id) == ("c-1", "v-1", "u-1")
    assert connection.permissions == ["read_vehicle_info", "read_odometer"]
    assert connection.external_id == "ext" and connection.mode == "live"
    assert connection.vehicle is not None and connection.vehicle.powertrain_type == "BEV"
    assert connection.created_at is not None and connection.created_at.day == 1


def test_connection_from_the_flat_shape_the_tutorial_reads() -> None:
    flat = {"id": "c-1", "vehicleId": "v-1", "userId": "u-1", "connectedAt": "2026-01-01T00:00:00Z",
            "mode": "simulated", "permissions": ["read_odometer"]}
    connection = motorpool.Connection.model_validate(flat)
    assert (connection.vehicle_id, connection.user_id, connection.mode) == ("v-1", "u-1", "simulated")
    assert connection.created_at is not None


def test_vehicle_from_both_shapes() -> None:
    wrapped = {"id": "v", "type": "vehicle", "attributes": {"make": "TOYOTA", "model": "Camry", "year": 2020,
                                                            "powertrainType": "ICE", "mode": "live"}}
    flat = {"id": "v", "make": "TOYOTA", "model": "Camry", "year": 2020, "powertrainType": "ICE", "mode": "live"}
    assert motorpool.Vehicle.model_validate(wrapped) == motorpool.Vehicle.model_validate(flat)


def test_models_are_immutable() -> None:
    vehicle = motorpool.Vehicle.model_validate({"id": "v"})
    with pytest.raises(ValueError):
        vehicle.id = "w"  # type: ignore[misc]


def test_signal_list_looks_up_codes_and_builds_typed_views() -> None:
    items = [
        signal_item("odometer-traveleddistance", {"unit": "km", "value": 48210.4}),
        signal_item("location-preciselocation", {"latitude": 37.7, "longitude": -122.4, "heading": 90, "direction": "E",
                                                  "locationType": "CURRENT"}),
        signal_item("tractionbattery-stateofcharge", {"unit": "percent", "value": 78}),
        signal_item("tractionbattery-range", {"unit": "km", "value": 300, "additionalValues": [{"type": "RATED", "value": 320}]}),
        signal_item("charge-detailedchargingstatus", {"value": "CHARGING"}),
        signal_item("charge-ischargingcableconnected", {"value": True}),
        signal_item("charge-chargelimits", {"values": [{"type": "GLOBAL", "limit": 80, "condition": None}], "activeLimit": 80, "unit": "percent"}),
        signal_item("wheel-tires", {"values": [{"row": 0, "column": 0, "tirePressure": 230}, {"row": 1, "column": 1, "tirePressure": 240}], "unit": "kPa"}),
        signal_item("closure-islocked", {"value": False}),
        signal_item("closure-doors", {"values": [{"row": 0, "column": 0, "isOpen": True, "isLocked": False}]}),
        signal_item("internalcombustionengine-fuellevel", None, "ERROR",
                    {"type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE", "description": "No tank."}),
        signal_item("location-isathome", None, "ERROR", {"type": "PERMISSION", "code": None}),
    ]
    content = json.dumps(signals_body(items)).encode()
    signals = motorpool.SignalList.from_json(content)
    assert len(signals) == 12 and "odometer-traveleddistance" in signals and "nope" not in signals
    odometer = signals.odometer
    assert odometer is not None and (odometer.distance, odometer.unit) == (48210.4, "km")
    assert odometer.signal is not None and odometer.signal.oem_updated_at is not None
    assert signals.location is not None and (signals.location.direction, signals.location.location_type) == ("E", "CURRENT")
    assert signals.state_of_charge is not None and signals.state_of_charge.percent == 78
    assert signals.range is not None and signals.range.estimates == [motorpool.RangeEstimate(type="RATED", value=320)]
    charge = signals.charge_status
    assert charge is not None and (charge.state, charge.is_charging, charge.is_plugged_in, charge.charge_limit) == (
        "CHARGING", True, True, 80)
    tires = signals.tire_pressures
    assert tires is not None and (tires.front_left, tires.back_right, tires.front_right) == (230, 240, None)
    lock = signals.lock_status
    assert lock is not None and not lock.is_locked and lock.doors[0].is_open
    assert signals.fuel is None
    with pytest.raises(motorpool.CompatibilityError, match="No tank"):
        signals.require("internalcombustionengine-fuellevel")
    with pytest.raises(motorpool.PermissionDeniedError):
        signals.require("location-isathome")
    with pytest.raises(motorpool.ResourceNotFoundError):
        signals.require("nope-nope")
    assert signals.vehicle is not None and signals.vehicle.make == "TESLA"
    assert signals.total_count == 12 and signals.page_number == 1 and signals.next_link is None
    assert signals["odometer-traveleddistance"] is signals["odometer-traveleddistance"]
    assert [s.code for s in signals][:2] == ["odometer-traveleddistance", "location-preciselocation"]
    assert signals.raw["meta"]["totalCount"] == 12


def test_merged_pages_keep_every_signal_and_the_last_links() -> None:
    first = motorpool.SignalList.from_json(json.dumps(signals_body(
        [signal_item("odometer-traveleddistance", {"value": 1})], size=1, total=2, next_link="n")).encode())
    second = motorpool.SignalList.from_json(json.dumps(signals_body(
        [signal_item("closure-islocked", {"value": True})], page=2, size=1, total=2)).encode())
    both = first.merged(second)
    assert both.codes == ["odometer-traveleddistance", "closure-islocked"]
    assert both.next_link is None


def test_paging_decisions_with_and_without_links() -> None:
    def page(**kwargs: object) -> motorpool.SignalList:
        return motorpool.SignalList.from_json(json.dumps(signals_body([signal_item("a-b", {"value": 1})], **kwargs)).encode())  # type: ignore[arg-type]

    assert following_signals_page(page(size=1, total=3, next_link="n")) == (2, 1)
    assert following_signals_page(page(size=1, total=3)) is None  # links present, next is null: done
    no_links = {"data": [signal_item("a-b", {"value": 1})], "meta": {"page": 1, "pageSize": 1, "totalCount": 3}}
    assert following_signals_page(motorpool.SignalList(no_links)) == (2, 1)


@pytest.mark.parametrize(
    ("body", "may_continue"),
    [
        (signals_body([signal_item("a-b", {"value": 1})]), False),
        (signals_body([signal_item("a-b", {"value": 1})], size=1, total=5, next_link="http://n"), True),
        ({"data": [], "meta": {"pageSize": 1, "totalCount": 5}}, True),
        ({"data": [], "meta": {"totalCount": 5}}, True),
        ({"data": [signal_item("a-b", {"next": None})]}, False),
        ({"links": {"next": "http://n"}, "meta": {"totalCount": 9, "pageSize": 1}, "data": [signal_item("a-b", {"value": 1})]}, True),
        ({"data": [], "meta": {"totalCount": 9, "pageSize": 10}, "links": {"next": "http://n"}}, True),
    ],
)
def test_the_cheap_paging_scan_never_misses_a_following_page(body: dict[str, object], may_continue: bool) -> None:
    content = json.dumps(body, indent=1).encode()
    assert _may_continue(content) is may_continue
    if not may_continue:
        signals = motorpool.SignalList.from_json(content)
        assert following_signals_page(signals) is None


def test_command_execution_from_the_documented_examples() -> None:
    command = {"data": {"id": "exec_1", "type": "command-execution",
                        "attributes": {"commandType": "charge-set-limit", "status": {"value": "SUCCESS"},
                                       "executionMode": "sync", "parameters": {"percent": 80}},
                        "meta": {"executedAt": "2026-05-01T12:00:00Z", "completedAt": "2026-05-01T12:00:02Z",
                                 "durationInSeconds": 2}}}["data"]
    execution = motorpool.CommandExecution.model_validate(command)
    assert (execution.command_type, execution.status, execution.execution_mode) == ("charge-set-limit", "SUCCESS", "sync")
    assert execution.parameters == {"percent": 80} and execution.succeeded and not execution.is_pending
    assert execution.duration_seconds == 2
    schedule = {"id": "exec_2", "type": "charge-schedule-execution",
                "attributes": {"action": "create", "scheduleType": "daily", "status": {"value": "PENDING"},
                               "executionMode": "async", "scheduleId": "sched_1"},
                "links": {"schedule": "/vehicles/v/charge-schedules/sched_1"}}
    execution = motorpool.CommandExecution.model_validate(schedule)
    assert (execution.action, execution.schedule_type, execution.schedule_id) == ("create", "daily", "sched_1")
    assert execution.is_pending


def test_webhook_and_subscription_from_the_documented_examples() -> None:
    webhook = motorpool.Webhook.model_validate({
        "id": "w", "type": "webhook",
        "attributes": {"name": "Charging", "callbackUri": "https://e/w", "isEnabled": True,
                       "triggers": [{"group": "TractionBattery", "name": "StateOfCharge", "code": "tractionbattery-stateofcharge"}],
                       "data": [{"group": "Odometer", "name": "TraveledDistance", "code": "odometer-traveleddistance"}],
                       "errorCallbackUri": "https://e/err", "autoSubscribe": False},
        "meta": {"createdAt": "2026-01-01T00:00:00Z"}})
    assert (webhook.name, webhook.callback_uri, webhook.is_enabled, webhook.auto_subscribe) == ("Charging", "https://e/w", True, False)
    assert [s.code for s in webhook.triggers] == ["tractionbattery-stateofcharge"]
    assert [s.code for s in webhook.data_signals] == ["odometer-traveleddistance"]
    subscription = motorpool.Subscription.model_validate({
        "id": "s", "type": "subscription",
        "attributes": {"vehicle": {"make": "TESLA", "model": "3", "year": 2022, "mode": "live", "powertrainType": "BEV"}},
        "relationships": {"webhook": {"data": {"type": "webhook", "id": "w"}},
                          "user": {"data": {"type": "user", "id": "u"}},
                          "vehicle": {"data": {"type": "vehicle", "id": "v"}}},
        "meta": {"createdAt": "2026-01-01T00:00:00Z"}})
    assert (subscription.webhook_id, subscription.user_id, subscription.vehicle_id) == ("w", "u", "v")


def test_fleet_results_decode_on_first_use_and_cache_while_held() -> None:
    content = json.dumps(signals_body([signal_item("odometer-traveleddistance", {"unit": "km", "value": 5})])).encode()
    meta = motorpool.ResponseMeta(200, {"sc-request-id": "r-1"})
    result = motorpool.FleetResult("v", "u", pages=[(meta, content)])
    assert result.ok and result.meta.request_id == "r-1"
    held = result.signals
    assert held is not None and held is result.signals and held.meta.request_id == "r-1"
    assert held.odometer is not None and held.odometer.distance == 5
    del held
    gc.collect()
    assert result.signals is not None  # decoded again once nobody held the last one
    failed = motorpool.FleetResult("v", "u", error=motorpool.ConnectError("down"))
    assert not failed.ok and failed.signals is None


def test_fleet_result_with_a_broken_body_says_so_on_use() -> None:
    result = motorpool.FleetResult("v", "u", pages=[(motorpool.ResponseMeta(status_code=200), b"<html>")])
    with pytest.raises(motorpool.UnexpectedResponseError):
        result.signals  # noqa: B018


def test_response_meta_reads_the_headers() -> None:
    meta = motorpool.ResponseMeta.from_headers(200, {
        "sc-request-id": "r", "sc-data-age": "2026-11-28T13:43:31.060Z", "sc-fetched-at": "bad", "sc-unit-system": "imperial"})
    assert meta.request_id == "r" and meta.unit_system == "imperial" and meta.fetched_at is None
    assert meta.data_age is not None and meta.data_age.tzinfo is not None
