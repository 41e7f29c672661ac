"""The partitions this broker hosts (Kafka's ReplicaManager): follows the cluster metadata
to create and delete logs, appends produced batches, serves consumer and follower fetches
(parking those that want more data until it arrives or their wait runs out), holds
acks=all produces until the ISR has the records, and shrinks ISRs of lagging followers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from strom.broker.clock import Clock
from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.topic_config import TopicConfig
from strom.broker.log.errors import LogError
from strom.broker.log.manager import LogManager
from strom.broker.log.partition_log import AppendResult, LogConfig
from strom.broker.log.producer_state import ProducerStateError
from strom.broker.metadata.image import MetadataChange, MetadataImage, TopicImage
from strom.broker.metadata.records import ConfigRecord, PartitionRecord, RemoveTopicRecord
from strom.broker.replication.delayed_produce import DelayedProduce
from strom.broker.replication.errors import (
    NotEnoughReplicasAfterAppendError,
    ReplicaError,
    UnknownTopicOrPartitionError,
)
from strom.broker.replication.partition import (
    IsrChange,
    Partition,
    PartitionListener,
    ReadResult,
)
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FetchPartition:
    topic_partition: TopicPartition
    fetch_offset: int
    max_bytes: int
    current_leader_epoch: int = -1
    last_fetched_epoch: int = -1


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    request: FetchPartition
    result: ReadResult | None
    error: Exception | None

    @property
    def size(self) -> int:
        return len(self.result.records) if self.result is not None else 0


async def _no_isr_changes(change: IsrChange) -> None:
    raise RuntimeError(f"no controller to propose the ISR of {change.topic_partition} to")


ProposeIsr = Callable[[IsrChange], Awaitable[None]]


class ReplicaManager:
    def __init__(
        self,
        config: BrokerConfig,
        log_manager: LogManager,
        image: MetadataImage,
        clock: Clock,
        propose_isr: ProposeIsr = _no_isr_changes,
    ) -> None:
        self._config = config
        self._log_manager = log_manager
        self._image = image
        self._clock = clock
        self._propose_isr = propose_isr
        self._partitions: dict[TopicPartition, Partition] = {}
        self._topic_configs: dict[str, TopicConfig] = {}
        # Followers wait for appends; consumers wait for the high watermark.
        self._follower_waiters: dict[TopicPartition, set[asyncio.Future[None]]] = {}
        self._consumer_waiters: dict[TopicPartition, set[asyncio.Future[None]]] = {}
        self._delayed_produce = DelayedProduce()
        self._listener = PartitionListener(self._high_watermark_advanced, self._send_isr_change)
        # Told (partition, still hosted) whenever a partition's leader or epoch changes.
        self.leadership_listeners: list[Callable[[Partition, bool], None]] = []
        self._isr_changes: asyncio.Queue[IsrChange] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start proposing ISR changes and checking for lagging followers."""
        self._tasks = [
            asyncio.create_task(self._send_isr_changes(), name="isr-changes"),
            asyncio.create_task(self._shrink_isrs_periodically(), name="isr-shrink"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # -- following metadata --------------------------------------------------------------

    def load(self) -> None:
        """Open the logs of every partition the metadata assigns to this broker."""
        self._log_manager.load_logs(self._expected_log)
        for topic in self._image.topics_by_name.values():
            for partition_id in topic.partitions:
                self._host(topic, partition_id)

    def apply(self, change: MetadataChange) -> None:
        record, topic = change.record, change.topic
        if topic is None:
            return
        if isinstance(record, PartitionRecord):
            self._host(topic, record.partition_id)
        elif isinstance(record, RemoveTopicRecord):
            self._topic_configs.pop(topic.name, None)
            for partition_id in topic.partitions:
                tp = TopicPartition(topic.name, partition_id)
                removed = self._partitions.pop(tp, None)
                self._log_manager.delete(tp)
                self._wake_fetchers(tp)
                self._delayed_produce.leadership_lost(tp)
                if removed is not None:
                    self._notify_leadership(removed, hosted=False)
        elif isinstance(record, ConfigRecord):
            self._topic_configs.pop(topic.name, None)
            config = self.topic_config(topic.name)
            for partition_id in topic.partitions:
                hosted = self._partitions.get(TopicPartition(topic.name, partition_id))
                if hosted is not None:
                    hosted.log.config = config

    def topic_config(self, topic: str) -> TopicConfig:
        config = self._topic_configs.get(topic)
        if config is None:
            image = self._image.topic(topic)
            overrides = image.configs if image is not None else {}
            config = TopicConfig.resolve(self._config, overrides)
            self._topic_configs[topic] = config
        return config

    # -- partitions ----------------------------------------------------------------------

    def partition(self, tp: TopicPartition) -> Partition:
        hosted = self._partitions.get(tp)
        if hosted is None:
            raise UnknownTopicOrPartitionError(f"this broker does not host {tp}")
        return hosted

    def partitions(self) -> Iterable[Partition]:
        return self._partitions.values()

    # -- produce -------------------------------------------------------------------------

    def append_records(
        self, entries: dict[TopicPartition, bytes | memoryview], required_acks: int
    ) -> dict[TopicPartition, AppendResult | Exception]:
        """Append each partition's records; one partition's failure does not stop the
        others. With one in-sync replica acks=all is satisfied as soon as the append is."""
        results: dict[TopicPartition, AppendResult | Exception] = {}
        for tp, records in entries.items():
            try:
                partition = self.partition(tp)
                min_isr = self.topic_config(tp.topic).min_insync_replicas
                results[tp] = partition.append_as_leader(records, required_acks, min_isr)
            except (ReplicaError, LogError, ProducerStateError) as error:
                results[tp] = error
                continue
            self._wake(self._follower_waiters, tp)
        return results

    async def await_replication(
        self, results: dict[TopicPartition, AppendResult | Exception], timeout_ms: int
    ) -> dict[TopicPartition, AppendResult | Exception]:
        """acks=all: hold each successful append until the ISR has it (the HW passed its
        last offset). Kafka's rule: an ISR below min.insync.replicas by then fails the
        partition with NOT_ENOUGH_REPLICAS_AFTER_APPEND although the records are written."""
        required = {
            tp: result.last_offset + 1
            for tp, result in results.items()
            if isinstance(result, AppendResult)
            and self._partitions[tp].high_watermark <= result.last_offset
        }
        outcomes = await self._delayed_produce.wait(required, timeout_ms) if required else {}
        final: dict[TopicPartition, AppendResult | Exception] = {}
        for tp, result in results.items():
            error = outcomes.get(tp)
            if isinstance(result, AppendResult) and error is None:
                error = self._check_isr_after_append(tp)
            final[tp] = error if error is not None else result
        return final

    # -- following -----------------------------------------------------------------------

    def append_fetched(
        self,
        tp: TopicPartition,
        records: bytes | memoryview,
        leader_high_watermark: int,
        leader_log_start: int,
    ) -> None:
        """A follower's append of what it fetched from the partition's leader."""
        self.partition(tp).append_as_follower(records, leader_high_watermark, leader_log_start)

    def maybe_shrink_isrs(self) -> None:
        """Propose removing followers that lag more than replica.lag.time.max.ms."""
        max_lag_ms = int(self._config.values.get("replica.lag.time.max.ms", 30_000))
        for partition in self._partitions.values():
            partition.maybe_shrink_isr(max_lag_ms)

    # -- fetch ---------------------------------------------------------------------------

    async def fetch(
        self,
        requests: list[FetchPartition],
        max_wait_ms: int,
        min_bytes: int,
        max_bytes: int,
        replica_id: int = -1,
    ) -> list[FetchOutcome]:
        """Read every partition; if fewer than `min_bytes` came back and nothing failed,
        wait (at most `max_wait_ms`) for more data and read again. A follower
        (`replica_id` >= 0) reads up to the log end and waits for appends; a consumer
        reads up to the high watermark and waits for it to move."""
        outcomes = self._read_all(requests, max_bytes, replica_id)
        if max_wait_ms <= 0 or not requests or self._satisfied(outcomes, min_bytes):
            return outcomes
        waiters = self._follower_waiters if replica_id >= 0 else self._consumer_waiters
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tps = {request.topic_partition for request in requests}
        for tp in tps:
            waiters.setdefault(tp, set()).add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, max_wait_ms / 1000)
        finally:
            for tp in tps:
                parked = waiters.get(tp)
                if parked is not None:
                    parked.discard(waiter)
                    if not parked:
                        del waiters[tp]
        # A second read after being woken; a later append wakes nobody for this request.
        return self._read_all(requests, max_bytes, replica_id)

    def _read_all(
        self, requests: list[FetchPartition], max_bytes: int, replica_id: int
    ) -> list[FetchOutcome]:
        outcomes: list[FetchOutcome] = []
        remaining = max_bytes
        for request in requests:
            limit = min(request.max_bytes, remaining)
            # KIP-74: the first non-empty partition may exceed the limits.
            min_one_batch = remaining == max_bytes
            try:
                partition = self.partition(request.topic_partition)
                if replica_id >= 0:
                    result = partition.fetch_for_follower(
                        replica_id,
                        request.fetch_offset,
                        max(limit, 0),
                        request.current_leader_epoch,
                        request.last_fetched_epoch,
                        min_one_batch,
                    )
                else:
                    result = partition.read(
                        request.fetch_offset,
                        max(limit, 0),
                        request.current_leader_epoch,
                        request.last_fetched_epoch,
                        min_one_batch=min_one_batch,
                    )
            except (ReplicaError, LogError) as error:
                outcomes.append(FetchOutcome(request, None, error))
                continue
            remaining -= len(result.records)
            outcomes.append(FetchOutcome(request, result, None))
        return outcomes

    @staticmethod
    def _satisfied(outcomes: list[FetchOutcome], min_bytes: int) -> bool:
        if any(outcome.error is not None for outcome in outcomes):
            return True
        if any(o.result is not None and o.result.diverging_epoch for o in outcomes):
            return True
        return sum(outcome.size for outcome in outcomes) >= max(min_bytes, 1)

    def _wake_fetchers(self, tp: TopicPartition) -> None:
        self._wake(self._follower_waiters, tp)
        self._wake(self._consumer_waiters, tp)

    @staticmethod
    def _wake(waiters: dict[TopicPartition, set[asyncio.Future[None]]], tp: TopicPartition) -> None:
        for waiter in waiters.pop(tp, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _high_watermark_advanced(self, tp: TopicPartition) -> None:
        self._wake(self._consumer_waiters, tp)
        partition = self._partitions.get(tp)
        if partition is not None:
            self._delayed_produce.high_watermark_advanced(tp, partition.high_watermark)

    def _send_isr_change(self, change: IsrChange) -> None:
        # Sent from a task of its own: the answer changes the metadata this call came from.
        self._isr_changes.put_nowait(change)

    async def _send_isr_changes(self) -> None:
        while True:
            change = await self._isr_changes.get()
            try:
                await self._propose_isr(change)
            except Exception as error:  # the partition must not stay stuck with it pending
                log.warning("ISR change of %s failed: %s", change.topic_partition, error)
                partition = self._partitions.get(change.topic_partition)
                if partition is not None:
                    partition.isr_change_failed()

    async def _shrink_isrs_periodically(self) -> None:
        interval_s = int(self._config.values.get("replica.lag.time.max.ms", 30_000)) / 2000
        while True:
            await asyncio.sleep(interval_s)
            self.maybe_shrink_isrs()

    def _check_isr_after_append(self, tp: TopicPartition) -> Exception | None:
        partition = self._partitions.get(tp)
        if partition is None:
            return UnknownTopicOrPartitionError(f"this broker does not host {tp}")
        min_isr = self.topic_config(tp.topic).min_insync_replicas
        if len(partition.state.isr) < min_isr:
            return NotEnoughReplicasAfterAppendError(
                f"{tp} has {len(partition.state.isr)} in-sync replicas after the append, "
                f"min.insync.replicas is {min_isr}"
            )
        return None

    def _notify_leadership(self, partition: Partition, hosted: bool) -> None:
        for listener in self.leadership_listeners:
            listener(partition, hosted)

    # -- internals -----------------------------------------------------------------------

    def _expected_log(self, tp: TopicPartition) -> tuple[uuid.UUID, LogConfig] | None:
        topic = self._image.topic(tp.topic)
        if topic is None or tp.partition not in topic.partitions:
            return None
        if self._config.node_id not in topic.partitions[tp.partition].replicas:
            return None
        return topic.topic_id, self.topic_config(tp.topic)

    def _host(self, topic: TopicImage, partition_id: int) -> None:
        state = topic.partitions[partition_id]
        tp = TopicPartition(topic.name, partition_id)
        existing = self._partitions.get(tp)
        if existing is not None:
            was_leader = existing.is_leader
            previous = existing.state
            existing.update_state(state)
            if was_leader and not existing.is_leader:
                self._delayed_produce.leadership_lost(tp)
            if self._config.node_id not in state.replicas:
                # Reassigned away: stop hosting it and drop its log.
                del self._partitions[tp]
                self._notify_leadership(existing, hosted=False)
                self._log_manager.delete(tp)
                self._wake_fetchers(tp)
            elif (previous.leader, previous.leader_epoch) != (state.leader, state.leader_epoch):
                self._notify_leadership(existing, hosted=True)
            return
        if self._config.node_id not in state.replicas:
            return
        partition_log = self._log_manager.get_or_create(
            tp, topic.topic_id, self.topic_config(topic.name)
        )
        partition = Partition(
            tp,
            topic.topic_id,
            partition_log,
            state,
            self._config.node_id,
            self._clock,
            self._listener,
        )
        self._partitions[tp] = partition
        self._notify_leadership(partition, hosted=True)
