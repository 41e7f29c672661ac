"""Credentials of the API itself: the platform admin token and API key secrets.

API key secrets are stored only as argon2id hashes. Because argon2 is deliberately slow, a
verified secret is remembered as SHA-256(hash, secret), never in clear: rotating a key changes
its hash, so a remembered old secret stops matching at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from strom.controlplane.core.config import Settings

TOKEN_SEPARATOR = "."
_VERIFIED_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class ApiKeyToken:
    """A bearer token `<key-id>.<secret>` split into its parts."""

    key_id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.key_id}{TOKEN_SEPARATOR}{self.secret}"


def parse_api_key_token(token: str) -> ApiKeyToken | None:
    """Split a bearer token into key id and secret; None when it is not shaped like one."""
    key_id, separator, secret = token.partition(TOKEN_SEPARATOR)
    if not separator or not key_id.startswith("key-") or not secret:
        return None
    return ApiKeyToken(key_id, secret)


def new_secret() -> str:
    """A fresh API key secret: 256 random bits, URL-safe, never containing the separator."""
    return secrets.token_urlsafe(32)


def tokens_equal(presented: str, expected: str) -> bool:
    """Constant-time comparison, so response timing does not reveal a token's prefix."""
    return hmac.compare_digest(presented.encode(), expected.encode())


def resolve_admin_token(settings: Settings) -> str:
    """The admin token from settings, else from (or newly written to) the 0600 token file."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = settings.admin_token_path
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    return _write_new_admin_token(path)


class SecretHasher:
    """Hashes and verifies API key secrets (argon2id), remembering recent verifications."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, secret_hash: str, secret: str) -> bool:
        """True when `secret` matches `secret_hash`."""
        fingerprint = hashlib.sha256(f"{secret_hash}\0{secret}".encode()).digest()
        with self._lock:
            if fingerprint in self._verified:
                self._verified.move_to_end(fingerprint)
                return True
        try:
            self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            self._verified[fingerprint] = None
            while len(self._verified) > _VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return True


def _write_new_admin_token(path: Path) -> str:
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: if two processes start at once, one writes and the other reads its token.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    return token
