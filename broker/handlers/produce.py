"""Produce: append each partition's record batch and answer with its offsets.

acks=0 gets no response at all; acks=1 and acks=-1 are answered once the append (and, with
replicas, the high watermark) is where the acks ask for.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for, error_message_for
from strom.broker.handlers.response_builder import (
    NO_THROTTLE,
    make,
    response_module,
    timestamp_or_none,
)
from strom.broker.log.partition_log import AppendResult
from strom.broker.log.record_batch import ATTRIBUTES, HEADER_SIZE
from strom.broker.security.acls import AclOperation, ResourceType
from strom.broker.topic_partition import TopicPartition

API_KEY = 0
_TRANSACTIONAL_BIT = 0x10


async def handle_produce(request: Any, ctx: RequestContext) -> Any | None:
    services = ctx.services
    acks = request.acks
    entries: dict[TopicPartition, bytes | memoryview] = {}
    refused: dict[TopicPartition, tuple[ErrorCode, str]] = {}
    for topic in request.topic_data:
        for partition in topic.partition_data:
            tp = TopicPartition(topic.name, partition.index)
            records = partition.records
            if not ctx.allowed(AclOperation.WRITE, ResourceType.TOPIC, topic.name):
                refused[tp] = (ErrorCode.topic_authorization_failed, "Topic authorization failed.")
            elif _is_internal(ctx, topic.name):
                refused[tp] = (
                    ErrorCode.invalid_topic_exception,
                    f"Cannot append to internal topic {topic.name}",
                )
            elif acks not in (-1, 0, 1):
                refused[tp] = (ErrorCode.invalid_required_acks, f"acks={acks} is not -1, 0 or 1")
            elif request.transactional_id is not None or _is_transactional(records):
                refused[tp] = (
                    ErrorCode.invalid_txn_state,
                    "transactional produce is not supported by this broker yet",
                )
            else:
                entries[tp] = records or b""
    results = services.replica_manager.append_records(entries, acks)
    if acks == -1:
        results = await services.replica_manager.await_replication(
            results, int(request.timeout.total_seconds() * 1000)
        )
    for tp, result in results.items():
        if isinstance(result, AppendResult) and not result.duplicate:
            services.metrics.record_produce(tp.topic, len(entries[tp]), result.records_count)
    if acks == 0:
        return None
    module = response_module(API_KEY, ctx.api_version)
    responses = []
    for topic in request.topic_data:
        partitions = []
        for partition in topic.partition_data:
            tp = TopicPartition(topic.name, partition.index)
            partitions.append(_partition_response(module, tp, refused.get(tp), results.get(tp)))
        responses.append(
            make(
                module.TopicProduceResponse, name=topic.name, partition_responses=tuple(partitions)
            )
        )
    return make(module.ProduceResponse, responses=tuple(responses), throttle_time=NO_THROTTLE)


def _partition_response(
    module: Any,
    tp: TopicPartition,
    refusal: tuple[ErrorCode, str] | None,
    result: AppendResult | Exception | None,
) -> Any:
    if refusal is not None:
        code, message = refusal
        return _error(module, tp, code, message)
    if isinstance(result, AppendResult):
        return make(
            module.PartitionProduceResponse,
            index=tp.partition,
            error_code=ErrorCode.none,
            base_offset=result.base_offset,
            log_append_time=timestamp_or_none(result.log_append_time),
            log_start_offset=result.log_start_offset,
            record_errors=(),
            error_message=None,
        )
    assert result is not None
    return _error(module, tp, error_code_for(result), error_message_for(result))


def _error(module: Any, tp: TopicPartition, code: ErrorCode, message: str | None) -> Any:
    return make(
        module.PartitionProduceResponse,
        index=tp.partition,
        error_code=code,
        base_offset=-1,
        log_append_time=None,
        log_start_offset=-1,
        record_errors=(),
        error_message=message,
    )


def _is_internal(ctx: RequestContext, name: str) -> bool:
    topic = ctx.services.image.topic(name)
    return topic is not None and topic.is_internal


def _is_transactional(records: bytes | None) -> bool:
    if not records or len(records) < HEADER_SIZE:
        return False
    return bool(records[ATTRIBUTES + 1] & _TRANSACTIONAL_BIT)
