"""create_app builds the mock complete without touching its journal; the lifespan runs it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from mock_ft.crm import create_app
from mock_ft.settings import Settings
from tests.conftest import KEY_HEADERS


def _settings(path: Path) -> Settings:
    return Settings(journal=str(path), allowed_hosts=["testserver"])


def test_open_own_journal_only_in_lifespan(tmp_path: Path) -> None:
    """Building the app creates no file; serving it opens the journal; stopping it closes the
    journal, so the next app can take the same file."""
    path = tmp_path / "journal" / "mock.sqlite3"
    app = create_app(_settings(path))
    assert not path.parent.exists()
    with TestClient(app) as client:
        login = {"user_id": "u1", "timestamp": "2026-12-07T01:00:00Z", "origin": "o"}
        assert client.post("/v2/integration/login", json=login, headers=KEY_HEADERS).is_success
        assert path.exists()
    with TestClient(create_app(_settings(path))) as client:
        assert client.get("/_mock/events").json()["count"] == 1
