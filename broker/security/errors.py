"""Security failures, named after the Kafka errors the handler edge sends."""

from __future__ import annotations


class SecurityError(Exception):
    """Base of authentication and authorization failures."""


class AuthenticationFailedError(SecurityError):
    """SASL_AUTHENTICATION_FAILED. The message never names which part was wrong."""


class UnsupportedSaslMechanismError(SecurityError):
    pass


class IllegalSaslStateError(SecurityError):
    pass


class UnacceptableCredentialError(SecurityError):
    """A SCRAM credential with too few or too many iterations, or no user name."""


class ResourceNotFoundError(SecurityError):
    """A SCRAM credential to delete does not exist."""


class DuplicateResourceError(SecurityError):
    """The same user and mechanism appear twice in one request."""


class InvalidAclError(SecurityError):
    """An ACL binding or filter CreateAcls/DeleteAcls cannot use (INVALID_REQUEST)."""


class AuthorizationError(SecurityError):
    """Base of TOPIC/GROUP/CLUSTER/TRANSACTIONAL_ID_AUTHORIZATION_FAILED."""


class TopicAuthorizationError(AuthorizationError):
    pass


class GroupAuthorizationError(AuthorizationError):
    pass


class ClusterAuthorizationError(AuthorizationError):
    pass
