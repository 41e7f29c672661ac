"""Typed errors of the replica layer; the handler edge maps them to Kafka error codes."""

from __future__ import annotations


class ReplicaError(Exception):
    """Base of every error the replica layer raises on purpose."""


class UnknownTopicOrPartitionError(ReplicaError):
    pass


class UnknownTopicIdError(ReplicaError):
    pass


class NotLeaderOrFollowerError(ReplicaError):
    pass


class FencedLeaderEpochError(ReplicaError):
    """The client's leader epoch is older than the partition's."""


class UnknownLeaderEpochError(ReplicaError):
    """The client's leader epoch is newer than this broker knows (its metadata lags)."""


class NotEnoughReplicasError(ReplicaError):
    """acks=all with fewer in-sync replicas than min.insync.replicas."""


class NotEnoughReplicasAfterAppendError(ReplicaError):
    """acks=all: the records were written, but the ISR shrank below min.insync.replicas
    before they were committed."""


class ReplicationTimeoutError(ReplicaError):
    """acks=all: the ISR did not replicate the records within the request's timeout."""
