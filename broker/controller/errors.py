"""Typed errors of metadata changes; the handler edge maps them to Kafka error codes."""

from __future__ import annotations


class ControllerError(Exception):
    """Base of every error the controller raises on purpose."""


class TopicExistsError(ControllerError):
    pass


class InvalidTopicError(ControllerError):
    pass


class UnknownTopicError(ControllerError):
    pass


class UnknownTopicIdError(ControllerError):
    pass


class InvalidPartitionsError(ControllerError):
    pass


class InvalidReplicationFactorError(ControllerError):
    pass


class InvalidReplicaAssignmentError(ControllerError):
    pass


class InvalidRequestError(ControllerError):
    pass


class TopicDeletionDisabledError(ControllerError):
    pass


class FencedLeaderEpochError(ControllerError):
    """AlterPartition from a leader whose epoch the controller has moved past."""


class InvalidUpdateVersionError(ControllerError):
    """AlterPartition based on a partition epoch that is no longer current."""


class IneligibleReplicaError(ControllerError):
    """AlterPartition adding a replica that may not join the ISR (fenced, not assigned)."""


class NotControllerError(ControllerError):
    """This node is not the active controller."""
