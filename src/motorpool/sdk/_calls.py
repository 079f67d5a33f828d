"""Every API call the clients make, described once as a :class:`Call`.

The sync and async resources call these builders and hand the result to their driver; nothing
here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import AliasChoices, AliasPath, Field

from ._core import Call, parse_model, path_segment
from ._errors import UnexpectedResponseError
from ._models import (
    CommandExecution,
    Connection,
    Deleted,
    FleetResult,
    ResponseMeta,
    Signal,
    SignalList,
    SmartcarModel,
    Subscription,
    SubscriptionRequest,
    Vehicle,
    Webhook,
)
from ._pagination import Page
from ._transport import RawResponse

ItemT = TypeVar("ItemT", bound=SmartcarModel)
ModelT = TypeVar("ModelT", bound=SmartcarModel)
T = TypeVar("T")


class PageBody(SmartcarModel, Generic[ItemT]):
    """A collection answer: ``data`` (or the flat ``connections``) with paging meta and links."""

    items: list[ItemT] = Field(default_factory=list, validation_alias=AliasChoices("data", "connections"))
    page_number: int | None = Field(
        None, validation_alias=AliasChoices(AliasPath("meta", "pageNumber"), AliasPath("meta", "page"))
    )
    page_size: int | None = Field(None, validation_alias=AliasChoices(AliasPath("meta", "pageSize")))
    total_count: int | None = Field(None, validation_alias=AliasChoices(AliasPath("meta", "totalCount")))
    links: dict[str, Any] | None = None


class _Single(SmartcarModel, Generic[ModelT]):
    data: ModelT | None = None


def _meta(response: RawResponse) -> ResponseMeta:
    return ResponseMeta.from_headers(response.status_code, response.headers)


def _single(model: type[ModelT]) -> Callable[[RawResponse], ModelT]:
    """Parse ``{"data": {...}}`` into ``model``, or the bare resource older services send."""
    envelope = _Single[model]  # type: ignore[valid-type]

    def parse(response: RawResponse) -> ModelT:
        wrapped = parse_model(envelope, response)
        result: ModelT = wrapped.data if wrapped.data is not None else parse_model(model, response)
        result._attach(_meta(response), response.content)
        return result

    return parse


def _whole(model: type[ModelT]) -> Callable[[RawResponse], ModelT]:
    def parse(response: RawResponse) -> ModelT:
        result: ModelT = (
            model.model_validate({}) if not response.content else parse_model(model, response)
        )
        result._attach(_meta(response), response.content)
        return result

    return parse


_PARSE_CONNECTION = _single(Connection)
_PARSE_VEHICLE = _single(Vehicle)
_PARSE_SIGNAL = _single(Signal)
_PARSE_COMMANDEXECUTION = _single(CommandExecution)
_PARSE_WEBHOOK = _single(Webhook)
_PARSE_SUBSCRIPTION = _single(Subscription)
_PARSE_DELETED = _whole(Deleted)
_PARSE_SUBSCRIPTIONREQUEST = _whole(SubscriptionRequest)


def _has_next(body: PageBody[Any], number: int, size: int | None) -> bool:
    if body.links is not None:
        return body.links.get("next") is not None
    if body.total_count is None or size is None:
        return False
    return number * size < body.total_count


def _paged(
    model: type[ItemT], next_call: Callable[[int, int | None], Call[Page[ItemT]]]
) -> Callable[[RawResponse], Page[ItemT]]:
    envelope = PageBody[model]  # type: ignore[valid-type]

    def parse(response: RawResponse) -> Page[ItemT]:
        body: PageBody[ItemT] = parse_model(envelope, response)
        number = body.page_number or 1
        more = _has_next(body, number, body.page_size) and bool(body.items)
        return Page(
            body.items,
            page_number=number,
            page_size=body.page_size,
            total_count=body.total_count,
            next_call=next_call(number + 1, body.page_size) if more else None,
            meta=_meta(response),
            content=response.content,
        )

    return parse


def _page_params(number: int | None, size: int | None) -> list[tuple[str, str]]:
    params = []
    if number is not None:
        params.append(("page[number]", str(number)))
    if size is not None:
        params.append(("page[size]", str(size)))
    return params


def _filters(**values: str | None) -> list[tuple[str, str]]:
    return [(f"filter[{name}]", value) for name, value in values.items() if value is not None]


# --- connections and users ----------------------------------------------------------------------


def list_connections(
    *,
    user_id: str | None = None,
    vehicle_id: str | None = None,
    mode: str | None = None,
    external_id: str | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
) -> Call[Page[Connection]]:
    """``GET /v3/connections``, filtered and paged."""
    filters = _filters(
        userId=user_id, vehicleId=vehicle_id, **{"vehicle.mode": mode, "user.externalId": external_id}
    )

    def following(number: int, size: int | None) -> Call[Page[Connection]]:
        return list_connections(
            user_id=user_id,
            vehicle_id=vehicle_id,
            mode=mode,
            external_id=external_id,
            page_number=number,
            page_size=size,
        )

    return Call(
        "GET",
        "vehicle",
        "/v3/connections",
        _paged(Connection, following),
        params=(*filters, *_page_params(page_number, page_size)),
    )


def get_connection(connection_id: str) -> Call[Connection]:
    """``GET /v3/connections/{id}``."""
    return Call("GET", "vehicle", f"/v3/connections/{path_segment(connection_id)}", _PARSE_CONNECTION)


def delete_connection(connection_id: str) -> Call[Deleted]:
    """``DELETE /v3/connections/{id}``."""
    return Call(
        "DELETE",
        "vehicle",
        f"/v3/connections/{path_segment(connection_id)}",
        _PARSE_DELETED,
        idempotent=False,
    )


def delete_user(user_id: str) -> Call[Deleted]:
    """``DELETE /v3/users/{id}``: the user and all their connections."""
    return Call(
        "DELETE", "vehicle", f"/v3/users/{path_segment(user_id)}", _PARSE_DELETED, idempotent=False
    )


# --- vehicles and signals -----------------------------------------------------------------------


def get_vehicle(vehicle_id: str) -> Call[Vehicle]:
    """``GET /v3/vehicles/{id}``."""
    return Call("GET", "vehicle", f"/v3/vehicles/{path_segment(vehicle_id)}", _PARSE_VEHICLE)


def signal_list(response: RawResponse) -> SignalList:
    """Decode a signal-list answer."""
    try:
        return SignalList.from_json(response.content, _meta(response))
    except ValueError as error:
        raise UnexpectedResponseError(
            f"The answer (HTTP {response.status_code}) is not a signal list: {error}",
            status_code=response.status_code,
            content=response.content,
        ) from error


def _keep(response: RawResponse) -> RawResponse:
    return response


def _signals_call(
    vehicle_id: str, parse: Callable[[RawResponse], T], page_number: int | None, page_size: int | None
) -> Call[T]:
    params = []
    if page_number is not None:
        params.append(("page", str(page_number)))
    if page_size is not None:
        params.append(("pageSize", str(page_size)))
    return Call(
        "GET",
        "vehicle",
        f"/v3/vehicles/{path_segment(vehicle_id)}/signals",
        parse,
        params=tuple(params),
        needs_user=True,
    )


def list_signals(
    vehicle_id: str, *, page_number: int | None = None, page_size: int | None = None
) -> Call[SignalList]:
    """``GET /v3/vehicles/{id}/signals`` (one page), decoded."""
    return _signals_call(vehicle_id, signal_list, page_number, page_size)


def list_signals_raw(
    vehicle_id: str, *, page_number: int | None = None, page_size: int | None = None
) -> Call[RawResponse]:
    """``GET /v3/vehicles/{id}/signals`` (one page), kept as received (fleet reads)."""
    return _signals_call(vehicle_id, _keep, page_number, page_size)


def following_signals_page(signals: SignalList) -> tuple[int, int | None] | None:
    """(page number, page size) of the page after ``signals``, or None when it was the last."""
    number = signals.page_number or 1
    size = signals.page_size
    if signals.has_links:
        more = signals.next_link is not None
    elif signals.total_count is not None and size:
        more = number * size < signals.total_count
    else:
        more = False
    return (number + 1, size) if more and len(signals) > 0 else None


def next_signals_page(vehicle_id: str, signals: SignalList) -> Call[SignalList] | None:
    """The call for the page after ``signals``, or None when it was the last."""
    following = following_signals_page(signals)
    if following is None:
        return None
    return list_signals(vehicle_id, page_number=following[0], page_size=following[1])


# A fleet read keeps answers undecoded, so it learns whether another page follows from the bytes:
# the last "next" member (links.next) holding a string, or the last "totalCount" exceeding the
# last "pageSize" (meta), sends the page to a full decode that decides exactly. Top-level members
# follow "data" in the answers of motorpool and of the documented examples, so searching from the
# end finds them after a few hundred bytes; a regex or a forward scan over a ~50 KB answer costs
# more than the rest of the request. Both tests would have to be misled, by members of the same
# names nested inside the signals, for a following page to be missed.
_VALUE = re.compile(rb'\s*:\s*("|-?\d+|null)')


def _last_value(content: bytes, key: bytes) -> bytes | None:
    """The start of the value after the last occurrence of ``key``: ``"``, digits or null."""
    position = content.rfind(key)
    if position == -1:
        return None
    match = _VALUE.match(content, position + len(key))
    return match.group(1) if match is not None else None


def _may_continue(content: bytes) -> bool:
    following = _last_value(content, b'"next"')
    if following is not None:
        # With links present, links.next alone decides (as following_signals_page does).
        return following == b'"'
    total = _last_value(content, b'"totalCount"')
    if total is None or total in (b'"', b"null"):
        return False
    size = _last_value(content, b'"pageSize"')
    return size is None or size in (b'"', b"null") or int(total) > int(size)


def fleet_result(vehicle_id: str, user_id: str | None, pages: list[RawResponse]) -> FleetResult:
    """A vehicle's fleet-read outcome from its undecoded pages."""
    return FleetResult(
        vehicle_id, user_id, pages=[(_meta(page), page.content) for page in pages]
    )


def next_raw_signals_page(vehicle_id: str, response: RawResponse) -> Call[RawResponse] | None:
    """The call for the page after an undecoded signal-list answer, or None when it was the last."""
    if not _may_continue(response.content):
        return None
    following = following_signals_page(signal_list(response))
    if following is None:
        return None
    return list_signals_raw(vehicle_id, page_number=following[0], page_size=following[1])


def get_signal(vehicle_id: str, code: str) -> Call[Signal]:
    """``GET /v3/vehicles/{id}/signals/{code}``."""
    return Call(
        "GET",
        "vehicle",
        f"/v3/vehicles/{path_segment(vehicle_id)}/signals/{path_segment(code)}",
        _PARSE_SIGNAL,
        needs_user=True,
    )


# --- commands and charge schedules ----------------------------------------------------------------


def command(vehicle_id: str, action: str, attributes: Mapping[str, Any] | None = None) -> Call[CommandExecution]:
    """``POST /v3/vehicles/{id}/commands/{action}`` (e.g. ``security/lock``)."""
    body = {"data": {"attributes": dict(attributes)}} if attributes is not None else None
    return Call(
        "POST",
        "vehicle",
        f"/v3/vehicles/{path_segment(vehicle_id)}/commands/{action}",
        _PARSE_COMMANDEXECUTION,
        body=body,
        needs_user=True,
        idempotent=False,
    )


def get_execution(vehicle_id: str, execution_id: str) -> Call[CommandExecution]:
    """``GET /v3/vehicles/{id}/commands/executions/{executionId}``."""
    return Call(
        "GET",
        "vehicle",
        f"/v3/vehicles/{path_segment(vehicle_id)}/commands/executions/{path_segment(execution_id)}",
        _PARSE_COMMANDEXECUTION,
        needs_user=True,
    )


def create_charge_schedule(
    vehicle_id: str, schedule_type: str, attributes: Mapping[str, Any]
) -> Call[CommandExecution]:
    """``POST /v3/vehicles/{id}/charge-schedules/{daily|weekly|workweek}``."""
    return Call(
        "POST",
        "vehicle",
        f"/v3/vehicles/{path_segment(vehicle_id)}/charge-schedules/{schedule_type}",
        _PARSE_COMMANDEXECUTION,
        body={"data": {"attributes": dict(attributes)}},
        needs_user=True,
        idempotent=False,
    )


def _execution_or_deleted(response: RawResponse) -> CommandExecution | Deleted:
    if response.content.strip():
        return _PARSE_COMMANDEXECUTION(response)
    return _PARSE_DELETED(response)


def delete_charge_schedule(vehicle_id: str, schedule_id: str) -> Call[CommandExecution | Deleted]:
    """``DELETE /v3/vehicles/{id}/charge-schedules/{scheduleId}``."""
    return Call(
        "DELETE",
        "vehicle",
        f"/v3/vehicles/{path_segment(vehicle_id)}/charge-schedules/{path_segment(schedule_id)}",
        _execution_or_deleted,
        needs_user=True,
        idempotent=False,
    )


# --- management: webhooks and subscriptions -------------------------------------------------------


def list_webhooks(
    *,
    name: str | None = None,
    callback_uri: str | None = None,
    is_enabled: bool | None = None,
    auto_subscribe: bool | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
) -> Call[Page[Webhook]]:
    """``GET /v3/webhooks``."""

    def flag(value: bool | None) -> str | None:
        return None if value is None else str(value).lower()

    filters = _filters(
        name=name, callbackUri=callback_uri, isEnabled=flag(is_enabled), autoSubscribe=flag(auto_subscribe)
    )

    def following(number: int, size: int | None) -> Call[Page[Webhook]]:
        return list_webhooks(
            name=name,
            callback_uri=callback_uri,
            is_enabled=is_enabled,
            auto_subscribe=auto_subscribe,
            page_number=number,
            page_size=size,
        )

    return Call(
        "GET",
        "management",
        "/v3/webhooks",
        _paged(Webhook, following),
        params=(*filters, *_page_params(page_number, page_size)),
    )


def get_webhook(webhook_id: str) -> Call[Webhook]:
    """``GET /v3/webhooks/{id}``."""
    return Call("GET", "management", f"/v3/webhooks/{path_segment(webhook_id)}", _PARSE_WEBHOOK)


def list_subscriptions(
    *,
    webhook_id: str | None = None,
    user_id: str | None = None,
    vehicle_id: str | None = None,
    mode: str | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
) -> Call[Page[Subscription]]:
    """``GET /v3/subscriptions``."""
    filters = _filters(
        webhookId=webhook_id, userId=user_id, vehicleId=vehicle_id, **{"vehicle.mode": mode}
    )

    def following(number: int, size: int | None) -> Call[Page[Subscription]]:
        return list_subscriptions(
            webhook_id=webhook_id,
            user_id=user_id,
            vehicle_id=vehicle_id,
            mode=mode,
            page_number=number,
            page_size=size,
        )

    return Call(
        "GET",
        "management",
        "/v3/subscriptions",
        _paged(Subscription, following),
        params=(*filters, *_page_params(page_number, page_size)),
    )


def get_subscription(subscription_id: str) -> Call[Subscription]:
    """``GET /v3/subscriptions/{id}``."""
    return Call(
        "GET", "management", f"/v3/subscriptions/{path_segment(subscription_id)}", _PARSE_SUBSCRIPTION
    )


def create_subscription(webhook_id: str, user_id: str, vehicle_id: str) -> Call[SubscriptionRequest]:
    """``POST /v3/subscriptions``: subscribe a user's vehicle to a webhook."""
    return Call(
        "POST",
        "management",
        "/v3/subscriptions",
        _PARSE_SUBSCRIPTIONREQUEST,
        body={
            "data": {
                "type": "subscription",
                "attributes": {"webhookId": webhook_id, "userId": user_id, "vehicleId": vehicle_id},
            }
        },
        idempotent=False,
    )


def delete_subscription(subscription_id: str) -> Call[Deleted]:
    """``DELETE /v3/subscriptions/{id}``."""
    return Call(
        "DELETE",
        "management",
        f"/v3/subscriptions/{path_segment(subscription_id)}",
        _PARSE_DELETED,
        idempotent=False,
    )
