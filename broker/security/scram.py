"""SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as Kafka speaks it: credentials and the
server side of the exchange.

The broker stores only salt, StoredKey, ServerKey and the iteration count. A login for an
unknown user runs the same exchange with a throwaway credential and fails at the end, so
failures do not reveal which users exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from strom.broker.security.errors import AuthenticationFailedError, IllegalSaslStateError

MECHANISMS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384
_NONCE_BYTES = 24


@dataclass(frozen=True, slots=True)
class ScramCredential:
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int


def make_credential(
    mechanism: str, password: bytes, iterations: int = MIN_ITERATIONS, salt: bytes | None = None
) -> ScramCredential:
    salt = salt if salt is not None else os.urandom(32)
    salted = salted_password(mechanism, password, salt, iterations)
    return credential_from_salted_password(mechanism, salted, salt, iterations)


def salted_password(mechanism: str, password: bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac(MECHANISMS[mechanism], password, salt, iterations)


def credential_from_salted_password(
    mechanism: str, salted: bytes, salt: bytes, iterations: int
) -> ScramCredential:
    digest = MECHANISMS[mechanism]
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    return ScramCredential(salt, hashlib.new(digest, client_key).digest(), server_key, iterations)


def verify_password(mechanism: str, credential: ScramCredential, password: bytes) -> bool:
    """Whether `password` matches (PLAIN logins are checked against SCRAM credentials)."""
    salted = salted_password(mechanism, password, credential.salt, credential.iterations)
    candidate = credential_from_salted_password(
        mechanism, salted, credential.salt, credential.iterations
    )
    return hmac.compare_digest(candidate.stored_key, credential.stored_key)


class ScramServer:
    """One SCRAM exchange: client-first → server-first, client-final → server-final."""

    def __init__(self, mechanism: str, lookup: Callable[[str], ScramCredential | None]) -> None:
        self.mechanism = mechanism
        self._digest = MECHANISMS[mechanism]
        self._lookup = lookup
        self._state = "first"
        self._username = ""
        self._credential: ScramCredential | None = None
        self._known_user = False
        self._nonce = ""
        self._client_first_bare = ""
        self._server_first = ""
        self._gs2_header = ""

    @property
    def username(self) -> str:
        return self._username

    def evaluate(self, message: bytes) -> tuple[bytes, bool]:
        """Answer one client message; returns (response, done)."""
        if self._state == "first":
            return self._first(message), False
        if self._state == "final":
            return self._final(message), True
        raise IllegalSaslStateError("the SCRAM exchange is already complete")

    def _first(self, message: bytes) -> bytes:
        text = _decode(message)
        parts = text.split(",", 2)
        if len(parts) != 3 or parts[0] not in ("n", "y") or not parts[2]:
            raise AuthenticationFailedError("malformed SCRAM client-first message")
        self._gs2_header = f"{parts[0]},{parts[1]},"
        self._client_first_bare = parts[2]
        attributes = _attributes(parts[2])
        if "m" in attributes or "n" not in attributes or "r" not in attributes:
            raise AuthenticationFailedError("malformed SCRAM client-first message")
        self._username = attributes["n"].replace("=2C", ",").replace("=3D", "=")
        credential = self._lookup(self._username)
        self._known_user = credential is not None
        self._credential = credential or make_credential(self.mechanism, os.urandom(16))
        client_nonce = attributes["r"]
        if not client_nonce:
            raise AuthenticationFailedError("malformed SCRAM client-first message")
        self._nonce = client_nonce + base64.b64encode(os.urandom(_NONCE_BYTES)).decode()
        salt = base64.b64encode(self._credential.salt).decode()
        self._server_first = f"r={self._nonce},s={salt},i={self._credential.iterations}"
        self._state = "final"
        return self._server_first.encode()

    def _final(self, message: bytes) -> bytes:
        self._state = "done"
        text = _decode(message)
        without_proof, separator, proof_part = text.rpartition(",p=")
        attributes = _attributes(without_proof)
        if not separator or attributes.get("r") != self._nonce:
            raise AuthenticationFailedError("Authentication failed: invalid credentials")
        try:
            channel = base64.b64decode(attributes.get("c", ""), validate=True).decode()
            proof = base64.b64decode(proof_part, validate=True)
        except (ValueError, UnicodeDecodeError):
            raise AuthenticationFailedError("malformed SCRAM client-final message") from None
        if channel != self._gs2_header:
            raise AuthenticationFailedError("Authentication failed: invalid credentials")
        assert self._credential is not None
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode()
        signature = hmac.new(self._credential.stored_key, auth_message, self._digest).digest()
        if len(proof) != len(signature):
            raise AuthenticationFailedError("Authentication failed: invalid credentials")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        stored = hashlib.new(self._digest, client_key).digest()
        if not self._known_user or not hmac.compare_digest(stored, self._credential.stored_key):
            raise AuthenticationFailedError("Authentication failed: invalid credentials")
        server_signature = hmac.new(self._credential.server_key, auth_message, self._digest)
        return b"v=" + base64.b64encode(server_signature.digest())


def _decode(message: bytes) -> str:
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthenticationFailedError("SCRAM messages must be UTF-8") from None


def _attributes(text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for item in text.split(","):
        key, equals, value = item.partition("=")
        if not equals or len(key) != 1:
            raise AuthenticationFailedError("malformed SCRAM message")
        attributes.setdefault(key, value)
    return attributes


# Kafka's ScramMechanism ids, as AlterUserScramCredentials and DescribeUserScramCredentials
# carry them.
MECHANISM_IDS = {"SCRAM-SHA-256": 1, "SCRAM-SHA-512": 2}
MECHANISM_NAMES = {value: key for key, value in MECHANISM_IDS.items()}
