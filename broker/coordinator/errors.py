"""Group coordinator failures, named after the Kafka errors the handler edge sends."""

from __future__ import annotations


class GroupError(Exception):
    """Base of every group coordinator error."""


class InvalidGroupIdError(GroupError):
    pass


class UnknownMemberIdError(GroupError):
    pass


class MemberIdRequiredError(GroupError):
    """The first JoinGroup (v4+) of a dynamic member: rejoin with this member id."""

    def __init__(self, member_id: str) -> None:
        super().__init__(f"rejoin with member id {member_id}")
        self.member_id = member_id


class IllegalGenerationError(GroupError):
    pass


class RebalanceInProgressError(GroupError):
    pass


class InconsistentGroupProtocolError(GroupError):
    pass


class InvalidSessionTimeoutError(GroupError):
    pass


class FencedInstanceIdError(GroupError):
    pass


class GroupIdNotFoundError(GroupError):
    pass


class NonEmptyGroupError(GroupError):
    pass


class OffsetMetadataTooLargeError(GroupError):
    pass


class GroupSubscribedToTopicError(GroupError):
    pass


class NotCoordinatorError(GroupError):
    """This broker does not lead the group's `__consumer_offsets` partition (any more)."""


class CoordinatorLoadInProgressError(GroupError):
    """This broker is still replaying the group's `__consumer_offsets` partition."""


class CoordinatorNotAvailableError(GroupError):
    """The coordinator cannot serve the group right now (its write did not reach enough
    replicas in time, or the group is being deleted): find the coordinator and retry."""


class InvalidCommitOffsetSizeError(GroupError):
    """The offset commit is too large to be written to `__consumer_offsets`."""


class CoordinatorWriteError(GroupError):
    """A write to `__consumer_offsets` failed unexpectedly (UNKNOWN_SERVER_ERROR)."""


class GroupMetadataTooLargeError(CoordinatorWriteError):
    """The group's membership record exceeds what `__consumer_offsets` accepts."""
