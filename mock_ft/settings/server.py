"""The mock's settings: `mock-ft serve`, and the mock the pytest plugin starts.

Precedence, lowest to highest: defaults, config file, MOCK_FT_* environment, CLI flags.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from mock_ft.faultspec import FaultSpec, parse_fault
from mock_ft.journal_url import refusal
from mock_ft.origins import host_name, is_loopback, origin_text, parse_origin
from mock_ft.settings.brokers import BrokerSettings
from mock_ft.settings.common import CommonSettings
from mock_ft.settings.defaults import MIN_CONTROL_TOKEN

__all__ = ["Settings"]


class Settings(CommonSettings, BrokerSettings):
    """Every knob of the mock. Each field is also `MOCK_FT_<NAME>` and a config-file key.

    The RabbitMQ and Kafka consumers' fields are in `BrokerSettings`; those the commands share,
    in `CommonSettings`.
    """

    host: str = Field(
        "127.0.0.1", description="Interface to bind. Beyond loopback needs a control token."
    )
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0 picks a free one).")
    journal: str = Field(
        ".mock-ft/journal.sqlite3",
        description="SQLite journal file, `:memory:` for a throwaway one, or a PostgreSQL "
        "database URL `postgresql://user@host:5432/db` (needs mock-ft[postgres]).",
    )
    journal_sync: Literal["normal", "full"] = Field(
        "normal",
        description="SQLite sync: `normal` survives a killed process, `full` also a power cut.",
    )
    auth_enabled: bool = Field(True, description="Require the API key on the ingest API.")
    api_key_header: str = Field(
        "X-API-Key", min_length=1, description="Header that carries the key."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names /_mock/, /ui and /docs answer besides loopback names and the "
        "bound address (comma-separated; `*`: any, only with a control token). See "
        "docs/security.md.",
    )
    max_body_bytes: int = Field(
        1_048_576, gt=0, description="Largest accepted event body, in bytes."
    )
    max_control_body_bytes: int = Field(
        8_388_608, gt=0, description="Largest body accepted by the control API (/_mock/), bytes."
    )
    max_header_bytes: int = Field(
        65_536, ge=1_024, description="Largest request line plus headers of any request, bytes."
    )
    max_header_field_bytes: int = Field(
        16_384, ge=256, description="Largest single header (name and value) of any request, bytes."
    )
    read_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Time a request may take to arrive whole (headers and body) from its first "
        "byte, or from the connection when nothing arrives; then 408 and the connection closes.",
    )
    freshness_target_ms: float = Field(
        1000.0,
        gt=0,
        description="Delivery later than this (receive time minus `timestamp`) is warned.",
    )
    fault_seed: int = Field(
        0, description="Seed of fault rules with a probability: same seed, same fault sequence."
    )
    faults: Annotated[list[FaultSpec], NoDecode] = Field(
        default_factory=list,
        description="Fault rules active from the start: mappings as for POST /_mock/faults, or "
        "the --fault form (`503 retry_after=1 probability=30% type=PAYMENT`).",
    )
    lookup_timeout_seconds: float = Field(
        5.0, gt=0, description="How long a lookup may take before it counts as failed."
    )
    lookup_budget_ms: float = Field(
        500.0, gt=0, description="Lookups slower than this are flagged `slow`."
    )
    callback_rules: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Callback rule sets to load at start: ready-made names (cancel-bonus, "
        "refer-a-friend, bonus-bot, loyalty-sync, all) or rule file paths; comma-separated.",
    )
    callback_api_key: SecretStr | None = Field(
        None, description="x-api-key sent by callback rules that set no api_key of their own."
    )
    callback_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) callback rules may call besides the "
        "operator URL's; comma-separated. See docs/security.md.",
    )
    instance_lease_seconds: float = Field(
        10.0,
        gt=0,
        le=86_400,
        description="How long other instances on the journal see this one after its last "
        "heartbeat (it beats every third of it); see /_mock/health.",
    )
    reaction_lease_seconds: float = Field(
        10.0,
        gt=0,
        le=86_400,
        description="On a PostgreSQL journal: how long a lookup or callback action stays claimed "
        "by the instance running it (renewed every third of it) before another instance takes "
        "it over; see docs/several-instances.md.",
    )
    wait_max_seconds: float = Field(
        60.0, gt=0, description="Upper bound for /_mock/events/wait timeout."
    )
    game_round_path: str = Field(
        "/v1/integration/game-round",
        description="REST path of GAME_ROUND: FT does not publish it; ask your FT integration "
        "manager and set it here.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="uvicorn log level."
    )

    @field_validator("faults", mode="before")
    @classmethod
    def _read_fault_words(cls, value: Any) -> Any:
        # Each rule may be written as the --fault words; a single rule needs no list around it.
        # MOCK_FT_FAULTS arrives raw (NoDecode): a JSON list or object, or one rule's words.
        if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(value)
            except ValueError as exc:
                msg = f"not valid JSON ({exc}); give a list of rules or one rule's words"
                raise ValueError(msg) from None
        if isinstance(value, str | dict):
            value = [value]
        if isinstance(value, list):
            return [parse_fault(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("journal")
    @classmethod
    def _journal_is_path_or_known_url(cls, value: str) -> str:
        problem = refusal(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("callback_rules", mode="before")
    @classmethod
    def _split_rule_sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_names(cls, value: list[str]) -> list[str]:
        for host in value:
            if host != "*" and not host_name(host):
                msg = f"{host!r} is not a host name; give names like mock or ft.staging.example"
                raise ValueError(msg)
        return [host_name(h) or h for h in value]

    @field_validator("callback_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("callback_allowed_origins")
    @classmethod
    def _origins_parse(cls, value: list[str]) -> list[str]:
        found = []
        for text in value:
            origin = parse_origin(text)
            if origin is None:
                msg = f"{text!r} is not an origin; give scheme://host[:port], e.g. http://crm:8080"
                raise ValueError(msg)
            found.append(origin_text(origin))
        return found

    @field_validator("game_round_path")
    @classmethod
    def _path_is_absolute(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value or " " in value:
            msg = f"{value!r} is not a URL path; give one like /v1/integration/game-round"
            raise ValueError(msg)
        return value

    @field_validator("api_key_header")
    @classmethod
    def _header_is_token(cls, value: str) -> str:
        if not all(c.isalnum() or c in "-_" for c in value):
            msg = f"{value!r} is not a valid HTTP header name; use letters, digits and '-'"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _api_key_when_auth_on(self) -> Settings:
        if self.auth_enabled and not self.api_key.get_secret_value():
            msg = (
                "the API key is empty, so any request would pass; set MOCK_FT_API_KEY or --no-auth"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _control_token_beyond_loopback(self) -> Settings:
        if not is_loopback(self.host) and self.control_token is None:
            msg = (
                f"binding {self.host} exposes the control API beyond this machine; "
                "set MOCK_FT_CONTROL_TOKEN (or --control-token) to protect /_mock/"
            )
            raise ValueError(msg)
        token = self.control_token.get_secret_value() if self.control_token else ""
        if not is_loopback(self.host) and (
            len(token) < MIN_CONTROL_TOKEN or token.strip() != token
        ):
            msg = (
                f"binding {self.host} needs a strong MOCK_FT_CONTROL_TOKEN: at least "
                f"{MIN_CONTROL_TOKEN} characters, no leading or trailing spaces "
                "(e.g. `openssl rand -hex 16`)"
            )
            raise ValueError(msg)
        if "*" in self.allowed_hosts and self.control_token is None:
            msg = (
                "allowed_hosts `*` answers any Host, which lets any web page reach /_mock/ "
                "through DNS rebinding; set MOCK_FT_CONTROL_TOKEN too, or list the names"
            )
            raise ValueError(msg)
        return self
