"""The reference operator publishes to real brokers: RabbitMQ (this machine's) and Kafka (Tansu).

Every exchange, queue and topic is unique to its test, so parallel workers never see each
other's messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from reference_operator.cli import app as cli_app
from reference_operator.ft.outbox import PendingEvent
from reference_operator.ft.publishers import KafkaPublisher, Publisher, RabbitPublisher, Sent
from reference_operator.settings import OperatorSettings, mask_url
from tests.brokers import KAFKA_BOOTSTRAP_ENV, free_port, unique_name
from tests.reference_operator.conftest import OperatorFactory, outbox_settled

PAYLOAD = {"user_id": "7001", "timestamp": "2026-11-21T10:17:00Z", "origin": "refop.example.com"}


def _event(event_id: int = 41, user_id: str = "7001") -> PendingEvent:
    body = json.dumps({**PAYLOAD, "user_id": user_id})
    return PendingEvent(event_id, user_id, "LOGIN_V2", "POST", "/v2/integration/login", body, 0, 0)


def _settings(**values: Any) -> OperatorSettings:
    return OperatorSettings(database=":memory:", ft_timeout_seconds=5.0, **values)


@pytest.fixture
def route(rabbitmq_url: str) -> Iterator[tuple[str, str]]:
    """Names for an exchange and a queue of this test's own; both deleted afterwards."""
    exchange, queue = unique_name(), unique_name()
    yield exchange, queue

    async def drop() -> None:
        async with await aio_pika.connect(rabbitmq_url) as connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    asyncio.run(drop())


def _bind(url: str, exchange: str, queue: str) -> None:
    """Declare `exchange` as the publisher does, and a queue that takes all it routes."""

    async def bind() -> None:
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
            await (await channel.declare_queue(queue)).bind(ex, "#")

    asyncio.run(bind())


def _read(url: str, queue: str, count: int, timeout: float = 10.0) -> list[Any]:
    """`count` messages taken off `queue`, or fewer when `timeout` runs out."""

    async def read() -> list[AbstractIncomingMessage]:
        got: list[AbstractIncomingMessage] = []
        async with await aio_pika.connect(url) as connection:
            declared = await (await connection.channel()).get_queue(queue)
            deadline = time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                message = await declared.get(no_ack=True, fail=False)
                if message is None:
                    await asyncio.sleep(0.02)
                else:
                    got.append(message)
        return got

    return asyncio.run(read())


def _sends(publisher: Publisher, count: int = 1, **event: Any) -> list[Sent]:
    """Start `publisher`, send it `count` events, close it."""

    async def sends() -> list[Sent]:
        await publisher.start()  # never raises: a failure is for send() to report
        try:
            return [await publisher.send(_event(**event)) for _ in range(count)]
        finally:
            await publisher.close()

    return asyncio.run(sends())


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _head(client: TestClient) -> dict[str, Any]:
    """The operator's newest outbox row."""
    recent: list[dict[str, Any]] = client.get("/platform/outbox").json()["recent"]
    return recent[0]


# -- RabbitMQ ---------------------------------------------------------------------------------


def test_publish_rabbitmq_message_with_ft_properties(
    rabbitmq_url: str, route: tuple[str, str]
) -> None:
    """The body is the JSON payload; `type` carries the event type; persistent, identified."""
    exchange, queue = route
    _bind(rabbitmq_url, exchange, queue)
    settings = _settings(ft_rabbitmq_url=rabbitmq_url, ft_rabbitmq_exchange=exchange)
    assert _sends(RabbitPublisher(settings)) == [Sent(True)]
    [message] = _read(rabbitmq_url, queue, 1)
    assert message.type == "LOGIN_V2"
    assert json.loads(message.body) == PAYLOAD
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == "41"
    assert (message.content_type, message.app_id) == ("application/json", "refop.example.com")
    assert message.routing_key == "fasttrack.event"
    assert message.timestamp is not None


def test_refuse_rabbitmq_message_no_queue_takes(rabbitmq_url: str, route: tuple[str, str]) -> None:
    """With no queue bound, the broker returns the message: not ok, and the error says why."""
    exchange, _ = route
    settings = _settings(ft_rabbitmq_url=rabbitmq_url, ft_rabbitmq_exchange=exchange)
    [sent] = _sends(RabbitPublisher(settings))
    assert not sent.ok
    assert sent.error is not None
    assert "unroutable (NO_ROUTE)" in sent.error
    assert exchange in sent.error


def test_retry_rabbitmq_event_until_a_queue_takes_it(
    make_operator: OperatorFactory, rabbitmq_url: str, route: tuple[str, str]
) -> None:
    """A returned event stays pending and is retried; once a queue is bound it arrives once."""
    exchange, queue = route
    settings = {"ft_rabbitmq_url": rabbitmq_url, "ft_rabbitmq_exchange": exchange}
    with make_operator(ft_transport="rabbitmq", retry_max_seconds=0.2, **settings) as client:
        user = client.post("/platform/players").json()["user_id"]
        _wait(lambda: _head(client)["attempts"] >= 2)
        assert _head(client)["delivered_at"] is None
        assert "unroutable" in _head(client)["last_error"]
        _bind(rabbitmq_url, exchange, queue)
        assert outbox_settled(client)["delivered"] == 1
    messages = _read(rabbitmq_url, queue, 2, timeout=0.5)  # a second one would be a duplicate
    assert [(m.type, json.loads(m.body)["user_id"]) for m in messages] == [("USER_CREATE_V2", user)]


def test_deliver_rabbitmq_outbox_in_player_order(
    make_operator: OperatorFactory, rabbitmq_url: str, route: tuple[str, str]
) -> None:
    """Players' events interleaved on the platform arrive in each player's own order."""
    exchange, queue = route
    _bind(rabbitmq_url, exchange, queue)
    settings = {"ft_rabbitmq_url": rabbitmq_url, "ft_rabbitmq_exchange": exchange}
    with make_operator(ft_transport="rabbitmq", **settings) as client:
        users = [client.post("/platform/players").json()["user_id"] for _ in range(4)]
        for user in users:
            client.post(f"/platform/players/{user}/login")
        for user in users:
            client.post(f"/platform/players/{user}/deposits", json={"amount": 10})
        state = outbox_settled(client)
    assert (state["pending"], state["delivered"]) == (0, 20)
    by_user: dict[str, list[tuple[int, str | None]]] = {user: [] for user in users}
    for message in _read(rabbitmq_url, queue, 20):
        by_user[json.loads(message.body)["user_id"]].append((int(message.message_id), message.type))
    for arrived in by_user.values():
        assert [t for _, t in arrived] == [
            "USER_CREATE_V2", "LOGIN_V2", "PAYMENT", "PAYMENT", "USER_BALANCES_UPDATE",
        ]  # fmt: skip
        assert [i for i, _ in arrived] == sorted(i for i, _ in arrived)


def test_report_unreachable_rabbitmq_without_password() -> None:
    """A broker that is not there: not ok, the reason given, the URL's password masked."""
    url = f"amqp://operator:s3cret-pw@127.0.0.1:{free_port()}/"
    [sent] = _sends(RabbitPublisher(_settings(ft_rabbitmq_url=url)))
    assert not sent.ok
    assert sent.error is not None
    assert "s3cret-pw" not in sent.error
    assert "cannot start publishing to RabbitMQ at amqp://operator:***@127.0.0.1" in sent.error


def test_mask_password_of_amqp_url() -> None:
    """Only the password goes; user, host, vhost and query stay readable."""
    assert mask_url("amqps://u:p%40ss@h:5671/vh?x=1") == "amqps://u:***@h:5671/vh?x=1"
    assert mask_url("amqp://127.0.0.1/") == "amqp://127.0.0.1/"


# -- Kafka ------------------------------------------------------------------------------------


def test_publish_kafka_record_with_type_header_and_player_key(kafka_bootstrap: str) -> None:
    """The value is the payload; header `type` the event type; the key the player's id."""
    topic = unique_name()
    # Tansu 0.6 fails aiokafka's InitProducerId v0, so an idempotent producer cannot start on it.
    settings = _settings(
        ft_kafka_bootstrap=kafka_bootstrap, ft_kafka_topic=topic, ft_kafka_idempotence=False
    )
    assert _sends(KafkaPublisher(settings), user_id="7002") == [Sent(True)]

    async def consume() -> Any:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            return await asyncio.wait_for(consumer.getone(), 10)
        finally:
            await consumer.stop()

    record = asyncio.run(consume())
    assert ("type", b"LOGIN_V2") in record.headers
    assert record.key == b"7002"
    assert json.loads(record.value) == {**PAYLOAD, "user_id": "7002"}


def test_default_kafka_producer_to_acks_all_and_idempotence() -> None:
    """Defaults suit real Kafka: every in-sync replica acknowledges; retries never duplicate."""
    options = KafkaPublisher(_settings()).producer_options()
    assert (options["acks"], options["enable_idempotence"]) == ("all", True)
    options = KafkaPublisher(_settings(ft_kafka_idempotence=False)).producer_options()
    assert (options["acks"], options["enable_idempotence"]) == ("all", False)


def test_report_unreachable_kafka() -> None:
    """No broker at the bootstrap address: not ok, with the reason, and nothing raised."""
    [sent] = _sends(KafkaPublisher(_settings(ft_kafka_bootstrap=f"127.0.0.1:{free_port()}")))
    assert not sent.ok
    assert sent.error is not None
    assert sent.error.startswith("cannot start publishing to Kafka at 127.0.0.1:")


@pytest.mark.skipif(bool(os.environ.get(KAFKA_BOOTSTRAP_ENV)), reason="Tansu's behaviour only")
def test_report_kafka_producer_that_cannot_start(kafka_bootstrap: str) -> None:
    """An idempotent producer Tansu refuses: each send is not ok, with the reason; no crash."""
    settings = _settings(ft_kafka_bootstrap=kafka_bootstrap, ft_kafka_topic=unique_name())
    first, again = _sends(KafkaPublisher(settings), count=2)
    assert not first.ok
    assert not again.ok  # tried again, not stuck on a dead producer
    assert first.error is not None
    assert first.error.startswith(f"cannot start publishing to Kafka at {kafka_bootstrap}")


# -- CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "headline"),
    [
        (["--ft-transport", "smtp"], "invalid setting ft_transport"),
        (["--ft-rabbitmq-url", "http://u:pw-x9@h/"], "invalid setting ft_rabbitmq_url"),
        (["--ft-kafka-bootstrap", "localhost"], "invalid setting ft_kafka_bootstrap"),
        (["--ft-kafka-topic", ""], "invalid setting ft_kafka_topic"),
    ],
)
def test_refuse_bad_transport_flags(args: list[str], headline: str) -> None:
    """A bad transport flag exits 2 with a headline and the fix; a URL's secret is not echoed."""
    result = CliRunner().invoke(cli_app, ["serve", *args])  # in-process: it fails before serving
    assert result.exit_code == 2
    assert headline in result.stderr
    assert f"--{headline.split()[-1].replace('_', '-')}" in result.stderr
    assert "pw-x9" not in result.stderr
    assert "Traceback" not in result.stderr


def test_start_operator_whose_broker_is_down(make_operator: OperatorFactory) -> None:
    """The operator serves while its broker is unreachable; events wait in the outbox."""
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    with make_operator(ft_transport="rabbitmq", ft_rabbitmq_url=url) as client:
        user = client.post("/platform/players").json()["user_id"]
        _wait(lambda: _head(client)["attempts"] >= 1)
        head = _head(client)
    assert head["user_id"] == user
    assert head["delivered_at"] is None
    assert head["last_error"].startswith("cannot start publishing to RabbitMQ")
