"""`mock-ft demo`: everything on embedded defaults, in one command (the run is mock_ft.demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mock_ft.extras import require
from mock_ft.terminal import friendly, out

__all__ = ["demo"]

_REPORTS = Path(".mock-ft/reports")


@friendly
def demo(
    journal: Annotated[
        str, typer.Option(help="Journal for the demo run.")
    ] = ".mock-ft/demo.sqlite3",
    p95_budget_ms: Annotated[
        float, typer.Option(help="Latency budget of the verification (p95, ms).")
    ] = 500.0,
    event_wait: Annotated[
        float,
        typer.Option(
            min=0.1, help="How long (s) verification waits for the events of its own writes."
        ),
    ] = 1.5,
    scenarios: Annotated[
        str | None,
        typer.Option(
            help="Scenario folder to replay (left out when missing); default: the library that "
            "ships with mock-ft.",
            show_default=False,
        ),
    ] = None,
    kafka_bootstrap: Annotated[
        str | None,
        typer.Option(
            help="Kafka bootstrap servers (host:port,...) for the library's Kafka scenarios, "
            "skipped without.",
            show_default=False,
        ),
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where the reports go.")] = _REPORTS,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Stop after the run instead of serving the dashboard.")
    ] = False,
) -> None:
    """Everything at once: the mock and the reference operator, verification, the scenario
    library, samples of every event; then the mock and its dashboard stay up until Ctrl-C."""
    require("verify", "scenarios", needed_by="mock-ft demo")
    from mock_ft.demo import run_demo

    code = run_demo(
        journal,
        out,
        report_dir,
        p95_budget_ms=p95_budget_ms,
        event_wait_seconds=event_wait,
        scenarios=scenarios,
        kafka_bootstrap=kafka_bootstrap,
        keep_running=not exit_after,
    )
    raise SystemExit(code)
