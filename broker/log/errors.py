"""Typed errors of the storage layer; the handler edge maps them to Kafka error codes."""

from __future__ import annotations


class LogError(Exception):
    """Base of every error the log layer raises on purpose."""


class CorruptRecordError(LogError):
    """A batch failed validation (CRC, magic, lengths): Kafka's CORRUPT_MESSAGE."""


class RecordTooLargeError(LogError):
    """A batch exceeds max.message.bytes: Kafka's MESSAGE_TOO_LARGE."""


class OffsetOutOfRangeError(LogError):
    """A read below the log start offset or above the log end offset."""


class LogStorageError(LogError):
    """The disk failed us (I/O error, unreadable directory): Kafka's KAFKA_STORAGE_ERROR."""


class InvalidTimestampError(LogError):
    """A CreateTime timestamp outside message.timestamp.before/after.max.ms."""
