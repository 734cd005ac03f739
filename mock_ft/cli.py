"""The `mock-ft` command. Exit codes: 0 success, 1 a check failed, 2 usage/config/input error."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mock_ft._version import __version__
from mock_ft.authspec import parse_operator_auth
from mock_ft.demo import demo_command
from mock_ft.errors import ConfigError
from mock_ft.extras import require
from mock_ft.journal_url import redact
from mock_ft.remote import delivery, faults_app
from mock_ft.scenarios.command import replay_command
from mock_ft.settings import LOOKUP_CONCURRENCY
from mock_ft.terminal import err, friendly, out

if TYPE_CHECKING:
    from pydantic import SecretStr

    from mock_ft.settings import Settings

# Each command imports what it needs when it runs: `mock-ft --help` loads neither the server
# (FastAPI, uvicorn, the journal) nor Schemathesis (tests/test_architecture.py keeps it so).

__all__ = ["app", "main"]

app = typer.Typer(
    name="mock-ft",
    help="A local Fast Track CRM: prove your FT integration before go-live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML, JSON or TOML file of settings.", show_default=False),
]

_VERBOSE = "Also list every check that passed."
_QUIET = "Only the failures, one line each, and the verdict."


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


@app.command()
@friendly
def serve(
    config: ConfigOpt = None,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind.", show_default="127.0.0.1")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port; 0 picks a free one.", show_default="8765")
    ] = None,
    journal: Annotated[
        str | None,
        typer.Option(
            help="SQLite journal path or :memory:.", show_default=".mock-ft/journal.sqlite3"
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="Key the operator must send (prefer MOCK_FT_API_KEY: ps shows flags).",
            show_default="mock-ft-local-key",
        ),
    ] = None,
    api_key_header: Annotated[
        str | None, typer.Option(help="Header carrying the key.", show_default="X-API-Key")
    ] = None,
    auth: Annotated[
        bool | None,
        typer.Option("--auth/--no-auth", help="Require the API key.", show_default="auth"),
    ] = None,
    control_token: Annotated[
        str | None, typer.Option(help="Bearer token for /_mock/.", show_default=False)
    ] = None,
    operator_url: Annotated[
        str | None,
        typer.Option(
            help="Operator API base URL: look users up there, as FT does.", show_default=False
        ),
    ] = None,
    operator_auth: Annotated[
        str | None,
        typer.Option(
            help="api-key:KEY | basic:USER:PASS | oauth:TOKEN_URL:CLIENT_ID:SECRET.",
            show_default=False,
        ),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="A fault rule, repeatable, e.g. '503 retry_after=1 probability=30% "
            "type=PAYMENT' or 'timeout hold=2s p=5%' (see /_mock/faults).",
            show_default=False,
        ),
    ] = None,
    rabbitmq_url: Annotated[
        str | None,
        typer.Option(help="Also consume FT events from RabbitMQ (amqp://...).", show_default=False),
    ] = None,
    rabbitmq_queue: Annotated[
        str | None, typer.Option(help="Queue to consume.", show_default="fasttrack.events")
    ] = None,
    kafka_bootstrap: Annotated[
        str | None,
        typer.Option(help="Also consume FT events from Kafka (host:port,...).", show_default=False),
    ] = None,
    kafka_topic: Annotated[
        list[str] | None,
        typer.Option(help="Topic to consume, repeatable.", show_default="fasttrack.events"),
    ] = None,
    callbacks: Annotated[
        list[str] | None,
        typer.Option(
            help="Callback rules to load, repeatable: cancel-bonus, refer-a-friend, bonus-bot, "
            "loyalty-sync, all, or a rule file.",
            show_default=False,
        ),
    ] = None,
    callback_api_key: Annotated[
        str | None,
        typer.Option(help="x-api-key for callback rules without their own.", show_default=False),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="uvicorn log level.", show_default="info")
    ] = None,
) -> None:
    """Run the mock Fast Track Integration API (REST, and RabbitMQ/Kafka when given)."""
    from mock_ft.settings import load_settings

    settings = load_settings(
        config,
        host=host,
        port=port,
        journal=journal,
        api_key=api_key,
        api_key_header=api_key_header,
        auth_enabled=auth,
        control_token=control_token,
        operator_url=operator_url,
        operator_auth=operator_auth,
        faults=fault or None,
        rabbitmq_url=rabbitmq_url,
        rabbitmq_queue=rabbitmq_queue,
        kafka_bootstrap=kafka_bootstrap,
        kafka_topics=kafka_topic or None,
        callback_rules=callbacks or None,
        callback_api_key=callback_api_key,
        log_level=log_level,
    )
    run_server(settings)


def run_server(settings: Settings) -> None:
    """Serve until interrupted; the journal is opened first so its errors are reported cleanly."""
    import uvicorn

    from mock_ft.crm import create_app
    from mock_ft.crm.runner import bind_socket, tune_gc, uvicorn_config
    from mock_ft.journal import Journal

    with ExitStack() as cleanup:
        sock = bind_socket(settings.host, settings.port)
        cleanup.callback(sock.close)
        journal = Journal(settings.journal, sync=settings.journal_sync).start()
        cleanup.callback(journal.close)
        app = create_app(settings, journal=journal)  # a bad rule says so before any banner
        _banner(settings, sock.getsockname()[1])
        config = uvicorn_config(app, log_level=settings.log_level)
        tune_gc()
        uvicorn.Server(config).run(sockets=[sock])


def _banner(settings: Settings, port: int) -> None:
    from mock_ft.settings import DEFAULT_API_KEY

    url = f"http://{settings.host}:{port}"
    key = settings.api_key.get_secret_value()
    err.print(f"[bold green]mock-ft {__version__}[/] listening on {url}")
    err.print(f"  journal   {redact(settings.journal)}")  # a URL's password: ***
    if settings.auth_enabled:
        shown = f"{key} (the default)" if key == DEFAULT_API_KEY else "configured (hidden)"
        err.print(f"  auth      {settings.api_key_header}: {shown}")
    else:
        err.print("  auth      off (--no-auth)")
    if settings.rabbitmq_url is not None:
        from mock_ft.brokers.rabbitmq import rabbitmq_url

        shown = rabbitmq_url(settings)[1]
        err.print(f"  rabbitmq  {shown} queue {settings.rabbitmq_queue} (type: AMQP property)")
    if settings.kafka_bootstrap is not None:
        topics = ", ".join(settings.kafka_topics)
        err.print(f"  kafka     {settings.kafka_bootstrap} topic {topics} (type: record header)")
    for number, spec in enumerate(settings.faults, start=1):  # rule ids, as /_mock/faults lists
        err.print(f"  fault #{number}  {spec.words()}")
    err.print(f"  dashboard {url}/ui")
    err.print(f"  docs      {url}/docs    control {url}/_mock/events")


@app.command()
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
            envvar="MOCK_FT_OPERATOR_AUTH",
            help="api-key:KEY | basic:USER:PASS | oauth:TOKEN_URL:CLIENT_ID:SECRET.",
            show_default=False,
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
    oauth_method: Annotated[str, typer.Option(help="Token request: post or get.")] = "post",
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=_VERBOSE)] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=_QUIET)] = False,
) -> None:
    """Check an Operator API the way FT will; exit 0 ready, 1 a check failed, 2 cannot run."""
    require("verify", needed_by="mock-ft verify")
    from mock_ft.settings import load_settings
    from mock_ft.verify import VerifyOptions, run_verification
    from mock_ft.verify.report import post_run, print_summary, write_reports

    if auth is not None:
        try:
            parse_operator_auth(auth)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    # The same file and MOCK_FT_* variables as `serve`; verify binds nothing, so the host is moot.
    settings = load_settings(config, host="127.0.0.1")
    operator_url = operator_url or settings.operator_url
    if auth is None and settings.operator_auth is not None:
        auth = settings.operator_auth.get_secret_value()
    if not operator_url:
        msg = "no operator to verify; pass --operator-url (or set operator_url in --config)"
        raise ConfigError(msg)
    if not user_id:
        msg = "verify needs at least one known test user; pass --user-id (repeatable)"
        raise ConfigError(msg)
    from mock_ft.verify.model import STEPS

    unknown = [s for s in step or [] if s not in STEPS]
    if unknown:
        msg = f"unknown step {unknown[0]!r}; steps are: {', '.join(STEPS)}"
        raise ConfigError(msg)
    if oauth_method not in ("post", "get"):
        msg = f"--oauth-method must be post or get, not {oauth_method!r}"
        raise ConfigError(msg)
    options = VerifyOptions(
        operator_url=operator_url,
        auth=auth,
        user_ids=user_id,
        ft_url=ft_url,
        oauth_method=oauth_method,
        seed=seed,
        max_examples=max_examples,
        p95_budget_ms=p95_budget_ms,
        concurrency=concurrency,
        concurrent_calls=concurrent_calls,
        steps=tuple(step) if step else STEPS,
        sid=sid,
        token_expiry_wait_seconds=token_expiry_wait,
        event_wait_seconds=event_wait,
        control_token=_control_token() or _secret(settings.control_token),
    )
    started = time.perf_counter()
    with out.status("verifying") as status:
        results = run_verification(options, lambda step: status.update(f"verifying: {step}"))
    print_summary(out, results, time.perf_counter() - started, _verbosity(verbose, quiet))
    html = write_reports(report_dir, options, results)
    out.print(f"reports: {html} (HTML), {report_dir / 'junit.xml'}, {report_dir / 'report.json'}")
    if ft_url:  # the mock's dashboard (/ui#runs) shows the scorecard too
        problem = post_run(ft_url, "verify", report_dir / "report.json", _control_token())
        out.print(f"[dim]{problem}[/]" if problem else f"scorecard: {ft_url.rstrip('/')}/ui#runs")
    raise SystemExit(0 if all(r.passed for r in results) else 1)


def _verbosity(verbose: bool, quiet: bool) -> int:
    if verbose and quiet:
        msg = "--verbose and --quiet contradict each other; pass one"
        raise ConfigError(msg)
    return 1 if verbose else -1 if quiet else 0


app.add_typer(faults_app, name="faults")
app.command()(delivery)
app.command("replay")(replay_command)
app.command("demo")(demo_command)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _control_token() -> str | None:
    return os.environ.get("MOCK_FT_CONTROL_TOKEN")


def main() -> None:
    """Console-script entry point."""
    app()
