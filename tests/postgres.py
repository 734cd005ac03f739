"""The machine's PostgreSQL for the tests: one database per test session (xdist worker), made at
the start and dropped at the end, and an empty schema for each test that asks for one.

PostgreSQL that cannot be reached skips its tests with the reason, except under CI=true, where
it fails them: CI must prove the PostgreSQL journal (`.ci/run` makes sure a server listens).
`MOCK_FT_TEST_POSTGRES_URL` points the tests at another server (a maintenance database on it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.broker_infra import reachable
from tests.brokers import in_ci
from tests.waiting import wait_until

POSTGRES_URL_ENV = "MOCK_FT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def unavailable(what: str) -> NoReturn:
    """Skip (locally) or fail (CI) a test that needs PostgreSQL, saying what to do."""
    if in_ci():
        pytest.fail(f"{what}; under CI=true PostgreSQL tests must run (.ci/ensure-postgresql)")
    pytest.skip(f"{what}; start PostgreSQL (bash .ci/ensure-postgresql) to run this test")


def maintenance_url() -> str:
    """The server's maintenance database URL, or the test is skipped (failed under CI)."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    parts = urlsplit(url)
    if not reachable(parts.hostname or "127.0.0.1", parts.port or 5432):
        unavailable(f"no PostgreSQL at {parts.hostname}:{parts.port or 5432}")
    try:
        import psycopg  # noqa: F401 - the postgres extra
    except ImportError:
        unavailable("psycopg is not installed (pip install 'mock-ft[postgres]')")
    return url


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database on the server, dropped afterwards (with whatever still connects to it)."""
    import psycopg

    admin = maintenance_url()
    name = f"mockft_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_schema(url: str) -> str:
    """Empty the database's public schema (a test's fresh journal); return `url`."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@contextmanager
def listeners_cut_off(url: str) -> Iterator[None]:
    """Within the block, no journal on the database hears another's commits: the database
    refuses new connections (superusers too) and the commit listeners' connections are gone.
    After it, the listeners reconnect (journal/pglisten.py). `url` is a scratch database."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    listeners = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND application_name = 'mock-ft listener'"
    )
    with psycopg.connect(maintenance_url(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            # pg_terminate_backend only signals: the row goes once the backend has exited.
            wait_until(lambda: not conn.execute(listeners, (name,)).fetchall(), "listeners cut off")
            yield
        finally:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
