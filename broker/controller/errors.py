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


class DuplicateBrokerRegistrationError(ControllerError):
    """Another live process already holds this broker id (a duplicate node.id)."""


class StaleBrokerEpochError(ControllerError):
    """A request from an earlier registration of the broker."""


class BrokerIdNotRegisteredError(ControllerError):
    pass


class ElectionNotNeededError(ControllerError):
    """The partition already has the leader the election would choose."""


class PreferredLeaderNotAvailableError(ControllerError):
    pass


class EligibleLeadersNotAvailableError(ControllerError):
    pass


class NoReassignmentInProgressError(ControllerError):
    pass


class ControllerTimeoutError(ControllerError):
    """The change was proposed but not committed in time; it may still take effect."""
