"""One typed settings class for the reference operator (`REFERENCE_OPERATOR_*` environment).

Precedence, lowest to highest: defaults, environment, CLI flags.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .defects import DEFECTS

__all__ = ["OperatorSettings", "mask_url"]


def mask_url(url: str) -> str:
    """`url` with its password (if any) replaced by `***`, fit for errors and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}").geturl()


class OperatorSettings(BaseSettings):
    """Every knob of the reference operator; each is also `REFERENCE_OPERATOR_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="REFERENCE_OPERATOR_", extra="forbid", validate_default=True
    )

    host: str = Field("127.0.0.1", description="Interface to bind.")
    port: int = Field(8766, ge=0, le=65535, description="TCP port (0 picks a free one).")
    database: str = Field(
        ".reference-operator/platform.sqlite3", description="The platform's SQLite database."
    )
    origin: str = Field("refop.example.com", min_length=1, description="FT `origin` (the brand).")
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="The brand's base currency.")
    seed: int = Field(7, description="Faker seed: the same seed gives the same players.")
    players: int = Field(0, ge=0, description="Players to create at start (with their events).")

    ft_url: str = Field("http://127.0.0.1:8765", description="FT Integration API base URL.")
    ft_api_key: SecretStr = Field(
        SecretStr("mock-ft-local-key"), description="Key sent to FT's Integration API."
    )
    ft_api_key_header: str = Field("X-API-Key", min_length=1, description="Header for that key.")
    ft_timeout_seconds: float = Field(5.0, gt=0, description="Timeout of one publish attempt.")
    ft_transport: Literal["rest", "rabbitmq", "kafka"] = Field(
        "rest", description="How events reach FT: its REST API, RabbitMQ or Kafka."
    )
    ft_rabbitmq_url: SecretStr = Field(
        SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="amqp:// URL of FT's RabbitMQ (transport rabbitmq).",
    )
    ft_rabbitmq_exchange: str = Field(
        "fasttrack", min_length=1, description="Exchange to publish to (declared durable)."
    )
    ft_rabbitmq_exchange_type: Literal["topic", "direct", "fanout", "headers"] = Field(
        "topic", description="Type of that exchange."
    )
    ft_rabbitmq_routing_key: str = Field(
        "fasttrack.event", description="Routing key of every event (FT reads the `type` property)."
    )
    ft_kafka_bootstrap: str = Field(
        "127.0.0.1:9092",
        description="Kafka bootstrap servers, host:port[,host:port...] (transport kafka).",
    )
    ft_kafka_topic: str = Field(
        "fasttrack.events",
        min_length=1,
        description="Topic to publish to (FT reads header `type`).",
    )
    ft_kafka_idempotence: bool = Field(
        True, description="Idempotent producer: a retried send is never written twice."
    )
    retry_base_seconds: float = Field(0.05, gt=0, description="First retry delay (doubles).")
    retry_max_seconds: float = Field(5.0, gt=0, description="Longest delay between retries.")
    dispatch_concurrency: int = Field(16, ge=1, description="Players published in parallel.")

    auth: Literal["api_key", "basic", "oauth2"] = Field(
        "api_key", description="How FT must authenticate on the Operator API."
    )
    api_key: SecretStr = Field(
        SecretStr("operator-local-key"), description="Operator API key (`X-Api-Key`)."
    )
    basic_user: str = Field("fasttrack", description="Basic auth user.")
    basic_password: SecretStr = Field(SecretStr("operator-local-secret"), description="Basic pw.")
    client_id: str = Field("fasttrack", description="OAuth2 client id.")
    client_secret: SecretStr = Field(
        SecretStr("operator-local-client-secret"), description="OAuth2 client secret."
    )
    token_ttl_seconds: int = Field(3600, ge=1, description="Lifetime of an OAuth2 access token.")
    callback_api_key: SecretStr = Field(
        SecretStr("operator-callback-key"),
        description="Key FT's Callback Actions must send in `x-api-key` (they know no other auth).",
    )

    defects: list[str] = Field(
        default_factory=list, description="Defect switches to turn on (see `--list-defects`)."
    )

    @field_validator("ft_rabbitmq_url")
    @classmethod
    def _rabbitmq_url_is_amqp(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("amqp://", "amqps://")):
            msg = "not an amqp:// or amqps:// URL; e.g. amqp://guest:guest@127.0.0.1:5672/"
            raise ValueError(msg)
        return value

    @field_validator("ft_kafka_bootstrap")
    @classmethod
    def _bootstrap_is_host_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                msg = f"{server!r} is not host:port; give host:port[,host:port...]"
                raise ValueError(msg)
        return value

    @field_validator("defects")
    @classmethod
    def _known_defects(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in DEFECTS]
        if unknown:
            msg = f"unknown defect {unknown[0]!r}; known: {', '.join(DEFECTS)}"
            raise ValueError(msg)
        return value

    def has(self, defect: str) -> bool:
        """True when the named defect switch is on."""
        return defect in self.defects
