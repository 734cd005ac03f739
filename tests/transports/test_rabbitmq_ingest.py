"""RabbitMQ ingest against the machine's real broker: type property, dead-lettering, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_ft.samples import sample_events
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS
from tests.transports.conftest import (
    AmqpMessage,
    count,
    delete_rabbit_topology,
    drain_queue,
    payment,
    publish_amqp,
    rabbit_settings,
    rows,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def rabbit(rabbitmq_url: str, tmp_path: Path) -> Iterator[Settings]:
    settings = rabbit_settings(rabbitmq_url, tmp_path / "journal.sqlite3")
    yield settings
    delete_rabbit_topology(rabbitmq_url, settings)


def test_ingest_every_event_type_over_rabbitmq(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    samples = sample_events()
    publish_amqp(
        rabbitmq_url,
        rabbit.rabbitmq_exchange,
        [(r.event_type, json.dumps(p).encode(), {"message_id": r.event_type}) for r, p in samples],
    )
    wait_until(lambda: count(rabbit.journal) == len(samples), "every sample journaled")
    found = rows(rabbit.journal, "SELECT event_type, verdict, transport, headers FROM events")
    assert {(t, v, tr) for t, v, tr, _ in found} == {
        (r.event_type, "accepted", "rabbitmq") for r, _ in samples
    }
    headers = json.loads(found[0][3])
    assert headers["amqp.type"] == headers["amqp.message_id"] == found[0][0]
    assert client.get("/_mock/stats").json()["by_transport"] == {"rabbitmq": len(samples)}


def test_dead_letter_invalid_message_with_reason(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    bad = json.loads(payment())
    bad["amount"] = "lots"
    publish_amqp(
        rabbitmq_url, rabbit.rabbitmq_exchange, [("PAYMENT", json.dumps(bad).encode(), {})]
    )
    wait_until(lambda: count(rabbit.journal) == 1, "the invalid message journaled")
    [(verdict, error_code, errors)] = rows(
        rabbit.journal, "SELECT verdict, error_code, errors FROM events"
    )
    assert (verdict, error_code) == ("rejected", "validation_failed")
    assert [p["path"] for p in json.loads(errors)] == ["$.amount"]
    [dead] = drain_queue(rabbitmq_url, rabbit.rabbitmq_dead_letter_queue)
    assert json.loads(dead.body) == bad
    deaths: Any = dead.headers["x-death"]
    assert deaths[0]["reason"] == "rejected"


def test_reject_message_without_type(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, [(None, payment(), {})])
    wait_until(lambda: count(rabbit.journal) == 1, "the untyped message journaled")
    event = client.get("/_mock/events").json()["data"][0]
    assert (event["error_code"], event["transport"]) == ("unknown_event_type", "rabbitmq")
    assert "the AMQP `type` property is missing" in event["errors"][0]["message"]
    assert len(drain_queue(rabbitmq_url, rabbit.rabbitmq_dead_letter_queue)) == 1


def test_name_the_property_for_a_misspelt_type(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, [("payment", payment(), {})])
    wait_until(lambda: count(rabbit.journal) == 1, "the message journaled")
    [problem] = client.get("/_mock/events").json()["data"][0]["errors"]
    assert problem["path"] == "property.type"
    assert "'payment' in the AMQP `type` property; did you mean PAYMENT?" in problem["message"]


def test_mask_secret_headers_of_messages(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    publish_amqp(
        rabbitmq_url,
        rabbit.rabbitmq_exchange,
        [("PAYMENT", payment(), {"headers": {"X-API-Key": "s3cr3t", "trace": "t-1"}})],
    )
    wait_until(lambda: count(rabbit.journal) == 1, "the message journaled")
    [(headers,)] = rows(rabbit.journal, "SELECT headers FROM events")
    assert "s3cr3t" not in headers
    assert json.loads(headers)["header.trace"] == "t-1"


def test_requeue_message_a_nack_rule_hits(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    client.post("/_mock/faults", json={"action": "nack", "times": 2}).raise_for_status()
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, [("PAYMENT", payment(), {})])
    wait_until(lambda: count(rabbit.journal, "verdict = 'accepted'") == 1, "accepted at last")
    verdicts = [v for (v,) in rows(rabbit.journal, "SELECT verdict FROM events ORDER BY id")]
    assert verdicts == ["faulted", "faulted", "accepted"]


def test_drain_backlog_after_pause(rabbit: Settings, running, rabbitmq_url) -> None:
    """Nothing is taken while paused; removing the rule ends the pause and the backlog drains.

    The pause is far longer than the test, so how long publishing the backlog takes does not
    matter: the test, not a timer, decides when the pause ends.
    """
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    rule = {"action": "pause", "delay_ms": 600_000, "times": 1, "transport": "rabbitmq"}
    client.post("/_mock/faults", json=rule).raise_for_status()
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, [("PAYMENT", payment("1", "p-0"), {})])
    wait_until(
        lambda: client.get("/_mock/health").json()["brokers"][0]["state"] == "paused", "paused"
    )
    backlog: list[AmqpMessage] = [("PAYMENT", payment(str(i), f"p-{i}"), {}) for i in range(1, 200)]
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, backlog)
    assert count(rabbit.journal, "verdict = 'accepted'") == 0  # nothing taken while paused
    client.delete("/_mock/faults", headers=JSON_HEADERS).raise_for_status()
    wait_until(lambda: count(rabbit.journal, "verdict = 'accepted'") == 200, "backlog drained")
    assert count(rabbit.journal, "verdict = 'faulted'") == 1


def test_lose_nothing_when_channel_closes(rabbit: Settings, running, rabbitmq_url) -> None:
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    rule = {"action": "close_channel", "times": 1, "event_type": "PAYMENT", "user_id": "50"}
    client.post("/_mock/faults", json=rule).raise_for_status()
    messages = [("PAYMENT", payment(str(i), f"p-{i}"), {"message_id": str(i)}) for i in range(100)]
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, messages)
    wait_until(lambda: count(rabbit.journal, "verdict = 'accepted'") >= 100, "all accepted")
    accepted = rows(
        rabbit.journal,
        "SELECT json_extract(headers, '$.\"amqp.message_id\"'), COUNT(*) FROM events "
        "WHERE verdict = 'accepted' GROUP BY 1",
    )
    assert sorted(int(m) for m, n in accepted if n == 1) == list(range(100))
    assert count(rabbit.journal, "verdict = 'faulted'") == 1


def test_refuse_rest_action_for_rabbitmq(rabbit: Settings, running) -> None:
    client = running(rabbit)
    response = client.post("/_mock/faults", json={"status": 503, "transport": "rabbitmq"})
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["path"] == "$.body.transport"
    assert "'rest'" in problem["message"]
