"""pytest plugin (entry point `pytest11`): fixtures that run a mock-ft for an operator's tests.

`ft_mock_server` starts one mock per session (or uses `--ft-mock-url`), `ft_mock` empties it for
each test and applies the test's `ft_mock` marker, `ft_verify` runs `mock-ft verify`. pytest loads
this module in every run, so it only defines: the mock and httpx are imported when a fixture runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_ft.settings import Settings
    from mock_ft.testing import MockFT
    from mock_ft.verify import CheckResult

__all__ = ["ft_mock", "ft_mock_server", "ft_mock_settings", "ft_verify"]

# flag, ini key, help; a Settings field is the ini key without `ft_mock_` (except the URL).
_OPTIONS = (
    ("--ft-mock-url", "ft_mock_url", "a running mock to use instead of starting one"),
    ("--ft-operator-url", "ft_mock_operator_url", "Operator API the mock looks users up at"),
    ("--ft-operator-auth", "ft_mock_operator_auth", "api-key:KEY, basic:USER:PASS or oauth:..."),
    ("--ft-callback-api-key", "ft_mock_callback_api_key", "x-api-key of Callback Actions"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-ft", "a local Fast Track CRM for integration tests")
    for flag, name, help_text in _OPTIONS:
        group.addoption(flag, dest=name, default=None, help=f"{help_text} (ini: {name})")
        parser.addini(name, help_text)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ft_mock(faults=[...], callbacks=[...]): mock-ft rules for this test"
    )
    config.addinivalue_line("markers", "ft_verify: runs mock-ft verify against an Operator API")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # So `-m "not ft_verify"` leaves out the slow verification tests without marking each.
    for item in items:
        if "ft_verify" in getattr(item, "fixturenames", ()):
            item.add_marker("ft_verify")


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name) or config.getini(name)
    return str(value) if value else None


@pytest.fixture(scope="session")
def ft_mock_settings(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Settings fields of the session's mock (from the options); override it to add some."""
    journal = tmp_path_factory.mktemp("mock-ft") / "journal.sqlite3"
    values: dict[str, Any] = {"journal": str(journal), "host": "127.0.0.1", "port": 0}
    for _, name, _ in _OPTIONS[1:]:
        if value := _option(pytestconfig, name):
            values[name.removeprefix("ft_mock_")] = value
    return values


@pytest.fixture(scope="session")
def _ft_settings(ft_mock_settings: dict[str, Any]) -> Settings:
    from pydantic import ValidationError

    from mock_ft.settings import Settings

    try:
        return Settings(**ft_mock_settings)  # MOCK_FT_* variables fill in the rest
    except ValidationError as exc:
        why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        pytest.fail(f"mock-ft settings: {why}", pytrace=False)


@pytest.fixture(scope="session")
def ft_mock_server(pytestconfig: pytest.Config, _ft_settings: Settings) -> Iterator[str]:
    """URL of the session's mock: `--ft-mock-url`, or one started here on a free port."""
    if url := _option(pytestconfig, "ft_mock_url"):
        yield url.rstrip("/")
        return
    from mock_ft.crm import create_app
    from mock_ft.crm.runner import ServerThread
    from mock_ft.errors import MockFTError

    with ExitStack() as stack:
        try:
            app = create_app(_ft_settings)
            server = stack.enter_context(ServerThread(app, _ft_settings.host, _ft_settings.port))
        except MockFTError as exc:
            pytest.fail(f"mock-ft cannot start: {exc}", pytrace=False)
        yield server.url


@pytest.fixture
def ft_mock(
    request: pytest.FixtureRequest, ft_mock_server: str, _ft_settings: Settings
) -> Iterator[MockFT]:
    """The session's mock, emptied for this test, with the test's `ft_mock` markers applied."""
    from mock_ft.testing import MockFT

    mock = MockFT(ft_mock_server, _ft_settings)
    try:
        mock.reset()
        for marker in request.node.iter_markers("ft_mock"):  # the test's own first: first to match
            if marker.args or set(marker.kwargs) - {"faults", "callbacks"}:
                got = ", ".join([*map(repr, marker.args), *marker.kwargs])
                msg = f"ft_mock takes faults=[...] and callbacks=[...], not {got}"
                pytest.fail(msg, pytrace=False)
            for rule in _as_list(marker.kwargs.get("faults")):
                mock.add_fault(rule)
            for source in _as_list(marker.kwargs.get("callbacks")):
                mock.load_callbacks(source)
        yield mock
    finally:
        mock.close()


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else [value] if isinstance(value, str | Mapping | Path) else value


@pytest.fixture
def ft_verify(
    ft_mock: MockFT, ft_mock_settings: dict[str, Any]
) -> Callable[..., list[CheckResult]]:
    """`ft_verify(user_ids=[...])` runs mock-ft verify; the test fails with each failed check."""

    def verify(
        operator_url: str | None = None,
        auth: str | None = None,
        user_ids: list[str] | tuple[str, ...] = (),
        steps: tuple[str, ...] | None = None,
        **options: Any,
    ) -> list[CheckResult]:
        __tracebackhide__ = True
        from mock_ft.errors import ConfigError, MissingExtra, OperatorUnreachable
        from mock_ft.extras import require

        try:
            require("verify", needed_by="ft_verify")
        except MissingExtra as exc:
            pytest.fail(f"{exc.headline}: {exc.message}", pytrace=False)
        from mock_ft.settings import ClientSettings, load_client_settings
        from mock_ft.verify import VerifyOptions, run_verification

        # The operator fields as the session's mock has them (its options, then MOCK_FT_*),
        # with this call's arguments over them: as `mock-ft verify` reads flags over settings.
        fields = {k: v for k, v in ft_mock_settings.items() if k in ClientSettings.model_fields}
        given = {"operator_url": operator_url, "operator_auth": auth}
        fields.update({k: v for k, v in given.items() if v is not None})
        try:
            settings = load_client_settings(None, **fields)
            run = VerifyOptions.from_settings(
                settings, list(user_ids), steps=steps, ft_url=ft_mock.url, **options
            )
        except ConfigError as exc:
            pytest.fail(f"ft_verify: {exc.message}", pytrace=False)
        try:
            results = run_verification(run)
        except (ValueError, OperatorUnreachable) as exc:  # a bad auth spec; nobody answers
            pytest.fail(f"mock-ft verify cannot run: {exc}", pytrace=False)
        return _judged(results)

    return verify


def _judged(results: list[CheckResult]) -> list[CheckResult]:
    """The results when every check passed; otherwise the test fails, naming each failed one."""
    __tracebackhide__ = True
    failed = [f"  {r.step}: {r.name}: {r.message}" for r in results if not r.passed]
    if failed:
        head = f"mock-ft verify: {len(failed)} of {len(results)} check(s) failed"
        pytest.fail("\n".join([head, *failed]), pytrace=False)
    return results
