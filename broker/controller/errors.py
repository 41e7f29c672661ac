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
