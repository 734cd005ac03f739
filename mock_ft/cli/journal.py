"""`mock-ft journal migrate|check`: bring a journal's schema up to date, or say where it stands.

Exit codes: 0 done / up to date and sound; 1 `check` found migration steps not taken or a damaged
journal; 2 the journal cannot be opened (or is in use, for `migrate`), or a setting is wrong.
`serve` migrates at start anyway; these are for a deploy that migrates first, and for a look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mock_ft.cli.options import ConfigOpt
from mock_ft.terminal import friendly, out

__all__ = ["app"]

app = typer.Typer(
    help="Migrate or check a journal (SQLite file or postgresql:// URL).", no_args_is_help=True
)

JournalOpt = Annotated[
    str | None,
    typer.Option(
        "--journal",
        help="SQLite journal path or postgresql:// URL (else MOCK_FT_JOURNAL, the config file).",
        show_default=".mock-ft/journal.sqlite3",
    ),
]


def _target(config: Path | None, journal: str | None) -> str:
    from mock_ft.settings import load_settings

    return load_settings(config, journal=journal).journal


@app.command("migrate")
@friendly
def migrate_journal(journal: JournalOpt = None, config: ConfigOpt = None) -> None:
    """Apply the schema migration steps the journal has not taken (creating it if new)."""
    from mock_ft.journal import Journal
    from mock_ft.journal.migrations import LATEST

    opened = Journal(_target(config, journal)).start()
    try:
        steps = opened.migrated
    finally:
        opened.close()
    for step in steps:
        out.print(f"applied {step.version}: {step.title}")
    out.print(f"journal {opened.path} is at schema version {LATEST} (latest)")


@app.command("check")
@friendly
def check_journal(journal: JournalOpt = None, config: ConfigOpt = None) -> None:
    """Say the journal's schema version, the steps it lacks, and whether it is sound."""
    from mock_ft.journal.inspection import inspect_journal

    found = inspect_journal(_target(config, journal))
    out.print(f"journal   {found.shown} ({found.backend})")
    out.print(f"schema    version {found.version} of {found.latest}")
    for step in found.pending:
        out.print(f"pending   {step.version}: {step.title}")
    for problem in found.problems:
        out.print(f"problem   {problem}")
    if found.pending:
        out.print("run `mock-ft journal migrate` (or start `mock-ft serve`) to apply them")
    out.print("ok" if found.ok else "not ok")
    raise typer.Exit(0 if found.ok else 1)
