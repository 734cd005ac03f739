"""The reference operator publishing over RabbitMQ or Kafka passes the same event-side checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_ft.verify import run_verification
from tests import web
from tests.brokers import unique_name
from tests.transports.conftest import delete_rabbit_topology, wait_until
from tests.verify.test_verify import _failed, _integration

pytestmark = pytest.mark.slow


def _rabbitmq(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    name = unique_name()
    mock = {
        "rabbitmq_url": url,
        "rabbitmq_exchange": name,
        "rabbitmq_queue": f"{name}.events",
        "rabbitmq_dead_letter_exchange": f"{name}.dead-letter",
        "rabbitmq_dead_letter_queue": f"{name}.events.dead",
    }
    operator = {"ft_transport": "rabbitmq", "ft_rabbitmq_url": url, "ft_rabbitmq_exchange": name}
    return mock, operator


def _kafka(bootstrap: str) -> tuple[dict[str, Any], dict[str, Any]]:
    topic = unique_name()
    mock = {
        "kafka_bootstrap": bootstrap,
        "kafka_topics": [topic],
        "kafka_group": f"{topic}-group",
        "kafka_session_timeout_ms": 2_000,
    }
    # Tansu cannot start aiokafka's idempotent producer (InitProducerId v0); a real Kafka can.
    operator = {
        "ft_transport": "kafka",
        "ft_kafka_bootstrap": bootstrap,
        "ft_kafka_topic": topic,
        "ft_kafka_idempotence": False,
    }
    return mock, operator


@pytest.mark.parametrize("transport", ["rabbitmq", "kafka"])
def test_pass_event_feed_over_broker(
    transport: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if transport == "rabbitmq":
        url = request.getfixturevalue("rabbitmq_url")
        mock, operator = _rabbitmq(url)
    else:
        mock, operator = _kafka(request.getfixturevalue("kafka_bootstrap"))
    try:
        with _integration(tmp_path, operator_extra=operator, **mock) as options:
            assert options.ft_url is not None
            ft_url = options.ft_url
            wait_until(
                lambda: (
                    web.get(f"{ft_url}/_mock/stats").json()["by_transport"].get(transport, 0) >= 9
                ),
                f"the players' events consumed over {transport}",
            )
            results = run_verification(options)
            stats = web.get(f"{ft_url}/_mock/stats").json()
    finally:
        if transport == "rabbitmq":
            from mock_ft.settings import Settings

            delete_rabbit_topology(url, Settings(journal=":memory:", **mock))
    feed = [r for r in results if r.step == "Event feed"]
    assert len(feed) > 8
    assert _failed(results) == []
    assert set(stats["by_transport"]) == {transport}


def test_catch_invalid_events_over_rabbitmq(rabbitmq_url: str, tmp_path: Path) -> None:
    """A broken publisher is caught over a broker as over REST (and its messages dead-lettered)."""
    mock, operator = _rabbitmq(rabbitmq_url)
    try:
        with _integration(
            tmp_path, defects=("events_missing_field",), operator_extra=operator, **mock
        ) as options:
            results = run_verification(options)
    finally:
        from mock_ft.settings import Settings

        delete_rabbit_topology(rabbitmq_url, Settings(journal=":memory:", **mock))
    assert "every event passes FT's validation" in _failed(results)
