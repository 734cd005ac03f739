"""What `mock-ft replay` prints: live progress, each scenario or step, then failures first and
one line of totals, like pytest.

Verbosity: -1 (`-q`) prints nothing while it runs; 0 one line per scenario; 1 (`-v`) every step
with a failed one's diff. The failures come again, first, in the summary. A step that reports
progress (a send of many events, an expectation still waiting for them) shows a live bar with
counts and rate, on a terminal only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.rule import Rule
from rich.text import Text

from mock_ft.terminal import counts_line, human_seconds

if TYPE_CHECKING:
    from mock_ft.scenarios.runner import ScenarioResult, StepResult

__all__ = ["ReportProgress", "Reporter", "summary"]

ReportProgress = Callable[[int, "int | None"], None]


class _Rate(ProgressColumn):
    """Events per second so far."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="cyan")


class Reporter:
    """Prints a replay as it runs, at the chosen verbosity."""

    def __init__(self, console: Console, verbosity: int = 0) -> None:
        self.console = console
        self.verbosity = verbosity

    def scenario_started(self, name: str, path: str) -> None:
        if self.verbosity > 0:
            self.console.print(f"[bold]▶ {escape(name)}[/] [dim]{escape(path)}[/]")

    def scenario_done(self, result: ScenarioResult) -> None:
        """-v: a skip's reason under its header; default: one line per scenario."""
        if self.verbosity < 0:
            return
        if self.verbosity > 0:
            if result.status == "skipped":
                self.console.print(f"  [yellow]skipped[/]: {escape(result.reason)}")
            return
        where = f"[dim]{escape(result.path)}[/]"
        if result.status == "skipped":
            reason = escape(result.reason)
            self.console.print(f"[yellow]-[/] {escape(result.name)} {where} skipped: {reason}")
            return
        mark = "[green]✓[/]" if result.status == "passed" else "[bold red]✗[/]"
        timing = f"[dim]{human_seconds(result.seconds)}[/]"
        self.console.print(f"{mark} {escape(result.name)} {where} {timing}")

    def step_done(self, outcome: StepResult) -> None:
        if self.verbosity <= 0:
            return
        timing = f"[dim]{human_seconds(outcome.seconds)}[/]"
        if outcome.status == "passed":
            self.console.print(f"  [green]✓[/] {escape(outcome.label)} {timing}")
            return
        self.console.print(f"  [bold red]✗[/] {escape(outcome.label)} {timing}")
        _print_failed_step(self.console, outcome)

    def template_failed(self, message: str) -> None:
        if self.verbosity > 0:
            self.console.print(f"  [bold red]✗ variables[/]: {escape(message)}")

    @contextmanager
    def progress(self, label: str) -> Iterator[ReportProgress]:
        """A live bar for the step, drawn from its first report on (a terminal only)."""
        if not self.console.is_terminal or self.verbosity < 0:
            yield lambda done, total: None
            return
        bar: Progress | None = None
        task = None

        def report(done: int, total: int | None) -> None:
            nonlocal bar, task
            if bar is None:
                bar = Progress(
                    SpinnerColumn(),
                    TextColumn(escape(label)),
                    BarColumn(),
                    MofNCompleteColumn(),
                    _Rate(),
                    TimeElapsedColumn(),
                    console=self.console,
                    transient=True,
                )
                bar.start()
                task = bar.add_task(label, total=total)
            assert task is not None  # noqa: S101 - set with the bar
            bar.update(task, completed=done, total=total)

        try:
            yield report
        finally:
            if bar is not None:
                bar.stop()


def _print_failed_step(console: Console, outcome: StepResult) -> None:
    console.print(f"    [red]{escape(outcome.message)}[/]")
    for line in outcome.diff:
        console.print(f"    {escape(line)}")


def summary(
    console: Console, results: list[ScenarioResult], report: Path | None, verbosity: int = 0
) -> int:
    """Failures first (what was expected, what came), skip reasons, then the totals; the exit
    code: 0 when nothing failed, else 1."""
    failed = [r for r in results if r.status == "failed"]
    skipped = [r for r in results if r.status == "skipped"]
    if failed:
        console.print(Rule("failures", style="red", align="left"))
    for result in failed:
        console.print(f"[bold red]✗ {escape(result.name)}[/] [dim]{escape(result.path)}[/]")
        for step in result.steps:
            if step.status == "failed" and verbosity < 0:  # -q: one line each
                console.print(f"  {escape(step.label)}: [red]{escape(step.message)}[/]")
            elif step.status == "failed":
                console.print(f"  {escape(step.label)}")
                _print_failed_step(console, step)
        if result.reason:
            console.print(f"    [red]{escape(result.reason)}[/]")
    if skipped and verbosity >= 0:
        console.print(Rule("skipped", style="yellow", align="left"))
        for result in skipped:
            console.print(f"[yellow]-[/] {escape(result.name)}: {escape(result.reason)}")
    passed = sum(r.status == "passed" for r in results)
    line = counts_line(len(failed), passed, len(skipped), sum(r.seconds for r in results))
    colour = "bold red" if failed else "bold green"
    console.print(f"[{colour}]{line}[/]")
    if report is not None:
        console.print(f"report: {report}")
    return 1 if failed else 0
