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
