"""`mock-ft replay PATH...`: run scenario files against the local stack or given URLs."""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from mock_ft.authspec import parse_operator_auth
from mock_ft.errors import ConfigError
from mock_ft.settings import DEFAULT_API_KEY
from mock_ft.terminal import friendly, out

__all__ = ["replay_command"]


@friendly
def replay_command(
    paths: Annotated[list[str], typer.Argument(help="Scenario files or folders of them.")],
    stack: Annotated[
        str,
        typer.Option(
            help="local: start the mock and the reference operator here; url: use --ft-url."
        ),
    ] = "local",
    ft_url: Annotated[
        str | None,
        typer.Option(
            help="A running mock (with --stack url).", envvar="MOCK_FT_URL", show_default=False
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
            envvar="MOCK_FT_OPERATOR_AUTH",
            help="Operator API credentials for `auth: true` steps (api-key:KEY, basic:...).",
            show_default=False,
        ),
    ] = None,
    ft_api_key: Annotated[
        str | None,
        typer.Option(envvar="MOCK_FT_API_KEY", help="The mock's ingest key.", show_default=False),
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
) -> None:
    """Replay scenarios; exit 0 all passed, 1 one failed, 2 invalid scenario or cannot run."""
    # Imported here: the stack pulls in the whole mock, which other commands need not load.
    from mock_ft.scenarios.loader import load_scenarios
    from mock_ft.scenarios.report import write_replay_reports
    from mock_ft.scenarios.runner import replay, summary
    from mock_ft.scenarios.stack import local_stack
    from mock_ft.scenarios.target import Target
    from mock_ft.verify.report import post_run

    if verbose and quiet:
        msg = "--verbose and --quiet contradict each other; pass one"
        raise ConfigError(msg)
    verbosity = 1 if verbose else -1 if quiet else 0
    scenarios = load_scenarios(paths)  # every file is checked before anything runs
    if tags:
        wanted = {t.strip() for t in tags.split(",") if t.strip()}
        scenarios = [s for s in scenarios if wanted & set(s.spec.tags)]
        if not scenarios:
            msg = f"no scenario has any of the tags {', '.join(sorted(wanted))}"
            raise ConfigError(msg)
    if operator_auth is not None:
        try:
            parse_operator_auth(operator_auth)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if stack not in ("local", "url"):
        msg = f"--stack must be local or url, not {stack!r}"
        raise ConfigError(msg)
    with ExitStack() as context:
        if stack == "local":
            if verbosity >= 0:
                out.print("[dim]starting the local stack: mock and reference operator...[/]")
            target = context.enter_context(
                local_stack(
                    rabbitmq_url=rabbitmq_url, kafka_bootstrap=kafka_bootstrap, defects=defect or []
                )
            )
        else:
            if not ft_url:
                msg = "--stack url needs --ft-url (the running mock)"
                raise ConfigError(msg)
            target = Target(
                ft_url=ft_url.rstrip("/"),
                operator_url=operator_url.rstrip("/") if operator_url else None,
                operator_auth=operator_auth,
                ft_api_key=ft_api_key or DEFAULT_API_KEY,
                control_token=os.environ.get("MOCK_FT_CONTROL_TOKEN"),
                rabbitmq_url=rabbitmq_url,
                rabbitmq_exchange=rabbitmq_exchange,
                kafka_bootstrap=kafka_bootstrap,
                kafka_topic=kafka_topic,
            )
        results = asyncio.run(
            replay(scenarios, target, out, seed=seed, fail_fast=fail_fast, verbosity=verbosity)
        )
        html = write_replay_reports(report_dir, target, results)
        if stack == "url":  # the mock's dashboard (/ui#runs) shows the replay too
            problem = post_run(
                target.ft_url, "replay", report_dir / "replay.json", target.control_token
            )
            if problem:
                out.print(f"[dim]{problem}[/]")
    raise SystemExit(summary(out, results, html, verbosity))
