"""The security settings: a strong control token beyond loopback, allowed hosts, callback
origins (docs/security.md)."""

from __future__ import annotations

import pytest

from mock_ft.errors import ConfigError
from mock_ft.origins import host_name, is_loopback, origin_text, parse_origin
from mock_ft.settings import MIN_CONTROL_TOKEN, load_settings

ALL = "0.0.0.0"  # noqa: S104 - a bind beyond loopback, which is what these tests are about


@pytest.mark.parametrize(
    "token", [" ", " " * 40, "short-token", f" {'x' * MIN_CONTROL_TOKEN}", "x" * 15]
)
def test_refuse_weak_control_token_beyond_loopback(token: str) -> None:
    with pytest.raises(ConfigError, match=f"at least {MIN_CONTROL_TOKEN} characters"):
        load_settings(host=ALL, control_token=token)


def test_accept_strong_control_token_beyond_loopback() -> None:
    token = "x" * MIN_CONTROL_TOKEN
    settings = load_settings(host=ALL, control_token=token)
    assert settings.control_token is not None
    assert settings.control_token.get_secret_value() == token


def test_accept_any_control_token_on_loopback() -> None:
    """On loopback a token is optional, so a short one is the user's choice."""
    assert load_settings(control_token="t").control_token is not None


def test_read_allowed_hosts_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_FT_ALLOWED_HOSTS", "mock, FT.Staging.Example:8765")
    assert load_settings().allowed_hosts == ["mock", "ft.staging.example"]


@pytest.mark.parametrize("host", ["http://mock", "mock/x", "a b", "user@mock"])
def test_refuse_allowed_host_that_is_not_a_name(host: str) -> None:
    with pytest.raises(ConfigError, match="MOCK_FT_ALLOWED_HOSTS"):
        load_settings(allowed_hosts=[host])


def test_refuse_any_host_without_control_token() -> None:
    with pytest.raises(ConfigError, match="DNS rebinding"):
        load_settings(allowed_hosts="*")
    assert load_settings(allowed_hosts="*", control_token="t").allowed_hosts == ["*"]


def test_read_callback_origins_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "MOCK_FT_CALLBACK_ALLOWED_ORIGINS", "http://CRM:8080/, https://hooks.example:443"
    )
    assert load_settings().callback_allowed_origins == [
        "http://crm:8080",
        "https://hooks.example",
    ]


@pytest.mark.parametrize(
    "origin", ["crm:8080", "ftp://crm", "http://crm/path", "http://u:p@crm", "http://crm:x"]
)
def test_refuse_callback_origin_that_is_not_an_origin(origin: str) -> None:
    with pytest.raises(ConfigError, match="MOCK_FT_CALLBACK_ALLOWED_ORIGINS"):
        load_settings(callback_allowed_origins=[origin])


@pytest.mark.parametrize(
    ("value", "name"),
    [("mock:8765", "mock"), ("[::1]:80", "::1"), ("LOCALHOST", "localhost"), ("a:b", None)],
)
def test_read_host_header_name(value: str, name: str | None) -> None:
    assert host_name(value) == name


def test_write_ipv6_origin_with_brackets() -> None:
    origin = parse_origin("http://[::1]:8080")
    assert origin == ("http", "::1", 8080)
    assert origin_text(origin) == "http://[::1]:8080"


def test_classify_bracketed_ipv6_loopback() -> None:
    assert is_loopback("[::1]")
