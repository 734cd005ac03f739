"""Settings: defaults, config file, environment and flags, in that order of precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_ft.errors import ConfigError
from mock_ft.settings import Settings, is_loopback, load_settings
from tests.serve_process import run_cli


def test_use_laptop_defaults() -> None:
    """Defaults: loopback, SQLite file journal, auth on."""
    settings = Settings()
    assert (settings.host, settings.port, settings.auth_enabled) == ("127.0.0.1", 8765, True)
    assert settings.journal.endswith(".sqlite3")


def test_layer_file_env_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flags beat MOCK_FT_* which beat the config file which beats defaults."""
    config = tmp_path / "mock-ft.yaml"
    config.write_text("port: 9001\njournal: from-file.sqlite3\napi_key_header: X-File\n")
    monkeypatch.setenv("MOCK_FT_PORT", "9002")
    monkeypatch.setenv("MOCK_FT_JOURNAL", "from-env.sqlite3")
    settings = load_settings(config, journal="from-flag.sqlite3", host=None)
    assert (settings.port, settings.journal, settings.api_key_header) == (
        9002,
        "from-flag.sqlite3",
        "X-File",
    )


def test_read_toml_config(tmp_path: Path) -> None:
    """TOML config files work too."""
    config = tmp_path / "mock-ft.toml"
    config.write_text('port = 9100\napi_key = "k"\n')
    settings = load_settings(config)
    assert (settings.port, settings.api_key.get_secret_value()) == (9100, "k")


def test_read_empty_config_as_defaults(tmp_path: Path) -> None:
    """An empty YAML file means defaults."""
    config = tmp_path / "empty.yaml"
    config.write_text("")
    assert load_settings(config).port == 8765


def test_refuse_unknown_config_key_with_suggestion(tmp_path: Path) -> None:
    """A misspelt key is refused with a did-you-mean."""
    config = tmp_path / "c.yaml"
    config.write_text("jornal: x.sqlite3\n")
    with pytest.raises(ConfigError, match="did you mean 'journal'"):
        load_settings(config)


@pytest.mark.parametrize(
    ("text", "match"),
    [("port: [1\n", "cannot be parsed"), ("- just\n- a list\n", "must hold a mapping")],
)
def test_refuse_unreadable_config(tmp_path: Path, text: str, match: str) -> None:
    """Unparseable or non-mapping config files say so."""
    config = tmp_path / "c.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_settings(config)


def test_refuse_missing_config_file(tmp_path: Path) -> None:
    """A config path that does not exist is named."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_name_env_variable_in_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad value names the setting and its variable."""
    monkeypatch.setenv("MOCK_FT_PORT", "eighty")
    with pytest.raises(ConfigError, match="MOCK_FT_PORT"):
        load_settings()


def test_require_control_token_beyond_loopback() -> None:
    """Binding beyond loopback without a control token is refused with the fix."""
    with pytest.raises(ConfigError, match="MOCK_FT_CONTROL_TOKEN"):
        load_settings(host="0.0.0.0")  # noqa: S104
    token = "t" * 16
    assert load_settings(host="0.0.0.0", control_token=token).host == "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize("path", ["game-round", "/a path", "/x?y=1"])
def test_refuse_game_round_path_that_is_no_url_path(path: str) -> None:
    """GAME_ROUND's REST path must be an absolute URL path."""
    with pytest.raises(ConfigError, match="is not a URL path"):
        load_settings(game_round_path=path)


def test_refuse_bad_header_name() -> None:
    """The key header must be a valid header token."""
    with pytest.raises(ConfigError, match="not a valid HTTP header name"):
        load_settings(api_key_header="X API Key")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),  # noqa: S104
        ("example", False),
    ],
)
def test_classify_loopback_hosts(host: str, loopback: bool) -> None:
    """Only loopback addresses count as local."""
    assert is_loopback(host) is loopback


def test_refuse_empty_api_key_with_auth_on() -> None:
    """An empty key would let everything through; it is refused unless auth is off."""
    with pytest.raises(ConfigError, match="API key is empty"):
        load_settings(api_key="")
    assert load_settings(api_key="", auth_enabled=False).auth_enabled is False


def test_treat_empty_control_token_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """MOCK_FT_CONTROL_TOKEN= (empty) does not count as protection beyond loopback."""
    monkeypatch.setenv("MOCK_FT_CONTROL_TOKEN", "")
    with pytest.raises(ConfigError, match="MOCK_FT_CONTROL_TOKEN"):
        load_settings(host="0.0.0.0")  # noqa: S104


def test_keep_secrets_out_of_yaml_errors(tmp_path: Path) -> None:
    """A broken YAML line holding a key is reported by position, without its text."""
    config = tmp_path / "c.yaml"
    config.write_text('port: 1\napi_key: "s3cr3t-value\n')
    with pytest.raises(ConfigError, match="line") as caught:
        load_settings(config)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "amqp://u:s3cret-pw@127.0.0.1:badport/",
        "amqp://u:s3cret-pw@127.0.0.1:70000/",
        "amqps://u:s3cret-pw@:5671/",
    ],
)
def test_refuse_bad_rabbitmq_url_without_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker URL with a bad port or no host stops `serve` at once: exit 2, password hidden."""
    monkeypatch.setenv("MOCK_FT_RABBITMQ_URL", url)
    result = run_cli("serve", "--port", "0", "--journal", ":memory:", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "MOCK_FT_RABBITMQ_URL" in result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("servers", ["localhost", "127.0.0.1:x", "a:9092,:9093", "h:0"])
def test_refuse_bad_kafka_bootstrap(servers: str) -> None:
    """Kafka bootstrap servers must each be host:port."""
    with pytest.raises(ConfigError, match="is not host:port"):
        load_settings(kafka_bootstrap=servers)
