"""Broker settings, flags and a consumer whose broker is away: clear errors, no secrets shown."""

from __future__ import annotations

import signal

import pytest

from mock_ft.errors import ConfigError
from mock_ft.settings import Settings, load_settings
from tests import web
from tests.brokers import free_port
from tests.serve_process import run_cli, serve_process, server_log
from tests.transports.conftest import wait_until


def test_split_kafka_topics_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_FT_KAFKA_TOPICS", "ft.events, ft.more")
    assert Settings().kafka_topics == ["ft.events", "ft.more"]


def test_refuse_empty_topic_list() -> None:
    with pytest.raises(ConfigError, match=r"kafka_topics.*at least one topic"):
        load_settings(kafka_topics=" , ")


def test_refuse_non_amqp_rabbitmq_url() -> None:
    with pytest.raises(ConfigError, match=r"rabbitmq_url.*amqp://"):
        load_settings(rabbitmq_url="http://127.0.0.1:5672/")


def test_treat_empty_broker_settings_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_FT_RABBITMQ_URL", "")
    monkeypatch.setenv("MOCK_FT_KAFKA_BOOTSTRAP", "")
    settings = Settings()
    assert (settings.rabbitmq_url, settings.kafka_bootstrap) == (None, None)


def test_exit_2_for_bad_rabbitmq_flag() -> None:
    result = run_cli("serve", "--rabbitmq-url", "localhost:5672")
    assert result.returncode == 2
    assert "amqp://" in result.stderr
    assert "Traceback" not in result.stderr


def test_override_vhost_of_url() -> None:
    from mock_ft.brokers.rabbitmq import rabbitmq_url

    settings = Settings(rabbitmq_url="amqp://u:pw@127.0.0.1:5672/old", rabbitmq_vhost="ft")
    url, shown = rabbitmq_url(settings)
    assert url == "amqp://u:pw@127.0.0.1:5672/ft"
    assert shown == "amqp://127.0.0.1:5672/ft"


@pytest.mark.slow
def test_keep_serving_rest_while_brokers_are_away() -> None:
    dead = free_port()
    env = {
        "MOCK_FT_RABBITMQ_URL": f"amqp://guest:hunter2@127.0.0.1:{dead}/",
        "MOCK_FT_KAFKA_BOOTSTRAP": f"127.0.0.1:{dead}",
    }
    with serve_process("--journal", ":memory:", "--log-level", "info", env=env) as (url, process):

        def states() -> dict[str, str]:
            brokers = web.get(f"{url}/_mock/health").json()["brokers"]
            return {b["transport"]: b["state"] for b in brokers}

        wait_until(
            lambda: states() == {"rabbitmq": "reconnecting", "kafka": "reconnecting"},
            "both consumers retrying",
        )
        health = web.get(f"{url}/_mock/health").text
        assert "hunter2" not in health
        assert web.get(f"{url}/_mock/events").status_code == 200  # REST still serves
        process.send_signal(signal.SIGINT)
        logs = server_log(process)  # the retry warnings, up to the shutdown
    assert "cannot consume" in logs
    assert "hunter2" not in logs
