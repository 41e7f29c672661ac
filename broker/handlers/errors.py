"""The one place where typed domain errors become Kafka error codes."""

from __future__ import annotations

import logging

from kio.schema.errors import ErrorCode

from strom.broker.config.topic_config import InvalidConfigError
from strom.broker.controller import errors as controller
from strom.broker.coordinator import errors as group
from strom.broker.log import errors as storage
from strom.broker.log import producer_state
from strom.broker.replication import errors as replica
from strom.broker.security import errors as security

log = logging.getLogger(__name__)

_CODES: dict[type[Exception], ErrorCode] = {
    storage.CorruptRecordError: ErrorCode.corrupt_message,
    storage.RecordTooLargeError: ErrorCode.message_too_large,
    storage.OffsetOutOfRangeError: ErrorCode.offset_out_of_range,
    storage.InvalidTimestampError: ErrorCode.invalid_timestamp,
    storage.LogStorageError: ErrorCode.kafka_storage_error,
    producer_state.OutOfOrderSequenceError: ErrorCode.out_of_order_sequence_number,
    producer_state.InvalidProducerEpochError: ErrorCode.invalid_producer_epoch,
    replica.UnknownTopicOrPartitionError: ErrorCode.unknown_topic_or_partition,
    replica.UnknownTopicIdError: ErrorCode.unknown_topic_id,
    replica.NotLeaderOrFollowerError: ErrorCode.not_leader_or_follower,
    replica.FencedLeaderEpochError: ErrorCode.fenced_leader_epoch,
    replica.UnknownLeaderEpochError: ErrorCode.unknown_leader_epoch,
    replica.NotEnoughReplicasError: ErrorCode.not_enough_replicas,
    replica.NotEnoughReplicasAfterAppendError: ErrorCode.not_enough_replicas_after_append,
    replica.ReplicationTimeoutError: ErrorCode.request_timed_out,
    controller.FencedLeaderEpochError: ErrorCode.fenced_leader_epoch,
    controller.InvalidUpdateVersionError: ErrorCode.invalid_update_version,
    controller.IneligibleReplicaError: ErrorCode.ineligible_replica,
    controller.NotControllerError: ErrorCode.not_controller,
    controller.TopicExistsError: ErrorCode.topic_already_exists,
    controller.InvalidTopicError: ErrorCode.invalid_topic_exception,
    controller.UnknownTopicError: ErrorCode.unknown_topic_or_partition,
    controller.UnknownTopicIdError: ErrorCode.unknown_topic_id,
    controller.InvalidPartitionsError: ErrorCode.invalid_partitions,
    controller.InvalidReplicationFactorError: ErrorCode.invalid_replication_factor,
    controller.InvalidReplicaAssignmentError: ErrorCode.invalid_replica_assignment,
    controller.InvalidRequestError: ErrorCode.invalid_request,
    controller.TopicDeletionDisabledError: ErrorCode.topic_deletion_disabled,
    controller.DuplicateBrokerRegistrationError: ErrorCode.duplicate_broker_registration,
    controller.StaleBrokerEpochError: ErrorCode.stale_broker_epoch,
    controller.BrokerIdNotRegisteredError: ErrorCode.broker_id_not_registered,
    controller.ElectionNotNeededError: ErrorCode.election_not_needed,
    controller.PreferredLeaderNotAvailableError: ErrorCode.preferred_leader_not_available,
    controller.EligibleLeadersNotAvailableError: ErrorCode.eligible_leaders_not_available,
    controller.NoReassignmentInProgressError: ErrorCode.no_reassignment_in_progress,
    InvalidConfigError: ErrorCode.invalid_config,
    group.InvalidGroupIdError: ErrorCode.invalid_group_id,
    group.UnknownMemberIdError: ErrorCode.unknown_member_id,
    group.MemberIdRequiredError: ErrorCode.member_id_required,
    group.IllegalGenerationError: ErrorCode.illegal_generation,
    group.RebalanceInProgressError: ErrorCode.rebalance_in_progress,
    group.InconsistentGroupProtocolError: ErrorCode.inconsistent_group_protocol,
    group.InvalidSessionTimeoutError: ErrorCode.invalid_session_timeout,
    group.FencedInstanceIdError: ErrorCode.fenced_instance_id,
    group.GroupIdNotFoundError: ErrorCode.group_id_not_found,
    group.NonEmptyGroupError: ErrorCode.non_empty_group,
    group.OffsetMetadataTooLargeError: ErrorCode.offset_metadata_too_large,
    group.GroupSubscribedToTopicError: ErrorCode.group_subscribed_to_topic,
    group.NotCoordinatorError: ErrorCode.not_coordinator,
    group.CoordinatorLoadInProgressError: ErrorCode.coordinator_load_in_progress,
    group.CoordinatorNotAvailableError: ErrorCode.coordinator_not_available,
    group.InvalidCommitOffsetSizeError: ErrorCode.invalid_commit_offset_size,
    security.AuthenticationFailedError: ErrorCode.sasl_authentication_failed,
    security.UnsupportedSaslMechanismError: ErrorCode.unsupported_sasl_mechanism,
    security.IllegalSaslStateError: ErrorCode.illegal_sasl_state,
    security.UnacceptableCredentialError: ErrorCode.unacceptable_credential,
    security.ResourceNotFoundError: ErrorCode.resource_not_found,
    security.DuplicateResourceError: ErrorCode.duplicate_resource,
    security.InvalidAclError: ErrorCode.invalid_request,
    security.TopicAuthorizationError: ErrorCode.topic_authorization_failed,
    security.GroupAuthorizationError: ErrorCode.group_authorization_failed,
    security.ClusterAuthorizationError: ErrorCode.cluster_authorization_failed,
}


def error_code_for(error: BaseException) -> ErrorCode:
    """Kafka's code for a domain error; anything unexpected is UNKNOWN_SERVER_ERROR (and
    logged, because it is a bug or an unplanned failure)."""
    for cls in type(error).__mro__:
        code = _CODES.get(cls)  # type: ignore[arg-type]
        if code is not None:
            return code
    log.error("unexpected error mapped to UNKNOWN_SERVER_ERROR", exc_info=error)
    return ErrorCode.unknown_server_error


def error_message_for(error: BaseException | None) -> str | None:
    return str(error) if error is not None else None


def error_for_code(code: ErrorCode, message: str) -> Exception:
    """The domain error a peer's Kafka error code stands for (the inverse of
    error_code_for), for answers that come back from another node."""
    for cls, known in _CODES.items():
        if known == code:
            return cls(message)
    return _UnexpectedPeerError(f"{message}: {code.name}")


class _UnexpectedPeerError(Exception):
    """A peer answered with an error code this broker has no domain error for."""
