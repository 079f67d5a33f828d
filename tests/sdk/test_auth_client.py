"""AuthClient: the Connect URL, its options, environment fallbacks, modes and PKCE."""

from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlsplit

import pytest

import motorpool


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_the_tutorial_call_works_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "client_abc")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", "secret")
    monkeypatch.setenv("SMARTCAR_REDIRECT_URI", "http://localhost:8000/exchange")
    client = motorpool.AuthClient(mode="simulated")
    url = client.get_auth_url(["read_vehicle_info"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://connect.smartcar.com/oauth/authorize"
    assert query(url) == {
        "response_type": ["code"],
        "client_id": ["client_abc"],
        "redirect_uri": ["http://localhost:8000/exchange"],
        "scope": ["read_vehicle_info"],
        "approval_prompt": ["auto"],
        "mode": ["simulated"],
    }


def test_every_connect_option_reaches_the_url() -> None:
    client = motorpool.AuthClient("cid", "secret", "https://app.example/cb", "test")
    url = client.get_auth_url(
        ["required:read_odometer", "read_location"],
        {
            "force_prompt": True,
            "state": "s 1",
            "make_bypass": "TESLA",
            "single_select": {"vin": "5YJ3E1EA7KF000001"},
            "flags": {"country": "DE", "tesla_auth": True},
            "user": "owner-7",
            "external_id": "ext-9",
            "code_challenge": "abc",
        },
    )
    assert query(url) == {
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["https://app.example/cb"],
        "scope": ["required:read_odometer read_location"],
        "approval_prompt": ["force"],
        "mode": ["test"],
        "state": ["s 1"],
        "make": ["TESLA"],
        "single_select": ["true"],
        "single_select_vin": ["5YJ3E1EA7KF000001"],
        "flags": ["country:DE tesla_auth:true"],
        "user": ["owner-7"],
        "external_id": ["ext-9"],
        "code_challenge": ["abc"],
        "code_challenge_method": ["S256"],
    }
    # Spaces are percent-encoded, never '+', so any decoder reads them back.
    assert "scope=required%3Aread_odometer%20read_location" in url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, {"single_select": ["true"]}),
        (False, {"single_select": ["false"]}),
        ({"enabled": True}, {"single_select": ["true"]}),
        ({"enabled": False}, {"single_select": ["false"]}),
        ({}, {"single_select": ["false"]}),
    ],
)
def test_single_select_forms(value: object, expected: dict[str, list[str]]) -> None:
    url = motorpool.AuthClient("cid").get_auth_url(None, {"single_select": value})
    found = {k: v for k, v in query(url).items() if k.startswith("single_select")}
    assert found == expected


def test_scope_may_be_left_out_and_redirect_is_optional() -> None:
    url = motorpool.AuthClient("cid").get_auth_url()
    assert "scope" not in query(url)
    assert "redirect_uri" not in query(url)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(motorpool.ConfigurationError, match="force_promt"):
        motorpool.AuthClient("cid").get_auth_url(None, {"force_promt": True})


def test_mode_is_validated() -> None:
    for mode in ("live", "simulated", "test"):
        assert motorpool.AuthClient("cid", mode=mode).mode == mode
    with pytest.raises(motorpool.ConfigurationError):
        motorpool.AuthClient("cid", mode="sandbox")
    with pytest.raises(ValueError):
        motorpool.AuthClient("cid", None, None, True)  # type: ignore[arg-type]


def test_test_mode_is_deprecated_but_honoured() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = motorpool.AuthClient("cid", test_mode=True)
    assert client.mode == "test"
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_client_id_is_required() -> None:
    with pytest.raises(motorpool.ConfigurationError, match="SMARTCAR_CLIENT_ID"):
        motorpool.AuthClient()


def test_connect_origin_comes_from_argument_base_url_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCAR_CONNECT_ORIGIN", "http://127.0.0.1:9999/")
    assert motorpool.AuthClient("cid").get_auth_url().startswith("http://127.0.0.1:9999/oauth/authorize?")
    assert motorpool.AuthClient("cid", base_url="http://127.0.0.1:4000").get_auth_url().startswith(
        "http://127.0.0.1:4000/oauth/authorize?"
    )
    assert motorpool.AuthClient("cid", connect_origin="http://c.test").get_auth_url().startswith(
        "http://c.test/oauth/authorize?"
    )


def test_pkce_challenge_matches_rfc_7636_appendix_b() -> None:
    assert (
        motorpool.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_pkce_pairs_are_fresh_and_consistent() -> None:
    first, second = motorpool.create_pkce_pair(), motorpool.create_pkce_pair()
    assert first.verifier != second.verifier
    assert 43 <= len(first.verifier) <= 128
    assert first.challenge == motorpool.pkce_challenge(first.verifier)
    assert first.method == "S256"
