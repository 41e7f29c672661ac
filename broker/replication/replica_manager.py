"""The partitions this broker hosts (Kafka's ReplicaManager): follows the cluster metadata
to create and delete logs, appends produced batches and serves fetches, parking fetches
that want more data until it arrives or their wait runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.topic_config import TopicConfig
from strom.broker.log.errors import LogError
from strom.broker.log.manager import LogManager
from strom.broker.log.partition_log import AppendResult, LogConfig
from strom.broker.log.producer_state import ProducerStateError
from strom.broker.metadata.image import MetadataChange, MetadataImage, TopicImage
from strom.broker.metadata.records import ConfigRecord, PartitionRecord, RemoveTopicRecord
from strom.broker.replication.errors import ReplicaError, UnknownTopicOrPartitionError
from strom.broker.replication.partition import Partition, ReadResult
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


class ReplicaManager:
    def __init__(self, config: BrokerConfig, log_manager: LogManager, image: MetadataImage) -> None:
        self._config = config
        self._log_manager = log_manager
        self._image = image
        self._partitions: dict[TopicPartition, Partition] = {}
        self._topic_configs: dict[str, TopicConfig] = {}
        self._fetch_waiters: dict[TopicPartition, set[asyncio.Future[None]]] = {}

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
                self._partitions.pop(tp, None)
                self._log_manager.delete(tp)
                self._wake_fetchers(tp)
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
            self._wake_fetchers(tp)
        return results

    # -- fetch ---------------------------------------------------------------------------

    async def fetch(
        self,
        requests: list[FetchPartition],
        max_wait_ms: int,
        min_bytes: int,
        max_bytes: int,
    ) -> list[FetchOutcome]:
        """Read every partition; if fewer than `min_bytes` came back and nothing failed,
        wait (at most `max_wait_ms`) for an append to one of them and read again."""
        outcomes = self._read_all(requests, max_bytes)
        if max_wait_ms <= 0 or not requests or self._satisfied(outcomes, min_bytes):
            return outcomes
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tps = {request.topic_partition for request in requests}
        for tp in tps:
            self._fetch_waiters.setdefault(tp, set()).add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, max_wait_ms / 1000)
        finally:
            for tp in tps:
                waiters = self._fetch_waiters.get(tp)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._fetch_waiters[tp]
        # A second read after being woken; a later append wakes nobody for this request.
        return self._read_all(requests, max_bytes)

    def _read_all(self, requests: list[FetchPartition], max_bytes: int) -> list[FetchOutcome]:
        outcomes: list[FetchOutcome] = []
        remaining = max_bytes
        for request in requests:
            limit = min(request.max_bytes, remaining)
            try:
                partition = self.partition(request.topic_partition)
                result = partition.read(
                    request.fetch_offset,
                    max(limit, 0),
                    request.current_leader_epoch,
                    request.last_fetched_epoch,
                    # KIP-74: the first non-empty partition may exceed the limits.
                    min_one_batch=remaining == max_bytes,
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
        for waiter in self._fetch_waiters.pop(tp, ()):
            if not waiter.done():
                waiter.set_result(None)

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
            existing.update_state(state)
            return
        if self._config.node_id not in state.replicas:
            return
        partition_log = self._log_manager.get_or_create(
            tp, topic.topic_id, self.topic_config(topic.name)
        )
        self._partitions[tp] = Partition(
            tp, topic.topic_id, partition_log, state, self._config.node_id
        )
