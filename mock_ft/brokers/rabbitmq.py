"""RabbitMQ transport: consume FT events from a queue, ack them only after their journal commit.

Deliveries are taken in batches (`rabbit_batches`): what has arrived is journaled as one group
commit and acked with one `multiple=True` ack.

The event type is the AMQP `type` property (FT ignores headers). Invalid messages are rejected
without requeue, so the queue's dead-letter exchange keeps them; the reason is in the journal. The
connection is robust: when the broker restarts, aio-pika reconnects, declares the topology again
and resumes consuming; unacked messages come back, and a redelivery of one the journal already
holds is acked without a second entry (it was the mock that failed to ack, not the operator).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import suppress
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from yarl import URL

from mock_ft.brokers.common import BrokerStatus, Settle, describe, hold_pause, retry_forever
from mock_ft.brokers.rabbit_batches import Batches
from mock_ft.faults import FaultInjector
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.settings import Settings

__all__ = ["RabbitConsumer", "delete_topology", "rabbitmq_url"]


async def delete_topology(url: str, settings: Settings) -> None:
    """Delete the exchanges and queues `settings` names: a throwaway mock tidying up."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in (settings.rabbitmq_queue, settings.rabbitmq_dead_letter_queue):
            await channel.queue_delete(queue)
        for exchange in (settings.rabbitmq_exchange, settings.rabbitmq_dead_letter_exchange):
            await channel.exchange_delete(exchange)


log = logging.getLogger("mock_ft.brokers.rabbitmq")
CONNECT_TIMEOUT_SECONDS = 10.0  # a TCP connect plus AMQP handshake that takes longer is retried
STOP_GRACE_SECONDS = 10.0  # how long stop() waits for each step of shutting down


def rabbitmq_url(settings: Settings) -> tuple[str, str]:
    """(URL to connect with, the same without credentials for people to read)."""
    assert settings.rabbitmq_url is not None  # noqa: S101 - only called when configured
    url = URL(settings.rabbitmq_url.get_secret_value())
    if settings.rabbitmq_vhost is not None:
        url = url.with_path("/" + settings.rabbitmq_vhost)
    shown = url.with_user(None).with_password(None)
    return str(url), str(shown)


class RabbitConsumer:
    """Consumes the configured queue into the pipeline until `stop()`."""

    def __init__(self, settings: Settings, pipeline: Pipeline, faults: FaultInjector) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.faults = faults
        self._url, shown = rabbitmq_url(settings)
        self._password = URL(self._url).password
        self.status = BrokerStatus("rabbitmq", f"{shown} queue {settings.rabbitmq_queue}")
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._starter: asyncio.Task[None] | None = None
        self._batches = Batches(
            pipeline, faults, self, settings.api_key_header, settings.rabbitmq_prefetch
        )
        self._chores: set[asyncio.Task[Any]] = set()  # pauses and channel reopenings
        self._dead: weakref.WeakSet[Any] = weakref.WeakSet()  # channels closed by a fault rule

    async def start(self) -> None:
        """Start connecting in the background: the mock serves REST while the broker is away."""
        self._starter = asyncio.create_task(
            retry_forever(self.status, self._connect, secret=self._password)
        )

    async def stop(self) -> None:
        """Stop consuming, let messages in flight finish (journal and ack), then disconnect.

        Bounded whatever the state: connecting, consuming, paused or reconnecting. Messages still
        unsettled after `STOP_GRACE_SECONDS`, and those a `delay` rule holds, are left unacked, so
        the broker redelivers them.
        """
        if self._starter is not None:
            self._starter.cancel()
            with suppress(asyncio.CancelledError):
                await self._starter
        await _cancel(self._chores)
        connection = self._connection
        if connection is not None and connection.connected.is_set():
            # Only a live connection can cancel the consumer: a reconnecting one would wait.
            with suppress(Exception):
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await self._cancel_consumer()
        await self._batches.finish(STOP_GRACE_SECONDS)
        await self._disconnect()
        self.status.state = "stopped"

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # Closing also ends aio-pika's reconnect loop, which would otherwise keep a connection to
        # the broker open (and this loop busy) after the mock stopped. A second close is for when
        # the first one's grace ran out: close() first waits for the reconnect loop, and a
        # reconnect that ignored its cancellation (Python 3.11's wait_for returns a connect that
        # raced one) sleeps out its reconnect interval first. Left open, the connection's tasks
        # are cancelled at the event loop's end, which leaves aiormq's close tasks pending.
        for _ in range(2):
            with suppress(Exception):
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await connection.close()
            if connection.transport is None:
                return

    async def _connect(self) -> None:
        # The connection is ours before it connects: a stop() in any stage of connecting can
        # close it, and a failed attempt does not leave aio-pika reconnecting in the background.
        connection = aio_pika.RobustConnection(
            URL(self._url), client_properties={"connection_name": "mock-ft ingest"}
        )
        self._connection = connection
        connection.reconnect_callbacks.add(self._on_reconnect)
        connection.close_callbacks.add(self._on_close)
        try:
            await connection.connect(timeout=CONNECT_TIMEOUT_SECONDS)
            await self._open_channel()
        except asyncio.CancelledError:
            raise  # stop() closes it
        except BaseException:
            await self._disconnect()
            raise

    def _on_reconnect(self, *_: Any) -> None:
        self.status.state, self.status.error = "connected", None
        log.info("rabbitmq: reconnected to %s", self.status.target)

    def _on_close(self, _: Any, exc: BaseException | None = None) -> None:
        if self.status.state != "stopped" and exc is not None:
            self.status.state, self.status.error = "reconnecting", describe(exc)

    async def _open_channel(self) -> None:
        assert self._connection is not None  # noqa: S101 - connected first
        s = self.settings
        channel: AbstractRobustChannel = await self._connection.channel()
        await channel.set_qos(prefetch_count=s.rabbitmq_prefetch)
        if s.rabbitmq_declare:
            dead = await channel.declare_exchange(
                s.rabbitmq_dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
            )
            dead_queue = await channel.declare_queue(s.rabbitmq_dead_letter_queue, durable=True)
            await dead_queue.bind(dead)
            exchange = await channel.declare_exchange(
                s.rabbitmq_exchange, aio_pika.ExchangeType(s.rabbitmq_exchange_type), durable=True
            )
            queue: AbstractQueue = await channel.declare_queue(
                s.rabbitmq_queue,
                durable=True,
                arguments={"x-dead-letter-exchange": s.rabbitmq_dead_letter_exchange},
            )
            await queue.bind(exchange, routing_key=s.rabbitmq_binding_key)
        else:
            queue = await channel.get_queue(s.rabbitmq_queue, ensure=True)
        self._channel, self._queue = channel, queue
        self._tag = await queue.consume(self._batches.take)

    async def _cancel_consumer(self) -> None:
        if self._queue is not None and self._tag is not None:
            tag, self._tag = self._tag, None
            await self._queue.cancel(tag)

    async def pause(self, message: AbstractIncomingMessage, done: Settle) -> None:
        """A `pause` rule: stop consuming, put the message back, resume after the hold."""
        await self._cancel_consumer()
        await message.nack(requeue=True)
        self._spawn(self._resume_after(done))

    async def close(self) -> None:
        """A `close_channel` rule: everything unacked on this channel goes back to the queue."""
        channel = self._channel
        if channel is not None:
            # From here on nothing may be acked on it: a frame on a closing channel is a
            # connection error for RabbitMQ, which would close every channel.
            with suppress(Exception):
                self._dead.add(await channel.get_underlay_channel())
        self._spawn(self._reopen())

    async def _resume_after(self, done: Settle) -> None:
        self.status.state = "paused"
        await hold_pause(self.faults, done)
        if self._queue is not None and self._tag is None:
            self._tag = await self._queue.consume(self._batches.take)
        self.status.state = "connected"

    async def _reopen(self) -> None:
        channel, self._channel, self._tag = self._channel, None, None
        if channel is not None:
            with suppress(Exception):
                await channel.close()
        await self._open_channel()

    def gone(self, message: AbstractIncomingMessage) -> bool:
        """True when the message's channel is closed or being closed by a close_channel rule."""
        try:
            return message.channel in self._dead
        except Exception:
            return True

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)


async def _cancel(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until they are done."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
