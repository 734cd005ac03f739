"""The container files: Dockerfile (hadolint, layout), compose.yaml, the CI workflows and
scripts/container-smoke (its engine choice, skip path and orchestration, with a stand-in engine).

Building the image itself needs a container engine, which CI machines here lack: that is what
`scripts/container-smoke` does where one exists (the project's GitHub workflow runs it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_ft.settings import Settings, load_settings
from reference_operator.settings import OperatorSettings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
SMOKE = ROOT / "scripts" / "container-smoke"
OPERATOR_WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"
PROJECT_WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
BIN = Path(sys.executable).parent
BASH = shutil.which("bash") or "/bin/bash"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the container files bind, checked here


# --- helpers ---------------------------------------------------------------------------------


def _instructions(path: Path = DOCKERFILE) -> list[tuple[int, str, str]]:
    """(stage index, INSTRUCTION, arguments) for each instruction, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    found: list[tuple[int, str, str]] = []
    stage = -1
    for text in logical:
        keyword, _, args = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        found.append((stage, keyword, args.strip()))
    return found


def _final_stage() -> list[tuple[str, str]]:
    found = _instructions()
    last = max(stage for stage, _, _ in found)
    return [(keyword, args) for stage, keyword, args in found if stage == last]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _expand(value: object) -> str:
    """Compose's `${NAME:-default}` with the default (the environment here is not compose's)."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], str(value))


def _default_services() -> dict[str, Any]:
    """What `compose up` starts without a profile."""
    return {n: s for n, s in _compose()["services"].items() if not s.get("profiles")}


def _profile_services(profile: str) -> dict[str, Any]:
    return {n: s for n, s in _compose()["services"].items() if profile in s.get("profiles", [])}


def _service_env(service: str) -> dict[str, str]:
    env = _compose()["services"][service].get("environment", {})
    return {key: _expand(value) for key, value in env.items()}


def _workflow(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())  # keys: `on` loads as True
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _fake_engine(folder: Path) -> Path:
    """A stand-in `podman` that logs each call and succeeds (replay exits $FAKE_REPLAY_STATUS)."""
    engine = folder / "podman"
    engine.write_text(
        "#!/bin/bash\n"
        'printf "%s\\n" "$*" >> "$FAKE_LOG"\n'
        'case "$1" in\n'
        "  inspect) echo true ;;\n"
        '  run) for a in "$@"; do [ "$a" = replay ] && exit "${FAKE_REPLAY_STATUS:-0}"; done ;;\n'
        "esac\n"
        "exit 0\n"
    )
    engine.chmod(0o755)
    return engine


def _run_smoke(
    tmp_path: Path, *args: str, replay_status: int = 0, **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    _fake_engine(fake_bin)
    log = tmp_path / "engine.log"
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CONTAINER_ENGINE": "podman",
        "FAKE_LOG": str(log),
        "FAKE_REPLAY_STATUS": str(replay_status),
        **extra_env,
    }
    done = subprocess.run(
        [BASH, str(SMOKE), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls


# --- Dockerfile ------------------------------------------------------------------------------


def test_lint_dockerfile_with_hadolint() -> None:
    hadolint = BIN / "hadolint"
    assert hadolint.is_file(), f"no hadolint next to {sys.executable}; install the dev extras"
    done = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_keep_dockerfile_free_of_lint_ignores() -> None:
    assert "hadolint ignore" not in DOCKERFILE.read_text()


def test_build_in_two_stages_on_one_python() -> None:
    froms = [args for _, keyword, args in _instructions() if keyword == "FROM"]
    assert len(froms) == 2
    assert froms[0].endswith("AS builder")
    assert froms[1] == "${BASE_IMAGE}"  # the venv is copied: both stages are the same Python
    args = {args.split("=")[0]: args for _, keyword, args in _instructions() if keyword == "ARG"}
    assert args["BASE_IMAGE"] in ("BASE_IMAGE=python:3.11-slim", "BASE_IMAGE=python:3.12-slim")


def test_install_dependencies_before_copying_source() -> None:
    builder = [(keyword, args) for stage, keyword, args in _instructions() if stage == 0]
    copies = [i for i, (keyword, args) in enumerate(builder) if keyword == "COPY"]
    deps = next(
        i for i, (keyword, args) in enumerate(builder) if "pip install --requirement" in args
    )
    project = next(
        i for i, (keyword, args) in enumerate(builder) if "pip install --no-deps" in args
    )
    before = [builder[i][1] for i in copies if i < deps]
    assert before == ["pyproject.toml ./"], "only pyproject.toml may be copied before the deps"
    sources = [builder[i][1].split()[0] for i in copies if deps < i < project]
    assert {"mock_ft/", "reference_operator/", "contracts/"} <= set(sources)


def test_collect_runtime_requirements_from_pyproject(tmp_path: Path) -> None:
    run = next(args for _, keyword, args in _instructions() if "pip install --requirement" in args)
    code = re.search(r'python -c "(.*?)"\s+&&', run)
    assert code is not None
    target = re.search(r"open\('([^']*requirements\.txt)', 'w'\)", code[1])
    assert target is not None
    script = code[1].replace(target[1], str(tmp_path / "requirements.txt"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=30)
    wanted = (tmp_path / "requirements.txt").read_text().split()
    names = {re.split(r"[\[<>=!~]", line)[0].lower() for line in wanted}
    # The base dependencies and the extras verify, brokers, scenarios, postgres: the whole tool.
    assert {"fastapi", "uvicorn", "fastapi-offline", "aio-pika", "aiokafka"} <= names
    assert {"schemathesis", "hypothesis", "faker", "jinja2"} <= names
    assert {"psycopg", "psycopg-pool"} <= names  # compose's profile postgres journals there
    assert not [name for name in names if name.startswith("mock-ft")]
    assert "pytest-cov" not in names  # the rest of the dev extras stays out of the image


def test_document_offline_wheelhouse_with_image_requirements(tmp_path: Path) -> None:
    """docs/container.md's wheelhouse list is the Dockerfile's: offline, every wheel is there."""
    docs = (ROOT / "docs" / "container.md").read_text()
    snippet = re.search(r'python3 -c "(.*?)" > (\S+requirements\.txt)', docs, re.DOTALL)
    assert snippet is not None
    code = re.sub(r"\\\n\s*", "", snippet[1])  # the shell's line continuations
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    documented = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    run = next(args for _, keyword, args in _instructions() if "pip install --requirement" in args)
    image = re.search(r'python -c "(.*?)"\s+&&', run)
    assert image is not None
    target = re.search(r"open\('([^']*requirements\.txt)', 'w'\)", image[1])
    assert target is not None
    script = image[1].replace(target[1], str(tmp_path / "image.txt"))
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=30)
    assert documented == (tmp_path / "image.txt").read_text().split()


def test_point_container_smoke_at_offline_build_docs() -> None:
    """The smoke script's instructions name the page that makes BASE_IMAGE and PIP_WHEELS."""
    header = SMOKE.read_text().split("set -euo pipefail")[0]
    assert "docs/container.md" in header
    assert "BASE_IMAGE=localhost/debian-python:bookworm PIP_WHEELS=wheels" in header
    assert "localhost/debian-python:bookworm" in (ROOT / "docs" / "container.md").read_text()


def test_run_final_stage_as_non_root_user() -> None:
    users = [args for keyword, args in _final_stage() if keyword == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_declare_healthcheck_without_curl() -> None:
    checks = [args for keyword, args in _final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    command = json.loads(checks[0].split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert "/_mock/health" in command[2]
    assert "curl" not in checks[0]
    assert "wget" not in checks[0]


def test_run_healthcheck_code_against_a_dead_port() -> None:
    check = next(args for keyword, args in _final_stage() if keyword == "HEALTHCHECK")
    code = json.loads(check.split("CMD", 1)[1])[2]
    env = {"PATH": os.environ["PATH"], "MOCK_FT_PORT": "1"}  # nothing listens on port 1
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False
    )
    assert done.returncode != 0


def test_run_healthcheck_code_against_a_live_server() -> None:
    check = next(args for keyword, args in _final_stage() if keyword == "HEALTHCHECK")
    code = json.loads(check.split("CMD", 1)[1])[2]
    paths: list[str] = []

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Health) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        env = {"PATH": os.environ["PATH"], "MOCK_FT_PORT": str(server.server_address[1])}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False
        )
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert paths == ["/_mock/health"]


def test_start_mock_ft_serve_by_default() -> None:
    final = _final_stage()
    assert [json.loads(a) for k, a in final if k == "ENTRYPOINT"] == [["mock-ft"]]
    assert [json.loads(a) for k, a in final if k == "CMD"] == [["serve"]]


def test_bind_all_interfaces_only_inside_container() -> None:
    env = " ".join(args for keyword, args in _final_stage() if keyword == "ENV")
    assert "MOCK_FT_HOST=0.0.0.0" in env
    assert "MOCK_FT_JOURNAL=/data/" in env
    assert Settings.model_fields["host"].default == "127.0.0.1"  # elsewhere: loopback
    exposed = " ".join(args for keyword, args in _final_stage() if keyword == "EXPOSE").split()
    assert "8765" in exposed
    volumes = [json.loads(args) for keyword, args in _final_stage() if keyword == "VOLUME"]
    assert volumes == [["/data"]]


def test_send_only_copied_paths_to_build_context() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        args.split()[0].rstrip("/")
        for _, keyword, args in _instructions()
        if keyword == "COPY" and not args.startswith("--from")
    }
    assert copied <= allowed
    assert ".venv" not in allowed
    assert ".git" not in allowed


# --- compose.yaml ----------------------------------------------------------------------------


def test_parse_compose_services() -> None:
    services = _default_services()
    assert set(services) == {"mock", "operator", "rabbitmq", "kafka"}
    assert services["operator"]["image"] == services["mock"]["image"]
    assert services["operator"]["entrypoint"] == ["reference-operator"]
    assert services["operator"]["command"][:1] == ["serve"]
    assert ALL_INTERFACES in services["operator"]["command"]


def test_give_every_compose_service_a_healthcheck() -> None:
    for name, service in _compose()["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"


def test_wait_for_healthy_compose_dependencies() -> None:
    services = _compose()["services"]
    assert set(services["mock"]["depends_on"]) == {"rabbitmq", "kafka"}
    assert "mock" in services["operator"]["depends_on"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule == {"condition": "service_healthy"}, f"{name} -> {dependency}"


def test_keep_mock_journal_on_named_volume() -> None:
    compose = _compose()
    mounts = [m.split(":") for m in compose["services"]["mock"]["volumes"]]
    named = [source for source, target in mounts if target == "/data"]
    assert named
    assert named[0] in compose["volumes"]
    journal = "/data/journal.sqlite3"
    assert f"MOCK_FT_JOURNAL={journal}" in DOCKERFILE.read_text()
    assert _service_env("mock").get("MOCK_FT_JOURNAL", journal).startswith("/data/")


def test_publish_compose_ports_on_loopback_only() -> None:
    services = _compose()["services"]
    published = [port for s in services.values() for port in s.get("ports", [])]
    assert published
    for port in published:
        assert str(port).startswith("127.0.0.1:"), port
    assert "127.0.0.1:8765:8765" in services["mock"]["ports"]
    assert "127.0.0.1:8766:8766" in services["operator"]["ports"]


def test_match_keys_between_mock_and_operator() -> None:
    mock, operator = _service_env("mock"), _service_env("operator")
    assert mock["MOCK_FT_API_KEY"] == operator["REFERENCE_OPERATOR_FT_API_KEY"]
    assert mock["MOCK_FT_OPERATOR_AUTH"] == f"api-key:{operator['REFERENCE_OPERATOR_API_KEY']}"
    assert mock["MOCK_FT_CALLBACK_API_KEY"] == operator["REFERENCE_OPERATOR_CALLBACK_API_KEY"]
    assert mock["MOCK_FT_RABBITMQ_URL"] == operator["REFERENCE_OPERATOR_FT_RABBITMQ_URL"]
    assert mock["MOCK_FT_OPERATOR_URL"] == "http://operator:8766"
    assert operator["REFERENCE_OPERATOR_FT_URL"] == "http://mock:8765"
    assert mock["MOCK_FT_CONTROL_TOKEN"], "bound beyond loopback, the mock needs a control token"


def test_load_compose_environment_into_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    mock = _service_env("mock")
    operator = {k: v for k, v in _service_env("operator").items() if k != "HEALTHCHECK_URL"}
    mock_fields = {f"MOCK_FT_{name.upper()}" for name in Settings.model_fields}
    operator_fields = {
        f"REFERENCE_OPERATOR_{name.upper()}" for name in OperatorSettings.model_fields
    }
    assert set(mock) <= mock_fields, set(mock) - mock_fields  # a typo would be ignored silently
    assert set(operator) <= operator_fields, set(operator) - operator_fields
    for key, value in {**mock, "MOCK_FT_HOST": ALL_INTERFACES, **operator}.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()  # the image's host plus compose's token: accepted
    assert settings.kafka_bootstrap == "kafka:9092"
    assert OperatorSettings().ft_transport == "rabbitmq"


def test_name_real_cli_options_in_compose_comment() -> None:
    commands: list[str] = []
    pending = ""
    for line in COMPOSE.read_text().splitlines():
        if not line.startswith("#"):
            continue
        text = line.lstrip("#").strip()
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        commands.append(pending + text)
        pending = ""
    found = [re.match(r"docker compose run --rm mock (verify|replay) (.*)", c) for c in commands]
    runs = [(m[1], m[2].split("#")[0]) for m in found if m]
    assert sorted(name for name, _ in runs) == ["replay", "verify"]
    for name, rest in runs:
        help_text = subprocess.run(
            [str(BIN / "mock-ft"), name, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "COLUMNS": "200"},
        ).stdout
        known = set(re.findall(r"--[a-z][a-z-]*[a-z]", help_text))
        options = re.findall(r"(?<!\S)--[a-z][a-z-]*[a-z]", rest)
        assert options
        for option in options:
            assert option in known, f"`mock-ft {name}` has no {option}"


# --- workflows -------------------------------------------------------------------------------


def test_run_ci_entry_point_in_project_workflow() -> None:
    workflow = _workflow(PROJECT_WORKFLOW)
    test = workflow["jobs"]["test"]
    assert test["runs-on"] == "ubuntu-latest"
    assert test["env"]["CI"] == "true"
    runs = [step.get("run", "") for step in test["steps"]]
    assert "bash .ci/run" in runs
    setup = next(s for s in test["steps"] if str(s.get("uses", "")).startswith("actions/setup-"))
    assert setup["with"]["python-version"] == "3.11"
    assert any(".ci/ensure-chromium" in run for run in runs)
    assert (ROOT / ".ci" / "run").is_file()


def test_run_container_smoke_in_project_workflow() -> None:
    runs = [step.get("run", "") for step in _steps(_workflow(PROJECT_WORKFLOW))]
    assert "bash scripts/container-smoke --require" in runs


def test_parse_operator_workflow_example() -> None:
    workflow = _workflow(OPERATOR_WORKFLOW)
    assert workflow.get("on", workflow.get(True)), "no trigger"
    steps = _steps(workflow)
    script = "\n".join(step.get("run", "") for step in steps)
    assert re.search(r"mock-ft verify .*--report-dir reports", script, re.S)
    assert re.search(r"mock-ft replay \S+ --stack url", script)
    assert "rabbitmq" in workflow["jobs"]["fasttrack"]["services"]


def test_upload_operator_reports_even_on_failure() -> None:
    steps = _steps(_workflow(OPERATOR_WORKFLOW))
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "reports"
    junit = next(s for s in steps if "junit" in str(s.get("uses", "")))
    assert junit["if"] == "always()"
    assert "reports/junit.xml" in junit["with"]["report_paths"]


# --- scripts/container-smoke -----------------------------------------------------------------


def test_mark_container_smoke_executable() -> None:
    assert os.access(SMOKE, os.X_OK)
    assert SMOKE.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in SMOKE.read_text()


def test_check_container_smoke_syntax() -> None:
    done = subprocess.run(
        [BASH, "-n", str(SMOKE)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr


def _smoke_with_path(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The smoke script with only `path` on PATH (empty: neither docker nor podman there)."""
    return subprocess.run(
        [BASH, str(SMOKE), *args],
        env={"PATH": str(path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_skip_container_smoke_without_engine(tmp_path: Path) -> None:
    done = _smoke_with_path(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no container engine: skipped"


def test_fail_container_smoke_without_engine_when_required(tmp_path: Path) -> None:
    done = _smoke_with_path(tmp_path, "--require")
    assert done.returncode == 1
    assert "no container engine: skipped" in done.stdout


def test_skip_container_smoke_when_docker_daemon_is_down(tmp_path: Path) -> None:
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(0o755)
    done = _smoke_with_path(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no container engine: skipped" in done.stdout


def test_refuse_unknown_smoke_argument(tmp_path: Path) -> None:
    done = _smoke_with_path(tmp_path, "--fast")
    assert done.returncode == 2
    assert "unknown argument --fast" in done.stderr


def test_build_run_and_replay_in_container_smoke(tmp_path: Path) -> None:
    done, calls = _run_smoke(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    verbs = [shlex.split(call)[0] for call in calls]
    assert verbs.index("build") < verbs.index("run")
    runs = [call for call in calls if call.startswith("run ")]
    mock, operator, replay = runs
    assert "--network none" in mock
    assert mock.endswith(" serve")
    assert "--entrypoint reference-operator" in operator
    assert "--network container:" in operator
    assert " replay /opt/mock-ft/scenarios/payments.yaml --stack url " in replay
    assert "--rm" in replay
    assert "--format docker" in calls[verbs.index("build")]  # podman keeps the HEALTHCHECK
    assert any(call.startswith("healthcheck run") for call in calls)
    removed = [call for call in calls if call.startswith("rm ")]
    assert len(removed) == 2
    assert "operator" in removed[0]
    assert "container-smoke: passed" in done.stdout


def test_clean_up_after_failed_replay_in_container_smoke(tmp_path: Path) -> None:
    done, calls = _run_smoke(tmp_path, replay_status=1)
    assert done.returncode != 0
    assert "FAILED" in done.stdout
    assert len([call for call in calls if call.startswith("rm ")]) == 2


def test_build_offline_from_wheelhouse_in_container_smoke(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "example-1.0-py3-none-any.whl").write_bytes(b"")
    done, calls = _run_smoke(
        tmp_path, PIP_WHEELS=str(wheels), BASE_IMAGE="localhost/debian-python:bookworm"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    builds = [call for call in calls if call.startswith("build ")]
    assert len(builds) == 2  # the wheelhouse stage, then the image
    assert "--network none" in builds[0]
    assert "--network none" in builds[1]
    assert "--build-arg BUILDER_IMAGE=" in builds[1]
    assert "--build-arg BASE_IMAGE=localhost/debian-python:bookworm" in builds[1]


def test_refuse_empty_wheelhouse_in_container_smoke(tmp_path: Path) -> None:
    empty = tmp_path / "wheels"
    empty.mkdir()
    done, calls = _run_smoke(tmp_path, PIP_WHEELS=str(empty))
    assert done.returncode == 1
    assert "holds no wheels" in done.stderr
    assert not [call for call in calls if call.startswith("build ")]
