"""Every ```bash and ```python block of README.md, docs/*.md and bench/README.md runs, and passes.

How a page states what its examples need (docs/architecture.md says the same for writers): a
comment anywhere in the page, `<!-- docs-test: mock -->` (the default: a `mock-ft serve` with its
defaults), `<!-- docs-test: mock operator -->` (also the reference operator, publishing to that
mock) or `<!-- docs-test: none -->`. The test starts them on free ports and rewrites the documented
addresses in the blocks (`127.0.0.1:8765`/`localhost:8765`: the mock; `:8766`: the operator), and
sets `MOCK_FT_URL` (where `mock-ft faults`, `delivery`... look) to its mock.

Each page runs in a fresh folder: its bash blocks in one shell session, in order, as a reader
pastes them into one terminal (`set -euo pipefail`), then its python blocks (a block defining
`test_` functions runs under pytest). A block fails the test when it exits non-zero, or prints a
traceback, an `"error":` body or a non-empty `"warnings"` list: put `<!-- docs-test: problems
expected -->` on the line before a block that shows a refusal on purpose. Examples that cannot run
here (docker, make demo, long-running servers) are fenced ```console or ```text instead.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import web
from tests.postgres import maintenance_url
from tests.serve_process import serve_process, unmeasured
from tests.waiting import HANG_GUARD

BASH = shutil.which("bash") or "/bin/bash"
ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    p
    for p in [ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")]
    if p.exists()
)
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_NEEDS = re.compile(r"<!--\s*docs-test:\s*([\w\s]+?)\s*-->")
_PROBLEMS_EXPECTED = "<!-- docs-test: problems expected -->"
# A traceback, an error body, or an event the mock warned about: an example a reader would distrust.
_BAD_OUTPUT = re.compile(
    r'Traceback \(most recent call last\)|"error"\s*:|"warnings"\s*:\s*\[\s*\{'
)
_MOCK = re.compile(r"(?:127\.0\.0\.1|localhost):8765")
_OPERATOR = re.compile(r"(?:127\.0\.0\.1|localhost):8766")
_VERIFY = re.compile(r"\bmock-ft verify ")
_UNTIMED_VERIFY = f"mock-ft verify --p95-budget-ms {HANG_GUARD * 1000:g} "


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced example of a page."""

    language: str
    line: int
    source: str
    problems_expected: bool


def blocks(page: Path) -> list[Block]:
    """The page's bash and python blocks, in order."""
    text = page.read_text()
    found = []
    for match in _FENCE.finditer(text):
        language = match.group(1)
        if language not in ("bash", "python"):
            continue
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(language, line, match.group(2), before.strip() == _PROBLEMS_EXPECTED))
    return found


def needs(page: Path) -> set[str]:
    """What the page's examples need running: {"mock"} unless the page says otherwise."""
    match = _NEEDS.search(page.read_text())
    if match is None:
        return {"mock"}
    words = set(match.group(1).split())
    return set() if words == {"none"} else words


@pytest.fixture(scope="session")
def docs_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mock-ft serve` with its defaults, on a free port (one for every page). For the session:
    tests/ordering.py runs the reference-operator page long before the others, and a module's
    fixtures end when a worker runs another module's test in between.

    Only its freshness target is 5 s instead of 1 s: on a loaded test machine a second can pass
    between stamping an example's event and sending it, which would warn `late_delivery`.
    """
    journal = tmp_path_factory.mktemp("docs-mock") / "journal.sqlite3"
    slack = {"MOCK_FT_FRESHNESS_TARGET_MS": "5000"}
    # As docs/callbacks.md starts it: its example rule calls the reference operator's address.
    slack["MOCK_FT_CALLBACK_ALLOWED_ORIGINS"] = "http://127.0.0.1:8766"
    with serve_process("--journal", str(journal), env=slack, measured=False) as (url, _):
        yield url


@pytest.fixture(scope="session")
def docs_operator(docs_mock: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference operator as its README starts it, publishing to the docs mock."""
    folder = tmp_path_factory.mktemp("docs-operator")
    port = _free_port()
    command = [
        sys.executable, "-m", "reference_operator", "serve", "--port", str(port),
        "--database", str(folder / "platform.sqlite3"),
        "--ft-url", docs_mock, "--ft-api-key", "mock-ft-local-key",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    environ = unmeasured(dict(os.environ))
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environ
    ) as child:
        try:
            _wait_for(f"{url}/openapi.json", child)
            yield url
        finally:
            child.terminate()
            child.wait(10)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_run_examples_of_page(
    page: Path, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each example of the page runs against real servers as written, with clean output."""
    examples = blocks(page)  # a page of console and text blocks only has nothing to run
    wanted = needs(page)
    addresses: dict[re.Pattern[str], str] = {}
    if "postgresql" in wanted:
        maintenance_url()  # skips with the reason where there is none (fails under CI=true)
    if "mock" in wanted or "operator" in wanted:
        mock = request.getfixturevalue("docs_mock")
        _empty(mock)
        addresses[_MOCK] = mock.removeprefix("http://")
    if "operator" in wanted:
        addresses[_OPERATOR] = request.getfixturevalue("docs_operator").removeprefix("http://")
    run_page(page, examples, addresses, tmp_path)


def run_page(
    page: Path, examples: list[Block], addresses: dict[re.Pattern[str], str], folder: Path
) -> None:
    """Run the page's examples in `folder`; pytest.fail naming the first that breaks."""
    # Out of the run's coverage, as are the docs servers: an example is run as a reader runs it,
    # and what it reaches is each command's own tests' to cover (measured 2026-12-07: every
    # page's children cost 30 s of CPU with coverage, 17 s without).
    env = unmeasured({k: v for k, v in os.environ.items() if not k.startswith("MOCK_FT_")})
    if _MOCK in addresses:  # where `mock-ft faults`, `delivery`... look by default
        env["MOCK_FT_URL"] = f"http://{addresses[_MOCK]}"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    runnable = [_rewrite(b, addresses) for b in examples]
    _run_bash(page, [b for b in runnable if b.language == "bash"], folder, env)
    for number, block in enumerate(b for b in runnable if b.language == "python"):
        _run_python(page, block, folder / f"test_docs_block_{number}.py", env)


@pytest.mark.parametrize(
    ("example", "why"),
    [
        ("```bash\ntrue\nfalse\necho never\n```\n", "exit 1"),
        ("```bash\necho one\n```\n\n```bash\nexit 3\n```\n", "line 5: exit 3"),
        ('```bash\necho \'{"error": "x"}\'\n```\n', "printed"),
        ('```bash\necho \'{"warnings": [{"code": "late_delivery"}]}\'\n```\n', "printed"),
        ("```python\nraise SystemExit(4)\n```\n", "exit 4"),
    ],
)
def test_fail_page_with_broken_example(example: str, why: str, tmp_path: Path) -> None:
    """A broken example fails the docs test, naming the page, line and reason."""
    page = tmp_path / "page.md"
    page.write_text(example)
    with pytest.raises(pytest.fail.Exception, match=f"page.md {why}" if "line" in why else why):
        run_page(page, blocks(page), {}, tmp_path)


def test_pass_example_that_expects_problems(tmp_path: Path) -> None:
    """A refusal shown on purpose passes when the comment before its block says so."""
    page = tmp_path / "page.md"
    page.write_text(f'{_PROBLEMS_EXPECTED}\n```bash\necho \'{{"error": "x"}}\'\n```\n')
    run_page(page, blocks(page), {}, tmp_path)


def test_read_prerequisites_of_page(tmp_path: Path) -> None:
    """A page without a docs-test comment needs a mock; `none` needs nothing."""
    page = tmp_path / "page.md"
    page.write_text("# t\n")
    assert needs(page) == {"mock"}
    page.write_text("<!-- docs-test: mock operator -->\n")
    assert needs(page) == {"mock", "operator"}
    page.write_text("<!-- docs-test: none -->\n")
    assert needs(page) == set()


def _rewrite(block: Block, addresses: dict[re.Pattern[str], str]) -> Block:
    source = block.source
    for pattern, address in addresses.items():
        source = pattern.sub(address, source)
    # A page's `mock-ft verify` checks a correct operator: the run is under test, not this
    # machine's speed (a loaded run missed the 500 ms p95 budget by 7 ms), so its latency
    # budget is a hang guard here, as in tests/verify (and docs_mock's freshness target).
    source = _VERIFY.sub(_UNTIMED_VERIFY, source)
    return Block(block.language, block.line, source, block.problems_expected)


def _run_bash(page: Path, examples: list[Block], folder: Path, env: dict[str, str]) -> None:
    """One shell session for the page, each block's output kept apart."""
    if not examples:
        return
    driver = ["set -euo pipefail"]
    for number, block in enumerate(examples):
        (folder / f".block-{number}.sh").write_text(block.source)
        driver.append(f"echo {number} > .block-now; source .block-{number}.sh > .out-{number} 2>&1")
    result = subprocess.run(
        [BASH, "-c", "\n".join(driver)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    current = int((folder / ".block-now").read_text())
    for number, block in enumerate(examples[: current + 1]):
        output = (folder / f".out-{number}").read_text()
        where = f"{page.name} line {block.line}"
        if number == current and result.returncode != 0:
            pytest.fail(f"{where}: exit {result.returncode}\n{block.source}\n--- output\n{output}")
        _judge(where, block, output)


def _run_python(page: Path, block: Block, path: Path, env: dict[str, str]) -> None:
    path.write_text(block.source)
    pytest_file = re.search(r"^def test_", block.source, re.MULTILINE) is not None
    command = [sys.executable, *(["-m", "pytest", "-q", "-p", "no:cacheprovider"] * pytest_file)]
    result = subprocess.run(
        [*command, path.name],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    where = f"{page.name} line {block.line}"
    if result.returncode != 0:
        pytest.fail(f"{where}: exit {result.returncode}\n{block.source}\n--- output\n{output}")
    _judge(where, block, output)


def _judge(where: str, block: Block, output: str) -> None:
    bad = _BAD_OUTPUT.search(output)
    if bad and not block.problems_expected:
        pytest.fail(f"{where}: printed {bad.group(0)!r}\n{block.source}\n--- output\n{output}")


def _empty(mock: str) -> None:
    """A page starts from an empty journal, with no fault or callback rules."""
    json_only = {"Content-Type": "application/json"}  # changes to /_mock/ are JSON, even bodyless
    for method, path in (
        ("POST", "/_mock/reset"),
        ("DELETE", "/_mock/faults"),
        ("DELETE", "/_mock/callbacks/rules"),
    ):
        web.request(method, f"{mock}{path}", headers=json_only).raise_for_status()


def _free_port() -> int:
    """A port free a moment ago (the child binds it; the window is short and local)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, child: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 60  # a hang guard: the loop ends as soon as it answers
    while time.monotonic() < end:
        if child.poll() is not None:
            error = child.stderr.read().decode() if child.stderr else ""
            raise RuntimeError(f"the reference operator stopped at start: {error[-500:]}")
        try:
            if web.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the reference operator did not answer at {url} within 60 s")
