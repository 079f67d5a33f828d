"""Error bodies become exceptions that mirror them one-to-one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

import motorpool
from motorpool.sdk._errors import (
    api_error_from_response,
    oauth_error_from_response,
    parse_retry_after,
)

from ..support.sdk import error_body

TYPES = [
    ("AUTHENTICATION", 401, motorpool.AuthenticationError),
    ("PERMISSION", 403, motorpool.PermissionDeniedError),
    ("VALIDATION", 400, motorpool.ValidationError),
    ("RESOURCE_NOT_FOUND", 404, motorpool.ResourceNotFoundError),
    ("CONNECTED_SERVICES_ACCOUNT", 400, motorpool.ConnectedServicesAccountError),
    ("VEHICLE_STATE", 409, motorpool.VehicleStateError),
    ("RATE_LIMIT", 429, motorpool.RateLimitError),
    ("BILLING", 430, motorpool.BillingError),
    ("COMPATIBILITY", 501, motorpool.CompatibilityError),
    ("UPSTREAM", 502, motorpool.UpstreamError),
    ("SERVER", 500, motorpool.ServerError),
]


@pytest.mark.parametrize(("error_type", "status", "cls"), TYPES)
def test_each_wire_type_has_its_class(error_type: str, status: int, cls: type[motorpool.ApiError]) -> None:
    body = error_body(status, error_type, "SOME_CODE", "what happened", resolution="RETRY_LATER")
    error = api_error_from_response(status, {"sc-request-id": "hdr-id"}, json.dumps(body).encode())
    assert type(error) is cls
    assert cls.error_type == error_type
    assert (error.status_code, error.type, error.code, error.description) == (status, error_type, "SOME_CODE", "what happened")
    assert error.request_id == "hdr-id"
    assert error.resolution == {"type": "RETRY_LATER"} and error.resolution_type == "RETRY_LATER"
    assert error.suggested_user_message == "Something went wrong."
    assert error.doc_url == "https://smartcar.com/docs/errors"
    assert str(error) == f"{error_type}:SOME_CODE - what happened"
    assert len(error.errors) == 1 and error.errors[0]["status"] == str(status)


def test_v3_errors_array_alone_is_enough() -> None:
    body = {
        "errors": [
            {"status": "400", "type": "VALIDATION", "code": "INVALID_INPUT_FORMAT", "title": "Bad Request",
             "detail": "Invalid latitude.", "links": {"about": "https://smartcar.com/docs/errors/v3/validation"}},
            {"status": "400", "type": "VALIDATION", "code": "INVALID_INPUT_FORMAT", "title": "Bad Request",
             "detail": "Invalid longitude."},
        ]
    }
    error = api_error_from_response(400, {}, json.dumps(body).encode())
    assert isinstance(error, motorpool.ValidationError)
    assert error.description == "Invalid latitude."
    assert error.doc_url == "https://smartcar.com/docs/errors/v3/validation"
    assert [e["detail"] for e in error.errors] == ["Invalid latitude.", "Invalid longitude."]


def test_flat_v2_body_alone_is_enough_and_a_string_resolution_is_kept() -> None:
    body = {"type": "RATE_LIMIT", "code": "VEHICLE", "description": "Slow down.", "statusCode": 429,
            "requestId": "body-id", "resolution": "RETRY_LATER", "docURL": "https://d", "suggestedUserMessage": "Wait."}
    error = api_error_from_response(429, {"retry-after": "120"}, json.dumps(body).encode())
    assert isinstance(error, motorpool.RateLimitError)
    assert error.request_id == "body-id"
    assert error.resolution_type == "RETRY_LATER"
    assert error.retry_after == 120.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, motorpool.AuthenticationError), (404, motorpool.ResourceNotFoundError), (503, motorpool.ServerError),
     (418, motorpool.ApiError)],
)
def test_bodies_without_a_type_fall_back_to_the_status(status: int, cls: type) -> None:
    error = api_error_from_response(status, {}, b"<html>gateway</html>")
    assert type(error) is cls
    assert error.body is None
    assert f"HTTP {status}" in str(error)


def test_unknown_types_keep_their_name() -> None:
    error = api_error_from_response(400, {}, json.dumps({"type": "BRAND_NEW", "description": "new"}).encode())
    assert isinstance(error, motorpool.ValidationError) and error.type == "BRAND_NEW"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 31


def test_oauth_bodies_become_oauth_errors() -> None:
    body = {"error": "invalid_client", "error_description": "Unknown client or wrong secret."}
    error = oauth_error_from_response(401, {"sc-request-id": "r"}, json.dumps(body).encode())
    assert isinstance(error, motorpool.OAuthError)
    assert (error.error, error.description, error.status_code, error.request_id) == (
        "invalid_client", "Unknown client or wrong secret.", 401, "r")
    assert str(error) == "invalid_client - Unknown client or wrong secret."


def test_a_token_endpoint_outage_reads_as_a_server_error() -> None:
    assert isinstance(oauth_error_from_response(503, {}, b""), motorpool.ServerError)


def test_hierarchy() -> None:
    assert issubclass(motorpool.RateLimitError, motorpool.ApiError)
    assert issubclass(motorpool.ApiError, motorpool.SmartcarError)
    assert issubclass(motorpool.OAuthError, motorpool.SmartcarError)
    assert issubclass(motorpool.ConnectError, motorpool.TransportError)
    assert issubclass(motorpool.ConfigurationError, ValueError)
    assert not motorpool.ConnectError("x").request_sent
    assert motorpool.ReadError("x").request_sent
