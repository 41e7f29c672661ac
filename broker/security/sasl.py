"""SASL on one connection: which mechanism, how far the exchange got, who logged in.

PLAIN passwords are checked against the SCRAM credentials in cluster metadata (so one
stored, salted credential serves both mechanisms) and against `strom.sasl.plain.users`
from the broker config, if set. Nothing here ever logs a password or a proof.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from strom.broker.security.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    UnsupportedSaslMechanismError,
)
from strom.broker.security.scram import MECHANISMS, ScramCredential, ScramServer, verify_password

PLAIN = "PLAIN"

# Looks up a SCRAM credential by (user, mechanism).
CredentialLookup = Callable[[str, str], ScramCredential | None]


class SaslState(enum.Enum):
    HANDSHAKE = "handshake"
    AUTHENTICATE = "authenticate"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SaslSettings:
    enabled_mechanisms: tuple[str, ...]
    plain_users: Mapping[str, str]  # user → password, from the broker config


class SaslAuthenticator:
    def __init__(self, settings: SaslSettings, credentials: CredentialLookup) -> None:
        self._settings = settings
        self._credentials = credentials
        self.state = SaslState.HANDSHAKE
        self.mechanism: str | None = None
        self.principal: str | None = None
        self._scram: ScramServer | None = None

    @property
    def failed(self) -> bool:
        return self.state is SaslState.FAILED

    @property
    def enabled_mechanisms(self) -> tuple[str, ...]:
        return self._settings.enabled_mechanisms

    def handshake(self, mechanism: str) -> None:
        if self.state is not SaslState.HANDSHAKE:
            raise IllegalSaslStateError("SaslHandshake was already sent on this connection")
        if mechanism not in self._settings.enabled_mechanisms:
            raise UnsupportedSaslMechanismError(
                f"Unsupported SASL mechanism {mechanism}; enabled: "
                + ", ".join(self._settings.enabled_mechanisms)
            )
        self.mechanism = mechanism
        if mechanism in MECHANISMS:
            self._scram = ScramServer(mechanism, lambda user: self._credentials(user, mechanism))
        self.state = SaslState.AUTHENTICATE

    def authenticate(self, token: bytes) -> bytes:
        """Consume one SaslAuthenticate token; returns the server's answer. Raises
        AuthenticationFailedError (and stays failed) on any bad login."""
        if self.state is not SaslState.AUTHENTICATE:
            raise IllegalSaslStateError(
                f"SaslAuthenticate is not expected in state {self.state.value}"
            )
        try:
            if self.mechanism == PLAIN:
                self.principal = f"User:{self._plain(token)}"
                self.state = SaslState.COMPLETE
                return b""
            assert self._scram is not None
            answer, done = self._scram.evaluate(token)
            if done:
                self.principal = f"User:{self._scram.username}"
                self.state = SaslState.COMPLETE
            return answer
        except AuthenticationFailedError:
            self.state = SaslState.FAILED
            raise

    def _plain(self, token: bytes) -> str:
        parts = token.split(b"\0")
        if len(parts) != 3:
            raise AuthenticationFailedError("Invalid SASL/PLAIN response: expected 3 fields")
        authzid, user_bytes, password = parts
        try:
            user = user_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailedError("Authentication failed: invalid credentials") from None
        if not user or (authzid and authzid != user_bytes):
            raise AuthenticationFailedError("Authentication failed: invalid credentials")
        configured = self._settings.plain_users.get(user)
        if configured is not None and hmac.compare_digest(configured.encode(), password):
            return user
        for mechanism in MECHANISMS:
            credential = self._credentials(user, mechanism)
            if credential is not None and verify_password(mechanism, credential, password):
                return user
        raise AuthenticationFailedError("Authentication failed: Invalid username or password")
