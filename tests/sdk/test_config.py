"""Where requests go: defaults, base_url, environment variables read at client creation."""

from __future__ import annotations

import pytest

import motorpool
from motorpool.sdk._config import token_url_for


def test_defaults_are_the_real_service() -> None:
    origins = motorpool.Origins.resolve(environ={})
    assert origins.token_url == "https://iam.smartcar.com/oauth2/token"
    assert origins.authorize_url == "https://connect.smartcar.com/oauth/authorize"
    assert origins.vehicle_api == "https://vehicle.api.smartcar.com"
    assert origins.management_api == "https://management.api.smartcar.com"


def test_base_url_points_every_surface_at_one_origin() -> None:
    origins = motorpool.Origins.resolve(base_url="http://127.0.0.1:4000/", environ={})
    assert origins.token_url == "http://127.0.0.1:4000/oauth2/token"
    assert origins.authorize_url == "http://127.0.0.1:4000/oauth/authorize"
    assert origins.vehicle_api == origins.management_api == "http://127.0.0.1:4000"


def test_official_environment_variables_override_each_surface() -> None:
    env = {
        "SMARTCAR_AUTH_ORIGIN": "http://a.test",
        "SMARTCAR_CONNECT_ORIGIN": "http://c.test",
        "SMARTCAR_VEHICLE_API_V3_ORIGIN": "http://v.test",
        "SMARTCAR_MANAGEMENT_API_ORIGIN": "http://m.test",
    }
    origins = motorpool.Origins.resolve(environ=env)
    assert (origins.token_url, origins.authorize_url, origins.vehicle_api, origins.management_api) == (
        "http://a.test/oauth2/token",
        "http://c.test/oauth/authorize",
        "http://v.test",
        "http://m.test",
    )


def test_the_node_sdk_name_is_an_alias_and_the_python_name_wins() -> None:
    assert motorpool.Origins.resolve(environ={"SMARTCAR_API_V3_ORIGIN": "http://n.test"}).vehicle_api == "http://n.test"
    both = {"SMARTCAR_API_V3_ORIGIN": "http://n.test", "SMARTCAR_VEHICLE_API_V3_ORIGIN": "http://p.test"}
    assert motorpool.Origins.resolve(environ=both).vehicle_api == "http://p.test"


def test_explicit_arguments_beat_base_url_which_beats_environment() -> None:
    env = {"SMARTCAR_VEHICLE_API_V3_ORIGIN": "http://env.test"}
    assert motorpool.Origins.resolve(base_url="http://base.test", environ=env).vehicle_api == "http://base.test"
    chosen = motorpool.Origins.resolve(base_url="http://base.test", vehicle_api_origin="http://arg.test", environ=env)
    assert chosen.vehicle_api == "http://arg.test"
    assert chosen.management_api == "http://base.test"


def test_auth_origin_may_be_the_full_token_url_as_in_the_official_sdk() -> None:
    assert token_url_for("https://iam.smartcar.com") == "https://iam.smartcar.com/oauth2/token"
    assert token_url_for("http://127.0.0.1:4000/") == "http://127.0.0.1:4000/oauth2/token"
    assert token_url_for("http://127.0.0.1:4000/oauth/token") == "http://127.0.0.1:4000/oauth/token"


def test_environment_is_read_when_a_client_is_made_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "id-from-env")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", "secret-from-env")
    monkeypatch.setenv("SMARTCAR_VEHICLE_API_V3_ORIGIN", "http://first.test")
    first = motorpool.Client()
    monkeypatch.setenv("SMARTCAR_VEHICLE_API_V3_ORIGIN", "http://second.test")
    second = motorpool.Client()
    assert first.origins.vehicle_api == "http://first.test"
    assert second.origins.vehicle_api == "http://second.test"
    assert second.client_id == "id-from-env"
    first.close()
    second.close()


@pytest.mark.parametrize("cls", [motorpool.Client, motorpool.AsyncClient])
def test_credentials_are_required(cls: type) -> None:
    with pytest.raises(motorpool.ConfigurationError, match="SMARTCAR_CLIENT_SECRET"):
        cls("only-an-id")


@pytest.mark.parametrize("cls", [motorpool.Client, motorpool.AsyncClient])
def test_unit_system_is_validated(cls: type) -> None:
    with pytest.raises(motorpool.ConfigurationError):
        cls("id", "secret", unit_system="furlongs")


def test_timeouts_normalise() -> None:
    assert motorpool.Timeout.of(5) == motorpool.Timeout(connect=5, read=5)
    assert motorpool.Timeout.of(None) == motorpool.Timeout(connect=None, read=None)
    custom = motorpool.Timeout(connect=1, read=2)
    assert motorpool.Timeout.of(custom) is custom


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    pinned = motorpool.RetryPolicy(initial_delay=0.5, max_delay=3.0, random=lambda: 0.0)
    assert [pinned.backoff(n) for n in range(4)] == [0.5, 1.0, 2.0, 3.0]
    jittered = motorpool.RetryPolicy(initial_delay=1.0, random=lambda: 0.999)
    assert 0.75 <= jittered.backoff(0) < 1.0


def test_motorpool_url_comes_after_base_url_and_before_the_smartcar_variables() -> None:
    env = {"MOTORPOOL_URL": "http://mp.test/", "SMARTCAR_VEHICLE_API_V3_ORIGIN": "http://env.test"}
    origins = motorpool.Origins.resolve(environ=env)
    assert (origins.vehicle_api, origins.management_api, origins.token_url, origins.authorize_url) == (
        "http://mp.test", "http://mp.test", "http://mp.test/oauth2/token", "http://mp.test/oauth/authorize")
    assert motorpool.Origins.resolve(base_url="http://base.test", environ=env).vehicle_api == "http://base.test"
    assert motorpool.Origins.resolve(vehicle_api_origin="http://arg.test", environ=env).vehicle_api == "http://arg.test"
    # `MOTORPOOL_URL=` in a shell means "not set".
    assert motorpool.Origins.resolve(environ={**env, "MOTORPOOL_URL": " "}).vehicle_api == "http://env.test"


def test_every_client_reads_motorpool_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTORPOOL_URL", "http://mp.test")
    auth = motorpool.AuthClient("cid", "sec", "https://app.example/cb")
    assert auth.get_auth_url(["read_odometer"]).startswith("http://mp.test/oauth/authorize?")
    for cls in (motorpool.Client, motorpool.AsyncClient):
        assert cls("cid", "sec").origins.vehicle_api == "http://mp.test"
