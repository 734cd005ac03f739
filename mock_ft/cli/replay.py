"""`mock-ft replay PATH...`: run scenario files against the local stack or given URLs.

With `--stack url`, the mock, the operator's credentials, the mock's ingest key and control token
come from the client settings (flags > `MOCK_FT_*` > `--config` > defaults), as for `verify`.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mock_ft.cli.options import ConfigOpt, verbosity
from mock_ft.errors import ConfigError
from mock_ft.extras import require
from mock_ft.terminal import friendly, out

if TYPE_CHECKING:
    from mock_ft.scenarios.loader import Scenario
    from mock_ft.scenarios.target import Target

__all__ = ["Stack", "replay"]


class Stack(StrEnum):
    """Where the scenarios run: a stack started here, or a mock (and operator) at given URLs."""

    LOCAL = "local"
    URL = "url"


@friendly
def replay(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario files or folders of them.", show_default=False),
    ] = None,
    library: Annotated[
        bool,
        typer.Option(
            "--library",
            help="Also replay the scenario library that ships with mock-ft (needs the reference "
            "operator: --stack local, or a platform with its /platform/ driver API).",
        ),
    ] = False,
    stack: Annotated[
        Stack,
        typer.Option(
            help="local: start the mock and the reference operator here; url: use --ft-url."
        ),
    ] = Stack.LOCAL,
    ft_url: Annotated[
        str | None,
        typer.Option(
            help="A running mock (with --stack url).",
            show_default="MOCK_FT_URL, else http://127.0.0.1:8765",
        ),
    ] = None,
    operator_url: Annotated[
        str | None,
        typer.Option(
            help="The operator (its driver and Operator API), with --stack url.",
            show_default=False,
        ),
    ] = None,
    operator_auth: Annotated[
        str | None,
        typer.Option(
            help="Operator API credentials for `auth: true` steps (api-key:KEY, basic:...).",
            show_default="MOCK_FT_OPERATOR_AUTH",
        ),
    ] = None,
    ft_api_key: Annotated[
        str | None,
        typer.Option(help="The mock's ingest key.", show_default="MOCK_FT_API_KEY"),
    ] = None,
    rabbitmq_url: Annotated[
        str | None, typer.Option(help="Publish `rabbitmq` sends here.", show_default=False)
    ] = None,
    rabbitmq_exchange: Annotated[str, typer.Option(help="Exchange to publish to.")] = "fasttrack",
    kafka_bootstrap: Annotated[
        str | None, typer.Option(help="Publish `kafka` sends here.", show_default=False)
    ] = None,
    kafka_topic: Annotated[str, typer.Option(help="Topic to publish to.")] = "fasttrack.events",
    defect: Annotated[
        list[str] | None,
        typer.Option(
            help="Local stack: turn on a reference-operator defect (repeatable).",
            show_default=False,
        ),
    ] = None,
    tags: Annotated[
        str | None,
        typer.Option(
            help="Only scenarios with one of these tags (comma-separated).",
            show_default="every scenario",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Faker seed for scenarios without one.", show_default="0")
    ] = None,
    fail_fast: Annotated[bool, typer.Option(help="Stop after the first failed scenario.")] = False,
    report_dir: Annotated[Path, typer.Option(help="Where the reports go.")] = Path(
        ".mock-ft/reports"
    ),
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Every step as it runs, not one line a scenario."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Nothing while it runs: the failures and totals.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Replay scenarios; exit 0 all passed, 1 one failed, 2 invalid scenario or cannot run."""
    require("scenarios", needed_by="mock-ft replay")
    # Imported here: the stack pulls in the whole mock, which other commands need not load.
    from mock_ft.scenarios.loader import load_scenarios
    from mock_ft.scenarios.stack import local_stack
    from mock_ft.scenarios.target import Target
    from mock_ft.settings import load_client_settings
    from mock_ft.verify.report import post_run

    if library:
        from mock_ft.reference import library_dir

        paths = [*(paths or []), str(library_dir())]
    if not paths:
        msg = "nothing to replay; pass scenario files or folders, or --library"
        raise ConfigError(msg)
    level = verbosity(verbose, quiet)
    scenarios = load_scenarios(paths)  # every file is checked before anything runs
    if tags:
        wanted = {t.strip() for t in tags.split(",") if t.strip()}
        scenarios = [s for s in scenarios if wanted & set(s.spec.tags)]
        if not scenarios:
            msg = f"no scenario has any of the tags {', '.join(sorted(wanted))}"
            raise ConfigError(msg)
    # Flags over MOCK_FT_* over --config; pydantic checks the credentials' form.
    settings = load_client_settings(
        config,
        url=ft_url,
        operator_url=operator_url,
        operator_auth=operator_auth,
        api_key=ft_api_key,
    )
    if stack is Stack.LOCAL:
        if level >= 0:
            out.print("[dim]starting the local stack: mock and reference operator...[/]")
        with local_stack(
            rabbitmq_url=rabbitmq_url, kafka_bootstrap=kafka_bootstrap, defects=defect or []
        ) as target:
            out.print(
                f"[dim]local stack: mock {target.ft_url}, "
                f"reference operator {target.operator_url}[/]"
            )
            code = _run(scenarios, target, report_dir, seed, fail_fast, level)
        raise SystemExit(code)
    if "url" not in settings.model_fields_set:  # the default mock is the local stack's
        msg = "--stack url needs --ft-url (the running mock), or MOCK_FT_URL"
        raise ConfigError(msg)
    target = Target(
        ft_url=settings.url,
        operator_url=settings.operator_url.rstrip("/") if settings.operator_url else None,
        operator_auth=settings.secret("operator_auth"),
        ft_api_key=settings.api_key.get_secret_value(),
        control_token=settings.secret("control_token"),
        rabbitmq_url=rabbitmq_url,
        rabbitmq_exchange=rabbitmq_exchange,
        kafka_bootstrap=kafka_bootstrap,
        kafka_topic=kafka_topic,
    )
    code = _run(scenarios, target, report_dir, seed, fail_fast, level)
    problem = post_run(target.ft_url, "replay", report_dir / "replay.json", target.control_token)
    if problem:  # the mock's dashboard (/ui#runs) shows the replay too
        out.print(f"[dim]{problem}[/]")
    raise SystemExit(code)


def _run(
    scenarios: list[Scenario],
    target: Target,
    report_dir: Path,
    seed: int | None,
    fail_fast: bool,
    level: int,
) -> int:
    """Replay, write the reports, print the summary; the exit code."""
    from mock_ft.scenarios.report import write_replay_reports
    from mock_ft.scenarios.runner import replay, summary

    results = asyncio.run(
        replay(scenarios, target, out, seed=seed, fail_fast=fail_fast, verbosity=level)
    )
    html = write_replay_reports(report_dir, target, results)
    return summary(out, results, html, level)
