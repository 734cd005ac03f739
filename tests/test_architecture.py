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
    {"_version", "errors", "problems", "authspec", "faultspec", "origins"},
    {"settings", "contracts", "terminal", "charts", "extras"},
    {"journal", "reference", "faults"},
    {"ingest", "lookups", "players"},
    {"brokers", "callbacks"},
    {"crm", "samples", "verify"},
    {"remote", "scenarios"},
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
        "problems",
        "samples",
        "settings",
        "demo",
        "faults",
        "faultspec",
        "extras",
        "reference",
        "origins",
        "lookups",
        "remote",
        "terminal",
        "authspec",
        "brokers",
        "callbacks",
        "charts",
        "players",
        "scenarios",
        "verify",
        "testing",
        "pytest_plugin",  # imported by pytest itself (entry point `pytest11`)
        "annotations",  # from `from __future__ import annotations`
    }
    assert set(mock_ft.__all__) - {"__version__"} == public


# What a module may not load when imported: the server, the journal and the heavy extras.
_SERVER = ("fastapi", "starlette", "uvicorn", "mock_ft.crm", "mock_ft.journal")
_EXTRAS = ("schemathesis", "hypothesis", "aio_pika", "aiokafka", "faker")


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        # pytest imports the plugin in every run of an operator's suite (entry point pytest11).
        ("mock_ft.pytest_plugin", (*_SERVER, *_EXTRAS, "httpx", "pydantic", "mock_ft.settings")),
        ("mock_ft", (*_SERVER, *_EXTRAS, "httpx", "pydantic")),
        # `mock-ft --help` and every command's start: each loads what it needs when it runs.
        ("mock_ft.cli", (*_SERVER, *_EXTRAS, "mock_ft.verify", "mock_ft.scenarios.loader")),
    ],
)
def test_import_lightly(module: str, forbidden: tuple[str, ...]) -> None:
    """Importing the plugin, the package or the CLI loads none of the heavy modules."""
    code = f"import sys, {module}; print(' '.join(m for m in {forbidden!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == []


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
    """Every setting has its row in the configuration table of docs/configuration.md."""
    from mock_ft.settings import Settings

    readme = (PACKAGE.parent / "docs" / "configuration.md").read_text()
    missing = [
        name
        for name in Settings.model_fields
        if f"`MOCK_FT_{name.upper()}` | `{name}` |" not in readme
    ]
    assert missing == []
