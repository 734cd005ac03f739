"""`mock-ft serve`: the mock Fast Track Integration API, until interrupted.

Only Typer is imported with the command: FastAPI, uvicorn and the journal when it runs.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer

from mock_ft._version import __version__
from mock_ft.cli.options import ConfigOpt
from mock_ft.terminal import err, friendly

if TYPE_CHECKING:
    from mock_ft.settings import Settings

__all__ = ["run_server", "serve"]


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
            help="SQLite journal path, :memory: or postgresql:// URL.",
            show_default=".mock-ft/journal.sqlite3",
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
    from mock_ft.journal_url import redact
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
