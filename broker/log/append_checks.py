"""Checks a leader makes on produced batches before it assigns them offsets: size against
max.message.bytes, wire format and CRC, and CreateTime bounds (or LogAppendTime)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from strom.broker.log.errors import InvalidTimestampError, RecordTooLargeError
from strom.broker.log.record_batch import (
    NO_TIMESTAMP,
    RecordBatchHeader,
    TimestampType,
    validate_batch,
)


class TimestampPolicy(Protocol):
    message_timestamp_type: str
    message_timestamp_before_max_ms: int
    message_timestamp_after_max_ms: int


def validate_produced_batch(batch: memoryview, max_message_bytes: int) -> RecordBatchHeader:
    if len(batch) > max_message_bytes:
        raise RecordTooLargeError(
            f"record batch of {len(batch)} bytes exceeds max.message.bytes {max_message_bytes}"
        )
    return validate_batch(batch, len(batch))


def broker_timestamp(
    policy: TimestampPolicy, headers: Sequence[RecordBatchHeader], now: int
) -> int:
    """LogAppendTime for the topic, or the CreateTime bounds check; returns the broker
    timestamp to stamp (or NO_TIMESTAMP)."""
    if policy.message_timestamp_type == "LogAppendTime":
        return now
    before = policy.message_timestamp_before_max_ms
    after = policy.message_timestamp_after_max_ms
    for header in headers:
        if header.timestamp_type == TimestampType.LOG_APPEND_TIME:
            continue
        for timestamp in (header.base_timestamp, header.max_timestamp):
            if timestamp == NO_TIMESTAMP:
                continue
            if now - timestamp > before or timestamp - now > after:
                raise InvalidTimestampError(
                    f"timestamp {timestamp} is out of range for "
                    f"message.timestamp.before.max.ms / after.max.ms at {now}"
                )
    return NO_TIMESTAMP
