"""One typed Settings class.

Precedence, lowest to highest: defaults, config file, MOCK_FT_* environment, CLI flags.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from mock_ft.authspec import parse_operator_auth
from mock_ft.errors import ConfigError
from mock_ft.faultspec import FaultSpec, parse_fault
from mock_ft.journal_url import refusal
from mock_ft.origins import host_name, is_loopback, origin_text, parse_origin

__all__ = ["LOOKUP_CONCURRENCY", "MIN_CONTROL_TOKEN", "Settings", "is_loopback", "load_settings"]

DEFAULT_API_KEY = "mock-ft-local-key"
MIN_CONTROL_TOKEN = 16  # characters of a control token for a bind beyond loopback
# Lookups in flight at once, as FT makes them while events arrive; `verify` drives each read
# endpoint with this many concurrent callers by default. Here, not in lookups/, so that the CLI
# can show it as a default without importing the lookup runner (and with it the journal).
LOOKUP_CONCURRENCY = 4
# Config-file values for the Settings being built by load_settings (lowest-priority source).
_FILE_VALUES: ContextVar[dict[str, Any]] = ContextVar("mock_ft_config_file", default={})  # noqa: B039


class Settings(BaseSettings):
    """Every knob of the mock. Each field is also `MOCK_FT_<NAME>` and a config-file key."""

    # hide_input_in_errors: a refused value (a journal URL, a key) may hold a secret.
    model_config = SettingsConfigDict(
        env_prefix="MOCK_FT_", extra="forbid", validate_default=True, hide_input_in_errors=True
    )

    host: str = Field(
        "127.0.0.1", description="Interface to bind. Beyond loopback needs a control token."
    )
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0 picks a free one).")
    journal: str = Field(
        ".mock-ft/journal.sqlite3",
        description="SQLite journal file, or `:memory:` for a throwaway one (a URL of an "
        "unknown scheme is refused).",
    )
    journal_sync: Literal["normal", "full"] = Field(
        "normal",
        description="SQLite sync: `normal` survives a killed process, `full` also a power cut.",
    )
    auth_enabled: bool = Field(True, description="Require the API key on the ingest API.")
    api_key: SecretStr = Field(
        SecretStr(DEFAULT_API_KEY), description="Key the operator must send."
    )
    api_key_header: str = Field(
        "X-API-Key", min_length=1, description="Header that carries the key."
    )
    control_token: SecretStr | None = Field(
        None,
        description="Bearer token for /_mock/ endpoints; required when bound beyond loopback "
        f"(then at least {MIN_CONTROL_TOKEN} characters).",
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
    operator_url: str | None = Field(
        None,
        description="Operator API base URL; when set, the mock looks users up there as FT does.",
    )
    operator_auth: SecretStr | None = Field(
        None,
        description="api-key:KEY, basic:USER:PASS or oauth:TOKEN_URL:CLIENT_ID:SECRET.",
    )
    operator_oauth_method: Literal["post", "get"] = Field(
        "post", description="How to call the OAuth2 token URL: POST JSON body or GET query."
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
    wait_max_seconds: float = Field(
        60.0, gt=0, description="Upper bound for /_mock/events/wait timeout."
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
    game_round_path: str = Field(
        "/v1/integration/game-round",
        description="REST path of GAME_ROUND: FT does not publish it; ask your FT integration "
        "manager and set it here.",
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

    @field_validator("kafka_topics", mode="before")
    @classmethod
    def _split_topics(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, list) and not value:
            msg = "give at least one topic"
            raise ValueError(msg)
        return value

    @field_validator("game_round_path")
    @classmethod
    def _path_is_absolute(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value or " " in value:
            msg = f"{value!r} is not a URL path; give one like /v1/integration/game-round"
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

    @field_validator("operator_url")
    @classmethod
    def _operator_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            msg = f"{value!r} is not an http(s) URL; give the Operator API base URL"
            raise ValueError(msg)
        return value or None

    @field_validator("operator_auth")
    @classmethod
    def _operator_auth_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_operator_auth(value.get_secret_value())
        return value

    @field_validator("api_key_header")
    @classmethod
    def _header_is_token(cls, value: str) -> str:
        if not all(c.isalnum() or c in "-_" for c in value):
            msg = f"{value!r} is not a valid HTTP header name; use letters, digits and '-'"
            raise ValueError(msg)
        return value

    @field_validator("control_token", "rabbitmq_url", "kafka_bootstrap", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # `MOCK_FT_CONTROL_TOKEN=` (set but empty, common in compose files) means "not set".
        return None if value in ("", None) else value

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags arrive as init kwargs and win over the environment, which wins over the config
        # file that load_settings put in _FILE_VALUES; no .env or secret files.
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=_FILE_VALUES.get()),
        )


def _without_password(parts: SplitResult) -> str:
    """The URL with its password replaced by ***, for messages."""
    if parts.password is None:
        return parts.geturl()
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML, JSON or TOML config file into a dict of setting names to values."""
    if not path.is_file():
        msg = f"config file {path} does not exist; pass an existing YAML, JSON or TOML file"
        raise ConfigError(msg)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"config file {path} cannot be parsed: {exc}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        # Only the problem and its position: PyYAML's snippet could echo a secret.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        msg = f"config file {path} cannot be parsed: {problem}{where}"
        raise ConfigError(msg) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = f"config file {path} must hold a mapping of setting names to values"
        raise ConfigError(msg)
    known = set(Settings.model_fields)
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
            msg = f"config file {path}: unknown setting {key!r}{did_you_mean}"
            raise ConfigError(msg)
    return data


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from file, environment and explicit overrides (None overrides are ignored)."""
    file_values = read_config_file(config_file) if config_file else {}
    flags = {k: v for k, v in overrides.items() if v is not None}
    token = _FILE_VALUES.set(file_values)
    try:
        return Settings(**flags)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(err) for err in exc.errors())
        raise ConfigError(problems) from None
    finally:
        _FILE_VALUES.reset(token)


def _describe_error(err: Any) -> str:
    """`port (MOCK_FT_PORT): Input should be a valid integer`, or the bare message for rules."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:
        return message
    setting, *inner = err["loc"]
    name = str(setting) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in inner)
    return f"{name} (MOCK_FT_{str(setting).upper()}): {message}"
