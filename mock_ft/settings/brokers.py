"""The settings of the mock's broker consumers: RabbitMQ and Kafka, both off unless given."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["BrokerSettings"]


class BrokerSettings(BaseSettings):
    """Where the mock consumes FT events besides REST; part of the server's `Settings`."""

    model_config = SettingsConfigDict(
        env_prefix="MOCK_FT_", extra="forbid", validate_default=True, hide_input_in_errors=True
    )

    rabbitmq_url: SecretStr | None = Field(
        None,
        description="amqp:// URL of a RabbitMQ to consume FT events from (off when unset).",
    )
    rabbitmq_vhost: str | None = Field(
        None, description="Virtual host; overrides the one in the URL when set."
    )
    rabbitmq_exchange: str = Field("fasttrack", description="Exchange the operator publishes to.")
    rabbitmq_exchange_type: Literal["topic", "direct", "fanout", "headers"] = Field(
        "topic", description="Type of that exchange, when the mock declares it."
    )
    rabbitmq_queue: str = Field("fasttrack.events", description="Queue the mock consumes.")
    rabbitmq_binding_key: str = Field("#", description="Binding of the queue to the exchange.")
    rabbitmq_prefetch: int = Field(512, ge=1, le=65_535, description="Unacked messages in flight.")
    rabbitmq_declare: bool = Field(
        True, description="Declare exchange, queue and dead-lettering (off: use what exists)."
    )
    rabbitmq_dead_letter_exchange: str = Field(
        "fasttrack.dead-letter", description="Where invalid messages are rejected to."
    )
    rabbitmq_dead_letter_queue: str = Field(
        "fasttrack.events.dead", description="Queue that keeps the rejected messages."
    )
    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers (host:port,...) to consume from (off unset)."
    )
    kafka_topics: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["fasttrack.events"],
        description="Topics to consume (comma-separated in the environment).",
    )
    kafka_group: str = Field("mock-ft", min_length=1, description="Kafka consumer group.")
    kafka_session_timeout_ms: int = Field(
        10_000, ge=1_000, le=300_000, description="Consumer group session timeout (ms)."
    )
    kafka_create_topics: bool = Field(
        True, description="Create missing topics at start (off: they must exist)."
    )
    kafka_type_from_topic: bool = Field(
        True,
        description="A record without a `type` header on a topic named after an event type "
        "(PAYMENT, or <prefix>.PAYMENT) is that event: one topic per type, as some operators "
        "publish.",
    )

    @field_validator("kafka_topics", mode="before")
    @classmethod
    def _split_topics(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, list) and not value:
            msg = "give at least one topic"
            raise ValueError(msg)
        return value

    @field_validator("rabbitmq_url")
    @classmethod
    def _rabbitmq_url_is_amqp(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        url = value.get_secret_value()
        example = "e.g. amqp://guest:guest@127.0.0.1:5672/"
        if not url.startswith(("amqp://", "amqps://")):
            msg = f"not an amqp:// or amqps:// URL; {example}"
            raise ValueError(msg)
        parts = urlsplit(url)
        shown = _without_password(parts)  # the password is never repeated back
        try:
            parts.port  # noqa: B018 - reading it validates it
        except ValueError:
            msg = f"{shown} has an invalid port; give a number from 1 to 65535, {example}"
            raise ValueError(msg) from None
        if not parts.hostname:
            msg = f"{shown} names no host; {example}"
            raise ValueError(msg)
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _kafka_bootstrap_is_host_ports(cls, value: str | None) -> str | None:
        if value is None:
            return value
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65_536:
                msg = (
                    f"{server.strip()!r} is not host:port (port 1 to 65535); give "
                    "comma-separated servers, e.g. 127.0.0.1:9092"
                )
                raise ValueError(msg)
        return value

    @field_validator("rabbitmq_url", "kafka_bootstrap", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # `MOCK_FT_RABBITMQ_URL=` (set but empty, common in compose files) means "not set".
        return None if value in ("", None) else value


def _without_password(parts: SplitResult) -> str:
    """The URL with its password replaced by ***, for messages."""
    if parts.password is None:
        return parts.geturl()
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
