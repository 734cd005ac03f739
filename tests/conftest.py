"""Shared fixtures: clean environment, settings, an in-process client and a journal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from mock_ft.crm import create_app
from mock_ft.settings import DEFAULT_API_KEY, Settings
from tests import web
from tests.brokers import kafka_broker, shared_rabbitmq_url
from tests.postgres import empty_schema, scratch_database
from tests.serve_process import serve_process

# The suite draws the same cases every run: a property test that fails fails every time, never
# by chance. `HYPOTHESIS_PROFILE=explore` draws new ones (and more), as `make fuzz` does for
# Schemathesis; a failure found there becomes a plain test of its own.
hypothesis_settings.register_profile(
    "default", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "explore",
    deadline=None,
    derandomize=False,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

pytest_plugins = [
    "tests.coverage_workers",
    "tests.ordering",
    "tests.reporting",
    "tests.timeline",
    "tests.timeouts",
]

KEY_HEADERS = {"X-API-Key": DEFAULT_API_KEY}
# The control API takes changes (POST, PUT, PATCH, DELETE) only as JSON, even without a body.
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MOCK_FT_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("MOCK_FT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings() -> Settings:
    return Settings(journal=":memory:", allowed_hosts=["testserver"])  # TestClient's Host


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def journal_file(tmp_path: Path) -> str:
    return str(tmp_path / "journal.sqlite3")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this session's own (dropped at the end): see tests/postgres.py."""
    with scratch_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh journal on each backend: a SQLite file, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite3")
    return empty_schema(request.getfixturevalue("postgres_database"))


@pytest.fixture(scope="module")
def mock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real mock per test module (and xdist worker), journal on disk."""
    journal = tmp_path_factory.mktemp("mock") / "journal.sqlite3"
    with serve_process("--journal", str(journal)) as (url, _):
        yield url


@pytest.fixture
def mock_url(mock_server: str) -> str:
    """The mock, emptied and without fault rules for this test."""
    web.post(f"{mock_server}/_mock/reset", headers=JSON_HEADERS).raise_for_status()
    web.delete(f"{mock_server}/_mock/faults", headers=JSON_HEADERS).raise_for_status()
    return mock_server


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """This machine's RabbitMQ (tests keep apart by unique queue and exchange names)."""
    return shared_rabbitmq_url()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A Kafka-protocol broker for this worker: Tansu, or MOCK_FT_TEST_KAFKA_BOOTSTRAP."""
    with kafka_broker() as bootstrap:
        yield bootstrap
