"""The dependency direction written in docs/architecture.md, enforced; and the public API."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import mock_ft

PACKAGE = Path(mock_ft.__file__).parent

# Each layer may import only from layers listed before it (docs/architecture.md).
LAYERS: list[set[str]] = [
    {
        "_version",
        "_lazy",
        "errors",
        "problems",
        "authspec",
        "faultspec",
        "origins",
        "figures",
        "journal_url",
        "tls",
    },
    {"settings", "contracts", "terminal", "charts", "extras"},
    {"journal", "reference", "faults"},
    {"ingest", "lookups", "players"},
    {"brokers", "callbacks"},
    {"crm", "samples", "verify"},
    {"scenarios"},
    {"demo", "testing"},
    {"cli", "pytest_plugin"},
    {"__main__", "__init__"},
]


def _layer(module: str) -> int:
    top = module.split(".")[0]
    return next(i for i, names in enumerate(LAYERS) if top in names)


def _internal_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mock_ft."):
            found.add(node.module.removeprefix("mock_ft."))
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("mock_ft.") for a in node.names if a.name.startswith("mock_ft.")
            )
    return found


def test_import_only_downwards() -> None:
    """No module imports from its own layer's peers above it or from a higher layer."""
    violations = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = module.split(".")[0]
        for imported in _internal_imports(path):
            if imported.split(".")[0] != own and _layer(imported) >= _layer(module):
                violations.append(f"{module} -> {imported}")
    assert violations == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every mock_ft module `path` imports (at any depth of the file), named without `mock_ft.`;
    `from mock_ft.crm import control` counts as `crm.control` when that is a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mock_ft."):
            base = (node.module or "").removeprefix("mock_ft.")
            found.add(base)
            folder = PACKAGE.joinpath(*base.split("."))
            found.update(
                f"{base}.{alias.name}"
                for alias in node.names
                if (folder / f"{alias.name}.py").is_file() or (folder / alias.name).is_dir()
            )
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("mock_ft.") for a in node.names if a.name.startswith("mock_ft.")
            )
    return found


def _builds_router(path: Path) -> bool:
    """True for a module that builds a FastAPI router: a routes module."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "APIRouter"
        for node in ast.walk(ast.parse(path.read_text()))
    )


def test_keep_routers_apart() -> None:
    """Inside crm/, no routes module imports another: what two share lives below both (schemas,
    deps), so each route is built in one place and the app includes them side by side."""
    routers = {
        _module_name(path): path for path in (PACKAGE / "crm").rglob("*.py") if _builds_router(path)
    }
    assert len(routers) > 5, "the routes modules moved: point this test at them"
    violations = sorted(
        f"{module} -> {imported}"
        for module, path in routers.items()
        for imported in _imported_modules(path)
        if imported in routers and imported != module
    )
    assert violations == []


def test_reach_app_state_only_through_deps() -> None:
    """Routes get the mock's parts from crm/deps.py (FastAPI dependencies), never by reading
    `request.app.state` (or `request.app.mock`) themselves."""
    readers = sorted(
        f"{_module_name(path)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() != "crm/deps.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in ("state", "mock")
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "app"
    )
    assert readers == []


def test_keep_modules_apart_from_folders() -> None:
    """No module shares its name with a folder beside it (`crm/ui.py` and `crm/ui/`): an import
    or a reader must never have to guess which one is meant."""
    clashes = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.with_suffix("").is_dir()
    )
    assert clashes == []


def test_keep_reference_operator_off_mock_ft() -> None:
    """The reference operator talks to mock-ft only over the wire: it never imports it."""
    import reference_operator

    offenders = []
    for path in Path(reference_operator.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "mock_ft"]
    assert offenders == []


def test_export_public_names() -> None:
    """mock_ft's __all__ lists exactly its public names, each importable."""
    public = {name for name in dir(mock_ft) if not name.startswith("_")} - {
        "cli",
        "contracts",
        "crm",
        "errors",
        "ingest",
        "journal",
        "journal_url",
        "problems",
        "samples",
        "settings",
        "demo",
        "faults",
        "faultspec",
        "figures",
        "extras",
        "reference",
        "origins",
        "lookups",
        "terminal",
        "authspec",
        "brokers",
        "callbacks",
        "charts",
        "players",
        "scenarios",
        "verify",
        "testing",
        "tls",
        "pytest_plugin",  # imported by pytest itself (entry point `pytest11`)
        "annotations",  # from `from __future__ import annotations`
    }
    assert set(mock_ft.__all__) - {"__version__"} == public


# What a module may not load when imported: the server, the journal and the heavy extras.
_SERVER = ("fastapi", "starlette", "uvicorn", "mock_ft.crm", "mock_ft.journal")
_EXTRAS = ("schemathesis", "hypothesis", "aio_pika", "aiokafka", "faker")
# What only the commands that check or replay need (verify, replay, demo).
_CLIENTS = ("mock_ft.verify", "mock_ft.scenarios", "mock_ft.demo")


def _loaded(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"import sys\n{code}\nprint(' '.join(sys.modules), file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(run.stderr.split())


def _among(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    """Each of `names` that is loaded, itself or any module inside it."""
    return sorted(n for n in names if any(m == n or m.startswith(f"{n}.") for m in loaded))


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        # pytest imports the plugin in every run of an operator's suite (entry point pytest11).
        ("mock_ft.pytest_plugin", (*_SERVER, *_EXTRAS, "httpx", "pydantic", "mock_ft.settings")),
        ("mock_ft", (*_SERVER, *_EXTRAS, "httpx", "pydantic")),
        # `mock-ft --help` and every command's start: each loads what it needs when it runs.
        ("mock_ft.cli", (*_SERVER, *_EXTRAS, *_CLIENTS, "httpx", "pydantic")),
    ],
)
def test_import_lightly(module: str, forbidden: tuple[str, ...]) -> None:
    """Importing the plugin, the package or the CLI loads none of the heavy modules."""
    assert _among(_loaded(f"import {module}"), forbidden) == []


def test_add_only_own_modules_to_pytest() -> None:
    """Importing the plugin adds nothing to what `import pytest` loads but a few mock_ft modules.

    The bound: no third-party module at all (no pydantic, httpx, FastAPI, Schemathesis or
    Hypothesis), so an operator's every pytest run pays for mock-ft only when a test asks for one
    of its fixtures; and at most 5 of mock_ft's own modules (the package root, its version, the
    plugin), so a new eager import shows up here.
    """
    added = _loaded("import pytest, mock_ft.pytest_plugin") - _loaded("import pytest")
    assert sorted(m for m in added if m.split(".")[0] != "mock_ft") == []
    assert len(added) <= 5, sorted(added)


def test_load_only_typer_and_rich_for_help() -> None:
    """`mock-ft --help` builds every command from its module, and loads nothing a command needs
    when it runs: no server, no extra, no HTTP client, not even pydantic (help shows defaults
    from mock_ft.settings.defaults), and none of verify, the scenarios or the demo."""
    code = (
        "from mock_ft.cli import main\nsys.argv = ['mock-ft', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded(code)
    assert "typer" in loaded  # the help really was built
    heavy = (*_SERVER, *_EXTRAS, *_CLIENTS, "httpx", "pydantic", "yaml", "mock_ft.settings.server")
    assert _among(loaded, heavy) == []


def test_load_public_names_on_first_use() -> None:
    """The lazy package root still gives every public name, and says so for a wrong one."""
    assert mock_ft.create_app.__module__ == "mock_ft.crm.app"
    assert set(mock_ft.__all__) <= set(dir(mock_ft))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mock_ft.nope
    scenarios = importlib.import_module("mock_ft.scenarios")
    assert scenarios.Target.__module__ == "mock_ft.scenarios.target"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = scenarios.nope


def test_document_every_setting_in_readme() -> None:
    """Every setting, the server's and the commands', has its row in docs/configuration.md."""
    from mock_ft.settings import ClientSettings, Settings

    readme = (PACKAGE.parent / "docs" / "configuration.md").read_text()
    missing = [
        name
        for name in {*Settings.model_fields, *ClientSettings.model_fields}
        if f"`MOCK_FT_{name.upper()}` | `{name}` |" not in readme
    ]
    assert missing == []
