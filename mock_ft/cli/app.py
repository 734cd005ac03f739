"""The Typer app: the root options, and every command and command group registered once.

A new command is a module in this folder with one function; a new group (`mock-ft faults ...`)
is a module with its own `typer.Typer`. Either is added here with one line, below.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mock_ft._version import __version__
from mock_ft.cli import delivery, demo, faults, journal, replay, serve, verify
from mock_ft.terminal import out

__all__ = ["app", "main"]

app = typer.Typer(
    name="mock-ft",
    help="A local Fast Track CRM: prove your FT integration before go-live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"mock-ft {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """A local Fast Track CRM: prove your FT integration before go-live."""


# Every command and command group (`add_typer`), one line each, in the order `mock-ft --help`
# lists them.
app.command("serve")(serve.serve)
app.command("verify")(verify.verify)
app.add_typer(faults.app, name="faults")
app.command("delivery")(delivery.delivery)
app.command("replay")(replay.replay)
app.command("demo")(demo.demo)
app.add_typer(journal.app, name="journal")


def main() -> None:
    """Console-script entry point."""
    app()
