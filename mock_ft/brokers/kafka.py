"""Kafka transport: consume FT events from topics; commit offsets only after the journal commit.

The event type is the record header `type`; without one, a record on a topic named after an
event type (`PAYMENT`, or `<prefix>.PAYMENT`) is that event: one topic per type, as some operators
publish (`kafka_type_from_topic`).
The journal keeps, with the events, the next offset of each partition per consumer group, and a
consumer that is assigned a partition starts there: after a crash between the journal commit and
the offset commit, or when a partition moves to another instance of the group, nothing is
journaled twice. The journal's transaction also refuses a record below its partition's journaled
offset (`Tx.covered`): an instance that lost a partition during a rebalance while journaling its
records, and the instance that took it over, never both journal one record. Records of one
partition are journaled in offset order; partitions are independent. A fault rule stops a batch
at the record it hits: the records before it are taken, it and the rest are fetched again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    TopicAlreadyExistsError,
)

from mock_ft.brokers.common import (
    BrokerStatus,
    Settle,
    decide,
    describe,
    hold_pause,
    retry_forever,
    settle,
    settle_rule,
)
from mock_ft.faults import FaultInjector
from mock_ft.faultspec import BROKER_ACTIONS
from mock_ft.ingest.attempts import Attempt, mask_headers
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.settings import Settings

__all__ = ["KafkaIngest"]

log = logging.getLogger("mock_ft.brokers.kafka")
_MAX_RECORDS = 1_000  # per fetch: one group commit's worth
STOP_GRACE_SECONDS = 10.0  # leaving the group may wait on a broker that went away: bounded


class KafkaIngest:
    """Consumes the configured topics into the pipeline until `stop()`."""

    def __init__(self, settings: Settings, pipeline: Pipeline, faults: FaultInjector) -> None:
        assert settings.kafka_bootstrap is not None  # noqa: S101 - only built when configured
        self.settings = settings
        self.pipeline = pipeline
        self.faults = faults
        self.bootstrap = settings.kafka_bootstrap
        topics = ", ".join(settings.kafka_topics)
        self.status = BrokerStatus("kafka", f"{self.bootstrap} topic(s) {topics}")
        self._consumer: AIOKafkaConsumer | None = None
        self._runner: asyncio.Task[None] | None = None
        self._resumers: set[asyncio.Task[None]] = set()
        self._topic_types = settings.kafka_type_from_topic

    async def start(self) -> None:
        """Start connecting and consuming in the background."""
        self._runner = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop after the batch in hand (journaled and committed), then leave the group."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        resumers = list(self._resumers)
        for task in resumers:
            task.cancel()
        await asyncio.gather(*resumers, return_exceptions=True)
        await self._close_consumer()
        self.status.state = "stopped"

    async def _run(self) -> None:
        while True:
            await retry_forever(self.status, self._connect)
            try:
                await self._consume()
            except _Rejoin:
                await self._close_consumer()  # close_channel: leave the group, join again
            except KafkaError as exc:
                self.status.state, self.status.error = "reconnecting", describe(exc)
                log.warning("kafka: consumer failed (%s); starting again", exc)
                await self._close_consumer()

    async def _connect(self) -> None:
        if self.settings.kafka_create_topics:
            await self._create_topics()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.settings.kafka_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="mock-ft",
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=min(3_000, self.settings.kafka_session_timeout_ms // 3),
        )
        consumer.subscribe(self.settings.kafka_topics, listener=_StartAtJournal(self, consumer))
        try:
            await consumer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await consumer.stop()
            raise
        self._consumer = consumer

    async def _create_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="mock-ft")
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in self.settings.kafka_topics if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):  # another mock was quicker
                    await admin.create_topics(
                        [NewTopic(t, num_partitions=1, replication_factor=1) for t in missing]
                    )
        finally:
            await admin.close()

    async def _close_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await consumer.stop()

    async def _consume(self) -> None:
        consumer = self._consumer
        assert consumer is not None  # noqa: S101 - connected first
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=_MAX_RECORDS)
            for partition, records in batches.items():
                if partition in consumer.assignment():  # not revoked since the fetch
                    await self._take(consumer, partition, records)

    async def _take(
        self, consumer: AIOKafkaConsumer, partition: TopicPartition, records: list[ConsumerRecord]
    ) -> None:
        """Journal a partition's records in order, then commit; a fault rule cuts the batch."""
        pending = []
        cut: tuple[Attempt, Any] | None = None
        for record in records:
            attempt = self._attempt(record)
            rule = await decide(self.faults, attempt)
            if rule is not None and rule.action in BROKER_ACTIONS:
                cut = (attempt, rule)
                break
            pending.append(
                settle(self.pipeline, attempt)
                if rule is None
                else settle_rule(self.pipeline, attempt, rule)
            )
        done = await asyncio.gather(*pending)  # tasks start in order: journal order = offsets
        self.status.consumed += len(done)
        self.status.batches += 1 if done else 0
        self.status.redeliveries_skipped += sum(d.outcome.already for d in done)
        hold = max((d.hold for d in done), default=0.0)
        if hold:
            await asyncio.sleep(hold)  # a `delay` rule: the commit comes late
        if done:
            await self._commit(consumer, partition, records[len(done) - 1].offset + 1)
        if cut is None or partition not in consumer.assignment():
            return
        attempt, rule = cut
        verdict = await settle_rule(self.pipeline, attempt, rule)
        consumer.seek(partition, records[len(done)].offset)  # fetched again: not committed
        if verdict.action == "pause":
            consumer.pause(partition)
            task = asyncio.create_task(self._resume_after(consumer, partition, verdict))
            self._resumers.add(task)
            task.add_done_callback(self._resumers.discard)
        elif verdict.action == "close":
            raise _Rejoin

    async def _commit(
        self, consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int
    ) -> None:
        """Commit a journaled batch's offset, unless the partition was revoked meanwhile: its
        new owner starts at the journal's offset, and a late commit could only move the
        group's offset backwards (or fail on the new generation)."""
        if partition not in consumer.assignment():
            return
        try:
            await consumer.commit({partition: offset})
        except (CommitFailedError, IllegalStateError) as exc:  # revoked while committing
            log.info("kafka: %s moved to another consumer before its commit (%s)", partition, exc)

    async def _resume_after(
        self, consumer: AIOKafkaConsumer, partition: TopicPartition, done: Settle
    ) -> None:
        self.status.state = "paused"
        await hold_pause(self.faults, done)
        if partition in consumer.assignment():
            consumer.resume(partition)
        self.status.state = "connected"

    def source(self, topic: str, partition: int) -> str:
        """The journal's name of a partition's offsets: per consumer group, since each group
        reads the whole topic (`topic:partition@group`; `:` and `@` are not in topic names)."""
        return f"{topic}:{partition}@{self.settings.kafka_group}"

    def _topic_type(self, topic: str) -> str | None:
        """The event type a topic is named after (`PAYMENT`, `prod.PAYMENT`), if any."""
        for name in (topic, topic.rpartition(".")[2]):
            if name in self.pipeline.routes:
                return name
        return None

    def _attempt(self, record: ConsumerRecord) -> Attempt:
        event_type: str | None = None
        extra: dict[str, str] = {}
        for name, value in record.headers or ():
            text = value.decode("utf-8", errors="replace") if value is not None else ""
            if name == "type" and event_type is None:
                event_type = text or None
            extra[f"header.{name}"] = text
        if event_type is None and self._topic_types:
            event_type = self._topic_type(record.topic)
        headers = {
            "kafka.topic": record.topic,
            "kafka.partition": str(record.partition),
            "kafka.offset": str(record.offset),
            **mask_headers(extra, self.settings.api_key_header),
        }
        if record.key is not None:
            headers["kafka.key"] = record.key.decode("utf-8", errors="replace")
        return Attempt(
            transport="kafka",
            received_at=time.time(),
            body=record.value or b"",
            event_type=event_type,
            headers=headers,
            offset=(self.source(record.topic, record.partition), record.offset),
        )


class _Rejoin(Exception):
    """A close_channel fault: leave the consumer group and join it again."""


class _StartAtJournal(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, start each partition after the last record the journal holds for the group
    (the broker's committed offset may lag: the instance that had it may have died before its
    commit)."""

    def __init__(self, ingest: KafkaIngest, consumer: AIOKafkaConsumer) -> None:
        self.ingest = ingest
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Nothing is in flight here: each batch is journaled and committed before the next."""
        self.ingest.status.partitions = []

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.ingest.status.partitions = sorted(f"{p.topic}:{p.partition}" for p in assigned)
        journaled = await self.ingest.pipeline.next_offsets()
        for partition in assigned:
            position = journaled.get(self.ingest.source(partition.topic, partition.partition))
            if position is None:  # journals from before groups were part of the name
                position = journaled.get(f"{partition.topic}:{partition.partition}")
            if position is None:
                continue
            committed = await self.consumer.committed(partition)
            if committed is None or committed < position:
                self.consumer.seek(partition, position)
