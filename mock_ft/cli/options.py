"""Options and helpers several commands share, so each is spelt and explained once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mock_ft.errors import ConfigError

__all__ = ["ConfigOpt", "FtUrlOpt", "JsonOpt", "QuietOpt", "VerboseOpt", "verbosity"]

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML, JSON or TOML file of settings.", show_default=False),
]
# The running mock of `faults` and `delivery`: `url` of the client settings (MOCK_FT_URL).
FtUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--ft-url",
        help="The running mock.",
        show_default="MOCK_FT_URL, else http://127.0.0.1:8765",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON answer, for tools.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also list every check that passed.")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only the failures, one line each, and the verdict.")
]


def verbosity(verbose: bool, quiet: bool) -> int:
    """1 with --verbose, -1 with --quiet, 0 with neither; both contradict each other."""
    if verbose and quiet:
        msg = "--verbose and --quiet contradict each other; pass one"
        raise ConfigError(msg)
    return 1 if verbose else -1 if quiet else 0
