"""compose.yaml's profile `postgres`: PostgreSQL and two mock replicas on one journal.

Read statically (the YAML: services, profile, the journal URL, ports, healthchecks); the replicas'
environment served by real `mock-ft serve` processes on the machine's PostgreSQL; and, where a
container engine with compose and the images is present, the profile started for real. CI
machines have no images to start (see the last test), so there it skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml

from mock_ft.journal_url import journal_scheme, redact
from mock_ft.settings import Settings
from tests import web
from tests.postgres import scratch_database
from tests.waiting import HANG_GUARD, wait_until

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
PROFILE = "postgres"
REPLICAS = ("mock-pg-1", "mock-pg-2")
_BANNER = re.compile(r"listening on (http://\S+)")


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def _expand(value: object) -> str:
    """Compose's `${NAME:-default}` with the default (the environment here is not compose's)."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], str(value))


def _env(service: str) -> dict[str, str]:
    env = _services()[service].get("environment", {})
    return {key: _expand(value) for key, value in env.items()}


def _host_port(mapping: str) -> str:
    """`127.0.0.1:8767:8765` -> `8767`."""
    return str(mapping).split(":")[-2]


def test_keep_postgres_profile_out_of_default_services() -> None:
    services = _services()
    in_profile = {name for name, s in services.items() if PROFILE in s.get("profiles", [])}
    assert in_profile == {"postgres", *REPLICAS}
    for name in in_profile:
        assert services[name]["profiles"] == [PROFILE], name
    for name, service in services.items():
        if name not in in_profile:
            assert "profiles" not in service, f"{name} would leave the default `up`"
            for dependency in service.get("depends_on", {}):
                assert dependency not in in_profile, f"{name} -> {dependency}"


def test_point_both_replicas_at_the_profiles_postgres() -> None:
    database = _env("postgres")
    urls = {_env(name)["MOCK_FT_JOURNAL"] for name in REPLICAS}
    assert len(urls) == 1, "the replicas must share one journal"
    url = urlsplit(urls.pop())
    assert journal_scheme(url.geturl()) == "postgresql"
    assert (url.hostname, url.port) == ("postgres", 5432)  # the service, inside compose's network
    assert url.username == database["POSTGRES_USER"]
    assert url.password == database["POSTGRES_PASSWORD"]
    assert url.path == f"/{database['POSTGRES_DB']}"
    for name in REPLICAS:
        assert _services()[name]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_run_replicas_from_the_mock_image() -> None:
    services = _services()
    for name in REPLICAS:
        assert services[name]["image"] == services["mock"]["image"], name
        assert services[name]["build"] == services["mock"]["build"], name
        assert services[name]["command"] == ["serve"]
        assert _env(name)["MOCK_FT_CONTROL_TOKEN"], "bound beyond loopback: a control token"


def test_publish_each_replica_on_its_own_host_port() -> None:
    published = [
        _host_port(port) for service in _services().values() for port in service.get("ports", [])
    ]
    assert len(published) == len(set(published)), "two services on one host port"
    replicas = {_host_port(_services()[name]["ports"][0]) for name in REPLICAS}
    assert replicas == {"8767", "8768"}
    for name in (*REPLICAS, "postgres"):
        for port in _services()[name]["ports"]:
            assert str(port).startswith("127.0.0.1:"), port


def test_check_health_of_postgres_and_replicas() -> None:
    services = _services()
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "127.0.0.1" in services["postgres"]["healthcheck"]["test"]  # TCP: past initdb's run
    for name in REPLICAS:
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"]
        assert "http://127.0.0.1:8765/_mock/health" in test[3]


def test_load_replica_environment_into_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(REPLICAS[0])
    mock_fields = {f"MOCK_FT_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= mock_fields, set(env) - mock_fields  # a typo would be ignored silently
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.journal == env["MOCK_FT_JOURNAL"]
    password = _env("postgres")["POSTGRES_PASSWORD"]
    assert password not in redact(settings.journal)


# --- the replicas' environment, served for real on the machine's PostgreSQL -----------------


def _local_journal(compose_url: str, database: str) -> str:
    """The compose URL pointed at `database` on this machine: its password kept (trust auth
    ignores it), its user the scratch database's (no server-wide role left behind)."""
    parts, local = urlsplit(compose_url), urlsplit(database)
    netloc = f"{local.username}:{parts.password}@{local.hostname}:{local.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc, path=local.path))


@contextmanager
def _replica(env: dict[str, str], log: Path) -> Iterator[str]:
    """`mock-ft serve` with a replica's environment on a free port; yields its URL."""
    env = {**os.environ, **env, "MOCK_FT_HOST": "127.0.0.1", "MOCK_FT_PORT": "0"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_ft", "serve", "--log-level", "info"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until(
            lambda: bool(_BANNER.search(log.read_text())) or process.poll() is not None,
            f"the banner in {log}",
        )
        found = _BANNER.search(log.read_text())
        assert found, f"the replica exited {process.poll()}: {log.read_text()[-800:]}"
        yield found[1]
    finally:
        process.terminate()
        process.wait(timeout=HANG_GUARD)


def _health(url: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = web.get(f"{url}/_mock/health", timeout=HANG_GUARD).json()
    except httpx.TransportError:
        return {}
    return found


def _wait_for_peers(url: str, count: int) -> None:
    def seen() -> bool:
        return len(_health(url).get("instances", [])) == count

    wait_until(seen, f"{url}/_mock/health listing {count} instances")


def test_serve_two_replicas_on_one_journal_with_compose_environment(tmp_path: Path) -> None:
    """Both replicas, as compose configures them, journal to one database and see each other;
    the URL's password shows in neither's log nor /_mock/health."""
    password = _env("postgres")["POSTGRES_PASSWORD"]
    with scratch_database() as database, ExitStack() as stack:
        urls = []
        for name in REPLICAS:
            env = _env(name)
            env["MOCK_FT_JOURNAL"] = _local_journal(env["MOCK_FT_JOURNAL"], database)
            urls.append(stack.enter_context(_replica(env, tmp_path / f"{name}.log")))
        for url in urls:
            _wait_for_peers(url, 2)
        healths = [_health(url) for url in urls]
    logs = "".join((tmp_path / f"{name}.log").read_text() for name in REPLICAS)
    assert "***" in logs  # the banner names the journal, masked
    assert password not in logs + repr(healths)
    assert {h["instance"] for h in healths} == {i["id"] for i in healths[0]["instances"]}


# --- the profile started for real, where an engine with compose and the images exist ----------


def _compose_command() -> list[str] | None:
    """`podman compose` or `docker compose` where one works here, else None."""
    for engine in ("podman", "docker"):
        if shutil.which(engine) is None:
            continue
        done = subprocess.run(
            [engine, "compose", "version"], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode == 0:
            return [engine, "compose"]
    return None


def _missing_images(engine: str) -> list[str]:
    wanted = {_services()["postgres"]["image"], _services()["mock"]["image"]}
    return sorted(
        image
        for image in wanted
        if subprocess.run(
            [engine, "image", "inspect", image], capture_output=True, timeout=60, check=False
        ).returncode
        != 0
    )


def test_start_postgres_profile_with_compose() -> None:
    """`compose --profile postgres up` starts PostgreSQL and both replicas, healthy, sharing
    one journal. Needs podman or docker with compose and the images `postgres:16` and
    `mock-ft:local` (built from this Dockerfile); this machine and CI have neither, so it skips."""
    compose = _compose_command()
    if compose is None:
        pytest.skip("no `podman compose` or `docker compose` works here (no engine or provider)")
    missing = _missing_images(compose[0])
    if missing:
        pytest.skip(
            f"images {', '.join(missing)} not found (not built or pulled, or no engine answers)"
        )
    project = [*compose, "--file", str(COMPOSE), "--project-name", f"mockft{uuid.uuid4().hex[:8]}"]
    up = [*project, "--profile", PROFILE, "up", "--detach", "--no-build", "postgres", *REPLICAS]
    try:
        subprocess.run(up, check=True, timeout=HANG_GUARD)
        urls = ["http://127.0.0.1:8767", "http://127.0.0.1:8768"]
        for url in urls:
            _wait_for_peers(url, 2)
        logs = subprocess.run(
            [*project, "logs"], capture_output=True, text=True, timeout=HANG_GUARD, check=True
        )
        assert _env("postgres")["POSTGRES_PASSWORD"] not in logs.stdout + logs.stderr
    finally:
        subprocess.run([*project, "--profile", PROFILE, "down", "--volumes"], timeout=HANG_GUARD)
