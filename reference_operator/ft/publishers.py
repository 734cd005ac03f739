"""How one outbox event reaches FT: over REST, RabbitMQ or Kafka, behind one `Publisher` interface.

FT takes the same JSON body on every transport; the event type goes in the REST path, the AMQP
`type` property or a Kafka record header `type`. A publisher never raises for a failed delivery:
it answers `Sent(ok=False, error=...)`, and the dispatcher retries later."""

from __future__ import annotations

import asyncio
import email.utils
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import httpx
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import DeliveryError, PublishError
from aiokafka import AIOKafkaProducer
from yarl import URL

from reference_operator.ft.outbox import PendingEvent
from reference_operator.settings import OperatorSettings, mask_url

__all__ = [
    "HttpPublisher",
    "KafkaPublisher",
    "Publisher",
    "RabbitPublisher",
    "Sent",
    "publisher_for",
    "retry_after_seconds",
]

_RETRY_AFTER_CAP_SECONDS = 300.0


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait per a `Retry-After` header (delta-seconds or HTTP-date), if usable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _RETRY_AFTER_CAP_SECONDS)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, moment.timestamp() - now), _RETRY_AFTER_CAP_SECONDS)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Refused(Exception):
    """A broker answered, but did not take the event (its message says why)."""


@dataclass(slots=True, frozen=True)
class Sent:
    """The outcome of one publish attempt."""

    ok: bool
    error: str | None = None
    retry_after: float | None = None  # seconds FT asked us to wait (REST `Retry-After`)
    # Sent, but no answer came (a timeout, a dropped connection): FT may have the event, so
    # the retry can be a second copy; FT deduplicates it by its idempotency key.
    unanswered: bool = False


class Publisher(ABC):
    """Delivers one event per `send`; `start` before the first and `close` after the last."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect ahead of the first event (a failure is reported by `send`, not raised)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abstractmethod
    async def send(self, event: PendingEvent) -> Sent:
        """One delivery attempt; `ok` only once FT (or its broker) has taken the event."""


class HttpPublisher(Publisher):
    """FT's Integration API over REST: 200 is accepted; anything else is retried."""

    def __init__(self, settings: OperatorSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self._headers = {
            "Content-Type": "application/json",
            settings.ft_api_key_header: settings.ft_api_key.get_secret_value(),
        }

    async def send(self, event: PendingEvent) -> Sent:
        url = self.settings.ft_url.rstrip("/") + event.path
        try:
            response = await self.client.request(
                event.method,
                url,
                content=event.payload.encode(),
                headers=self._headers,
                timeout=self.settings.ft_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            return Sent(False, f"{type(exc).__name__}: {exc}", unanswered=not unsent)
        if response.status_code == 200:
            return Sent(True)
        retry_after = retry_after_seconds(response.headers.get("retry-after"), time.time())
        return Sent(False, f"HTTP {response.status_code}: {response.text[:300]}", retry_after)


class _BrokerPublisher(Publisher):
    """Connects lazily and again after a failed connect, so a broker that is down at start
    delays events instead of stopping the operator."""

    transport = "broker"

    def __init__(self, settings: OperatorSettings, target: str) -> None:
        self.settings = settings
        self.target = target  # where we publish, without secrets
        self._lock = asyncio.Lock()
        self._connected = False
        self._tries = 0
        self._last_error = "not connected"

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _publish(self, event: PendingEvent) -> None: ...

    def _scrub(self, text: str) -> str:
        return text

    async def start(self) -> None:
        await self._ready()

    async def _ready(self) -> str | None:
        """None when connected, else why not (shared by all who waited on a failed attempt)."""
        seen = self._tries
        async with self._lock:
            if self._connected:
                return None
            if self._tries != seen:
                return self._last_error
            self._tries += 1
            try:
                await self._connect()
            except Exception as exc:  # any failure is reported, then retried
                why = f"cannot start publishing to {self.transport} at {self.target}"
                self._last_error = self._scrub(f"{why}: {_describe(exc)}")
                return self._last_error
            self._connected = True
            return None

    async def send(self, event: PendingEvent) -> Sent:
        not_ready = await self._ready()
        if not_ready is not None:
            return Sent(False, not_ready)
        timeout = self.settings.ft_timeout_seconds
        try:
            await asyncio.wait_for(self._publish(event), timeout)
        except TimeoutError:  # the broker may hold it: the retry can be a second copy
            message = f"{self.transport} did not confirm within {timeout:g} s"
            return Sent(False, message, unanswered=True)
        except Refused as exc:
            return Sent(False, f"{self.transport} did not take the event: {exc}")
        except Exception as exc:  # any failure is reported, then retried
            message = self._scrub(f"{self.transport} publish failed: {_describe(exc)}")
            return Sent(False, message, unanswered=True)
        return Sent(True)


class RabbitPublisher(_BrokerPublisher):
    """Publishes to a RabbitMQ exchange with publisher confirms; unroutable messages come back."""

    transport = "RabbitMQ"

    def __init__(self, settings: OperatorSettings) -> None:
        self._url = settings.ft_rabbitmq_url.get_secret_value()
        super().__init__(settings, mask_url(self._url))
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None

    def _scrub(self, text: str) -> str:
        # Libraries may quote the URL (or its password) in an exception; never pass that on.
        text = text.replace(self._url, self.target)
        password = urlsplit(self._url).password
        for shown in {password, unquote(password or "")} - {None, ""}:
            text = text.replace(f":{shown}@", ":***@")
        return text

    async def _connect(self) -> None:
        timeout = self.settings.ft_timeout_seconds
        # Made before it connects, so that whatever interrupts the connecting (a failure, or
        # the dispatcher stopping) closes it: aio-pika's reconnect loop must not outlive us.
        connection = aio_pika.RobustConnection(URL(self._url))
        try:
            await connection.connect(timeout=timeout)
            # on_return_raises: with mandatory=True an unroutable message fails the publish
            channel = await asyncio.wait_for(
                connection.channel(publisher_confirms=True, on_return_raises=True), timeout
            )
            self._exchange = await channel.declare_exchange(
                self.settings.ft_rabbitmq_exchange,
                aio_pika.ExchangeType(self.settings.ft_rabbitmq_exchange_type),
                durable=True,
                timeout=timeout,
            )
        except BaseException:
            await asyncio.shield(connection.close())
            raise
        self._connection = connection

    async def _publish(self, event: PendingEvent) -> None:
        if self._exchange is None:
            msg = "not connected"
            raise Refused(msg)
        message = aio_pika.Message(
            event.payload.encode(),
            type=event.event_type,  # FT reads the event type here and ignores headers
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(event.id),
            app_id=self.settings.origin,
            timestamp=datetime.now(UTC),
        )
        key = self.settings.ft_rabbitmq_routing_key
        try:  # returns once the broker confirmed; raises on return, nack and a lost channel
            await self._exchange.publish(message, key, mandatory=True)
        except PublishError as exc:
            reply = getattr(exc.frame, "reply_text", "returned")
            msg = (
                f"the message came back unroutable ({reply}): no queue is bound to exchange "
                f"{self._exchange.name!r} for routing key {key!r}"
            )
            raise Refused(msg) from exc
        except DeliveryError as exc:
            msg = f"the broker nacked the message ({_describe(exc)})"
            raise Refused(msg) from exc

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self._connected = False


class KafkaPublisher(_BrokerPublisher):
    """Publishes to a Kafka topic, keyed by player so each player's events share a partition."""

    transport = "Kafka"

    def __init__(self, settings: OperatorSettings) -> None:
        super().__init__(settings, settings.ft_kafka_bootstrap)
        self._producer: AIOKafkaProducer | None = None

    def producer_options(self) -> dict[str, Any]:
        """What the producer is built with: every replica must have a record before it counts."""
        return {
            "bootstrap_servers": self.settings.ft_kafka_bootstrap,
            "acks": "all",
            "enable_idempotence": self.settings.ft_kafka_idempotence,
            "request_timeout_ms": int(self.settings.ft_timeout_seconds * 1000),
        }

    async def _connect(self) -> None:
        producer = AIOKafkaProducer(**self.producer_options())
        try:
            await asyncio.wait_for(producer.start(), self.settings.ft_timeout_seconds)
        except BaseException:
            await producer.stop()  # a half-started producer still holds sockets and tasks
            raise
        self._producer = producer

    async def _publish(self, event: PendingEvent) -> None:
        if self._producer is None:
            msg = "not connected"
            raise Refused(msg)
        # A send cut off by the timeout may still land later: at-least-once, like every retry.
        await self._producer.send_and_wait(
            self.settings.ft_kafka_topic,
            event.payload.encode(),
            key=event.user_id.encode(),
            headers=[("type", event.event_type.encode())],
        )

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        self._connected = False


def publisher_for(settings: OperatorSettings, client: httpx.AsyncClient) -> Publisher:
    """The publisher for `settings.ft_transport` (`client` serves REST)."""
    if settings.ft_transport == "rabbitmq":
        return RabbitPublisher(settings)
    if settings.ft_transport == "kafka":
        return KafkaPublisher(settings)
    return HttpPublisher(settings, client)
