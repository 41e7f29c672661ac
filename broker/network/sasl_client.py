"""The client side of a SASL login, run first on a connection to a SASL listener:
SaslHandshake v1, then SaslAuthenticate rounds — one for PLAIN, two for SCRAM-SHA-256/512
(RFC 5802 without channel binding, as Kafka speaks it). The key derivation is the server's
(strom.broker.security.scram), so both sides compute proofs the same way."""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kio.schema.errors import ErrorCode
from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest

from strom.broker.security.scram import (
    MECHANISMS,
    MIN_ITERATIONS,
    credential_from_salted_password,
    salted_password,
)

PLAIN = "PLAIN"
SUPPORTED_MECHANISMS = (PLAIN, *MECHANISMS)
_NONCE_BYTES = 24
_GS2_HEADER = "n,,"  # no channel binding, no authorization identity

# Sends one kio request with a timeout in seconds and returns kio's response.
Send = Callable[[Any, float], Awaitable[Any]]


class SaslAuthenticationError(ConnectionError):
    """The peer refused the login: mechanism not enabled, bad credentials, or a SCRAM
    exchange that did not verify (the server could not prove it knows the password)."""


@dataclass(frozen=True, slots=True)
class SaslCredentials:
    mechanism: str  # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if self.mechanism not in SUPPORTED_MECHANISMS:
            raise ValueError(
                f"SASL mechanism {self.mechanism!r} is not one of {', '.join(SUPPORTED_MECHANISMS)}"
            )


async def authenticate(send: Send, credentials: SaslCredentials, timeout_s: float) -> None:
    """Log in on a fresh connection; raises SaslAuthenticationError when refused."""
    handshake = await send(SaslHandshakeRequest(mechanism=credentials.mechanism), timeout_s)
    if handshake.error_code != ErrorCode.none:
        offered = ", ".join(handshake.mechanisms) or "none"
        raise SaslAuthenticationError(
            f"SASL mechanism {credentials.mechanism} is not enabled (offered: {offered})"
        )
    if credentials.mechanism == PLAIN:
        token = b"\0" + credentials.username.encode() + b"\0" + credentials.password.encode()
        await _round(send, token, timeout_s)
        return
    scram = ScramClient(credentials.mechanism, credentials.username, credentials.password)
    server_first = await _round(send, scram.client_first(), timeout_s)
    server_final = await _round(send, scram.client_final(server_first), timeout_s)
    scram.verify_server_final(server_final)


class ScramClient:
    """One SCRAM exchange: client-first → server-first, client-final → server-final."""

    def __init__(
        self, mechanism: str, username: str, password: str, nonce: str | None = None
    ) -> None:
        self._mechanism = mechanism
        self._digest = MECHANISMS[mechanism]
        self._username = username
        self._password = password
        self._nonce = nonce or base64.b64encode(os.urandom(_NONCE_BYTES)).decode()
        self._client_first_bare = ""
        self._server_signature = b""

    def client_first(self) -> bytes:
        name = self._username.replace("=", "=3D").replace(",", "=2C")
        self._client_first_bare = f"n={name},r={self._nonce}"
        return (_GS2_HEADER + self._client_first_bare).encode()

    def client_final(self, server_first: bytes) -> bytes:
        text = _decode(server_first)
        attributes = _attributes(text)
        nonce = attributes.get("r", "")
        if not nonce.startswith(self._nonce) or len(nonce) <= len(self._nonce):
            raise SaslAuthenticationError("SCRAM server nonce does not extend the client's")
        try:
            salt = base64.b64decode(attributes["s"], validate=True)
            iterations = int(attributes["i"])
        except (KeyError, ValueError):
            raise SaslAuthenticationError("malformed SCRAM server-first message") from None
        if iterations < MIN_ITERATIONS:
            raise SaslAuthenticationError(f"SCRAM iteration count {iterations} is too low")
        salted = salted_password(self._mechanism, self._password.encode(), salt, iterations)
        credential = credential_from_salted_password(self._mechanism, salted, salt, iterations)
        client_key = hmac.new(salted, b"Client Key", self._digest).digest()
        channel = base64.b64encode(_GS2_HEADER.encode()).decode()
        without_proof = f"c={channel},r={nonce}"
        auth_message = f"{self._client_first_bare},{text},{without_proof}".encode()
        signature = hmac.new(credential.stored_key, auth_message, self._digest).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._server_signature = hmac.new(
            credential.server_key, auth_message, self._digest
        ).digest()
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify_server_final(self, server_final: bytes) -> None:
        attributes = _attributes(_decode(server_final))
        if "e" in attributes:
            raise SaslAuthenticationError(f"SCRAM login refused: {attributes['e']}")
        try:
            signature = base64.b64decode(attributes["v"], validate=True)
        except (KeyError, ValueError):
            raise SaslAuthenticationError("malformed SCRAM server-final message") from None
        if not self._server_signature or not hmac.compare_digest(signature, self._server_signature):
            raise SaslAuthenticationError("the SCRAM server signature does not verify")


async def _round(send: Send, token: bytes, timeout_s: float) -> bytes:
    response = await send(SaslAuthenticateRequest(auth_bytes=token), timeout_s)
    if response.error_code != ErrorCode.none:
        detail = response.error_message or response.error_code.name
        raise SaslAuthenticationError(f"SASL login refused: {detail}")
    return bytes(response.auth_bytes)


def _decode(message: bytes) -> str:
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslAuthenticationError("SCRAM messages must be UTF-8") from None


def _attributes(text: str) -> dict[str, str]:
    """`k=v` pairs of a SCRAM message (values may contain `=`; the first key wins)."""
    attributes: dict[str, str] = {}
    for item in text.split(","):
        key, equals, value = item.partition("=")
        if equals and len(key) == 1:
            attributes.setdefault(key, value)
    return attributes
