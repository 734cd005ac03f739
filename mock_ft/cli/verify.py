"""`mock-ft verify`: check an Operator API the way FT will, and say whether it is ready.

The operator, its credentials, the OAuth2 method and the mock's control token come from the
client settings (flags > `MOCK_FT_*` > `--config` > defaults), as for the pytest plugin's
`ft_verify`; `VerifyOptions.from_settings` assembles the run in both.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mock_ft.cli.options import ConfigOpt, QuietOpt, VerboseOpt, verbosity
from mock_ft.extras import require
from mock_ft.settings import LOOKUP_CONCURRENCY
from mock_ft.terminal import friendly, out

__all__ = ["verify"]


@friendly
def verify(
    operator_url: Annotated[
        str | None,
        typer.Option(
            help="Base URL of the Operator API.",
            show_default="operator_url of --config, or MOCK_FT_OPERATOR_URL",
        ),
    ] = None,
    user_id: Annotated[
        list[str] | None,
        typer.Option("--user-id", help="A known test user (repeatable).", show_default=False),
    ] = None,
    config: ConfigOpt = None,
    auth: Annotated[
        str | None,
        typer.Option(
            help="api-key:KEY | basic:USER:PASS | oauth:TOKEN_URL:CLIENT_ID:SECRET.",
            show_default="operator_auth of --config, or MOCK_FT_OPERATOR_AUTH",
        ),
    ] = None,
    ft_url: Annotated[
        str | None,
        typer.Option(
            help="A running mock-ft: also check the event feed.",
            show_default="none: the Operator API only",
        ),
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where the reports go.")] = Path(
        ".mock-ft/reports"
    ),
    oauth_method: Annotated[
        str | None,
        typer.Option(
            help="Token request: post or get.",
            show_default="operator_oauth_method of --config, or post",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated requests.")] = 0,
    max_examples: Annotated[int, typer.Option(help="Generated requests per operation.")] = 25,
    p95_budget_ms: Annotated[float, typer.Option(help="Latency budget (p95, ms).")] = 500.0,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Callers driving each read endpoint at once.",
            show_default=f"{LOOKUP_CONCURRENCY}, the mock's lookup concurrency",
        ),
    ] = LOOKUP_CONCURRENCY,
    concurrent_calls: Annotated[
        int, typer.Option(min=1, help="Calls per read endpoint under that concurrency.")
    ] = 40,
    step: Annotated[
        list[str] | None,
        typer.Option(help="Check only this step (repeatable).", show_default="every step"),
    ] = None,
    sid: Annotated[
        str | None,
        typer.Option(
            help="Session id of a logged-in test user (checks /authenticate).", show_default=False
        ),
    ] = None,
    token_expiry_wait: Annotated[
        float,
        typer.Option(
            min=0, help="Longest OAuth token lifetime (s) to wait out, to check expiry is enforced."
        ),
    ] = 10.0,
    event_wait: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="How long (s) to wait for the events your platform must publish after verify's "
            "own writes (FT wants them within 1 s).",
        ),
    ] = 1.5,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check an Operator API the way FT will; exit 0 ready, 1 a check failed, 2 cannot run."""
    require("verify", needed_by="mock-ft verify")
    from mock_ft.settings import load_client_settings
    from mock_ft.verify import VerifyOptions, run_verification
    from mock_ft.verify.report import post_run, print_summary, write_reports

    level = verbosity(verbose, quiet)
    settings = load_client_settings(
        config,
        operator_url=operator_url,
        operator_auth=auth,
        operator_oauth_method=oauth_method,
    )
    options = VerifyOptions.from_settings(
        settings,
        user_id or [],
        steps=step,
        ft_url=ft_url,
        seed=seed,
        max_examples=max_examples,
        p95_budget_ms=p95_budget_ms,
        concurrency=concurrency,
        concurrent_calls=concurrent_calls,
        sid=sid,
        token_expiry_wait_seconds=token_expiry_wait,
        event_wait_seconds=event_wait,
    )
    started = time.perf_counter()
    with out.status("verifying") as status:
        results = run_verification(options, lambda step: status.update(f"verifying: {step}"))
    print_summary(out, results, time.perf_counter() - started, level)
    html = write_reports(report_dir, options, results)
    out.print(f"reports: {html} (HTML), {report_dir / 'junit.xml'}, {report_dir / 'report.json'}")
    if ft_url:  # the mock's dashboard (/ui#runs) shows the scorecard too
        problem = post_run(ft_url, "verify", report_dir / "report.json", options.control_token)
        out.print(f"[dim]{problem}[/]" if problem else f"scorecard: {ft_url.rstrip('/')}/ui#runs")
    raise SystemExit(0 if all(r.passed for r in results) else 1)
