"""`reference-operator serve`: run the platform, its Operator API and its FT publisher."""

from __future__ import annotations

import socket
from typing import Annotated, Any, NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from .defects import DEFECTS
from .errors import OperatorError
from .settings import OperatorSettings, mask_url

__all__ = ["main"]

app = typer.Typer(
    name="reference-operator",
    help="A small operator platform that integrates with Fast Track (or mock-ft) correctly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)


def _fail(headline: str, explanation: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {headline}")
    err.print(explanation)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [8766].")] = None,
    fd: Annotated[
        int | None,
        typer.Option(
            help="Serve on this inherited listening socket instead of binding --host/--port: "
            "a parent that chose the port keeps it from the moment it chose it."
        ),
    ] = None,
    database: Annotated[str | None, typer.Option(help="Platform SQLite file.")] = None,
    ft_url: Annotated[str | None, typer.Option(help="FT Integration API base URL.")] = None,
    ft_api_key: Annotated[str | None, typer.Option(help="Key sent to FT.")] = None,
    ft_transport: Annotated[
        str | None, typer.Option(help="How events reach FT: rest | rabbitmq | kafka [rest].")
    ] = None,
    ft_rabbitmq_url: Annotated[
        str | None, typer.Option(help="amqp:// URL of FT's RabbitMQ (transport rabbitmq).")
    ] = None,
    ft_kafka_bootstrap: Annotated[
        str | None, typer.Option(help="Kafka host:port[,host:port] (transport kafka).")
    ] = None,
    ft_kafka_topic: Annotated[
        str | None, typer.Option(help="Kafka topic to publish to [fasttrack.events].")
    ] = None,
    auth: Annotated[str | None, typer.Option(help="api_key | basic | oauth2.")] = None,
    api_key: Annotated[str | None, typer.Option(help="Operator API key FT must send.")] = None,
    callback_api_key: Annotated[
        str | None, typer.Option(help="x-api-key FT's Callback Actions must send.")
    ] = None,
    players: Annotated[int | None, typer.Option(help="Players to create at start.")] = None,
    seed: Annotated[int | None, typer.Option(help="Faker seed for made-up players.")] = None,
    defect: Annotated[
        list[str] | None, typer.Option(help="Turn a defect switch on (repeatable).")
    ] = None,
    list_defects: Annotated[bool, typer.Option(help="List defect switches and exit.")] = False,
) -> None:
    """Serve the platform API, the Operator API and publish to FT."""
    if list_defects:
        for name, what in DEFECTS.items():
            typer.echo(f"{name:30} {what}")
        return
    flags: dict[str, Any] = {
        "host": host,
        "port": port,
        "database": database,
        "ft_url": ft_url,
        "ft_api_key": ft_api_key,
        "ft_transport": ft_transport,
        "ft_rabbitmq_url": ft_rabbitmq_url,
        "ft_kafka_bootstrap": ft_kafka_bootstrap,
        "ft_kafka_topic": ft_kafka_topic,
        "auth": auth,
        "api_key": api_key,
        "callback_api_key": callback_api_key,
        "players": players,
        "seed": seed,
        "defects": defect,
    }
    try:
        settings = OperatorSettings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        _fail(
            f"invalid setting {name}",
            f"{first['msg']}. Set it with --{name.replace('_', '-')} or "
            f"REFERENCE_OPERATOR_{name.upper()}.",
        )
    listener = _inherited(fd) if fd is not None else None
    from .app import create_app

    try:
        application = create_app(settings)
    except OperatorError as exc:
        _fail("cannot start the reference operator", str(exc))
    destination = {
        "rest": settings.ft_url,
        "rabbitmq": f"{mask_url(settings.ft_rabbitmq_url.get_secret_value())} "
        f"exchange {settings.ft_rabbitmq_exchange}",
        "kafka": f"{settings.ft_kafka_bootstrap} topic {settings.ft_kafka_topic}",
    }[settings.ft_transport]
    host, port = listener.getsockname()[:2] if listener else (settings.host, settings.port)
    err.print(
        f"reference-operator listening on http://{host}:{port} "
        f"(auth {settings.auth}, publishing over {settings.ft_transport} to {destination})"
    )
    if listener is None:
        uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")
        return
    # uvicorn's own `fd` setting opens any descriptor as a UNIX socket; a TCP one is passed whole.
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning"))
    server.run(sockets=[listener])


def _inherited(fd: int) -> socket.socket:
    """The listening TCP socket a parent passed as descriptor `fd`, or a CLI error."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        _fail(f"--fd {fd} is not an open socket", f"{exc.strerror}. Pass a listening TCP socket.")
    listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not listening:
        sock.detach()  # the descriptor is the caller's: do not close it here
        _fail(
            f"--fd {fd} is not a listening TCP socket",
            "Bind and listen() a TCP socket, then pass its descriptor (subprocess pass_fds).",
        )
    return sock


@app.callback()
def _root() -> None:
    """reference-operator: a correct Fast Track integration to copy, and to break on purpose."""


def main() -> None:
    """Console-script entry point."""
    app()
