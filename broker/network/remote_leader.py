"""The replica fetcher's door to a partition leader on another broker: follower Fetch
(v12, with the replica id) and ListOffsets over the inter-broker listener, with Kafka
error codes turned back into the replica layer's exceptions."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from kio.schema.errors import ErrorCode
from kio.schema.fetch.v12 import request as fetch
from kio.schema.list_offsets.v7 import request as list_offsets

from strom.broker.handlers.response_builder import make
from strom.broker.log.errors import CorruptRecordError, LogStorageError, OffsetOutOfRangeError
from strom.broker.network.node_connections import NodeConnections
from strom.broker.replication.errors import (
    FencedLeaderEpochError,
    NotLeaderOrFollowerError,
    ReplicaError,
    UnknownLeaderEpochError,
    UnknownTopicOrPartitionError,
)
from strom.broker.replication.fetcher import FetchedPartition, FetcherSettings, FetchPosition
from strom.broker.topic_partition import TopicPartition

_ERRORS: dict[ErrorCode, type[Exception]] = {
    ErrorCode.offset_out_of_range: OffsetOutOfRangeError,
    ErrorCode.not_leader_or_follower: NotLeaderOrFollowerError,
    ErrorCode.fenced_leader_epoch: FencedLeaderEpochError,
    ErrorCode.unknown_leader_epoch: UnknownLeaderEpochError,
    ErrorCode.unknown_topic_or_partition: UnknownTopicOrPartitionError,
    ErrorCode.corrupt_message: CorruptRecordError,
    ErrorCode.kafka_storage_error: LogStorageError,
}


class RemoteLeaderEndpoint:
    def __init__(
        self,
        connections: NodeConnections,
        replica_id: int,
        address_of: Callable[[int], tuple[str, int] | None],
    ) -> None:
        self._connections = connections
        self._replica_id = replica_id
        self._address_of = address_of

    def _resolve(self, leader_id: int) -> None:
        """Brokers register their listeners in the metadata; follow a moved leader."""
        address = self._address_of(leader_id)
        if address is not None:
            self._connections.update_nodes({leader_id: address})

    async def fetch(
        self, leader_id: int, positions: Sequence[FetchPosition], settings: FetcherSettings
    ) -> list[FetchedPartition]:
        by_topic: dict[str, list[FetchPosition]] = {}
        for position in positions:
            by_topic.setdefault(position.topic_partition.topic, []).append(position)
        request = make(
            fetch.FetchRequest,
            replica_id=self._replica_id,
            max_wait=datetime.timedelta(milliseconds=settings.max_wait_ms),
            min_bytes=settings.min_bytes,
            max_bytes=settings.response_max_bytes,
            topics=tuple(
                fetch.FetchTopic(
                    topic=topic,
                    partitions=tuple(
                        make(
                            fetch.FetchPartition,
                            partition=p.topic_partition.partition,
                            current_leader_epoch=p.current_leader_epoch,
                            fetch_offset=p.fetch_offset,
                            last_fetched_epoch=p.last_fetched_epoch,
                            partition_max_bytes=settings.max_bytes,
                        )
                        for p in wanted
                    ),
                )
                for topic, wanted in by_topic.items()
            ),
            forgotten_topics_data=(),
            rack_id="",
        )
        timeout_ms = settings.request_timeout_ms + settings.max_wait_ms
        self._resolve(leader_id)
        response = await self._connections.send(leader_id, request, timeout_ms)
        if response.error_code != ErrorCode.none:
            error = _error(response.error_code, f"fetch from broker {leader_id}")
            return [FetchedPartition(p.topic_partition, error) for p in positions]
        return [
            _partition(TopicPartition(topic.topic, int(data.partition_index)), data)
            for topic in response.responses
            for data in topic.partitions
        ]

    async def list_offset(
        self, leader_id: int, position: FetchPosition, timestamp: int, timeout_ms: int
    ) -> int:
        tp = position.topic_partition
        request = make(
            list_offsets.ListOffsetsRequest,
            replica_id=self._replica_id,
            isolation_level=0,
            topics=(
                list_offsets.ListOffsetsTopic(
                    name=tp.topic,
                    partitions=(
                        make(
                            list_offsets.ListOffsetsPartition,
                            partition_index=tp.partition,
                            current_leader_epoch=position.current_leader_epoch,
                            timestamp=timestamp,
                        ),
                    ),
                ),
            ),
        )
        self._resolve(leader_id)
        response = await self._connections.send(leader_id, request, timeout_ms)
        answer = response.topics[0].partitions[0]
        if answer.error_code != ErrorCode.none:
            raise _error(answer.error_code, f"ListOffsets of {tp} on broker {leader_id}")
        return int(answer.offset)


def _partition(tp: TopicPartition, data: Any) -> FetchedPartition:
    if data.error_code != ErrorCode.none:
        return FetchedPartition(tp, _error(data.error_code, f"fetch of {tp}"))
    diverging = data.diverging_epoch
    return FetchedPartition(
        tp,
        None,
        bytes(data.records or b""),
        int(data.high_watermark),
        int(data.log_start_offset),
        # (-1, -1) is the field's default: no divergence.
        (int(diverging.epoch), int(diverging.end_offset)) if diverging.end_offset >= 0 else None,
    )


def _error(code: ErrorCode, context: str) -> Exception:
    return _ERRORS.get(code, ReplicaError)(f"{context}: {code.name}")
