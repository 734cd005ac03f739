"""Run the platform under test next to the session's mock (copy this, start your own service).

The mock and the platform each need the other's URL: the platform publishes to the mock, and the
mock looks players up and fires Callback Actions at the platform. So the platform's socket is
bound first, its URL handed to the mock (`ft_mock_settings`), and the platform started after it.
"""
# ruff: noqa: S101 - pytest asserts

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_ft.crm.runner import ServerThread, bind_socket

try:  # mock-ft installed from a wheel or git URL: the reference operator ships inside it
    from mock_ft.reference_operator import OperatorSettings, create_app
except ImportError:  # a clone of mock-ft's repository: its top-level folder
    from reference_operator import OperatorSettings, create_app

FT_API_KEY = "operator-suite-ft-key"  # the key the platform sends FT, and the mock expects


class Platform:
    """The operator's own API, as a player would drive it."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def register(self) -> str:
        return str(self._post("/platform/players")["user_id"])

    def deposit(self, user_id: str, amount: float) -> None:
        self._post(f"/platform/players/{user_id}/deposits", {"amount": amount})

    def withdraw(self, user_id: str, amount: float) -> None:
        self._post(f"/platform/players/{user_id}/withdrawals", {"amount": amount})

    def grant_bonus(self, user_id: str) -> str:
        return str(self._post(f"/platform/players/{user_id}/bonuses", {})["user_bonus_id"])

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())


@pytest.fixture(scope="session")
def platform_socket() -> Iterator[socket.socket]:
    sock = bind_socket("127.0.0.1", 0)
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def ft_mock_settings(
    ft_mock_settings: dict[str, Any], platform_socket: socket.socket
) -> dict[str, Any]:
    """The plugin's settings (pytest.ini, --ft-* options), the key, and where the platform is."""
    host, port = platform_socket.getsockname()[:2]
    return {**ft_mock_settings, "api_key": FT_API_KEY, "operator_url": f"http://{host}:{port}"}


@pytest.fixture(scope="session")
def platform(
    ft_mock_server: str,
    platform_socket: socket.socket,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """The reference operator, publishing every FT event to the session's mock."""
    settings = OperatorSettings(
        database=str(tmp_path_factory.mktemp("platform") / "platform.sqlite3"),
        ft_url=ft_mock_server,
        ft_api_key=FT_API_KEY,
        retry_max_seconds=0.2,  # a refused event is sent again quickly
    )
    with (
        ServerThread(create_app(settings), sock=platform_socket) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        yield Platform(client)
