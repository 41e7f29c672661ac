"""Kafka's ids (cluster, topic, directory): 16 random bytes, shown as URL-safe base64."""

from __future__ import annotations

import base64
import uuid

ZERO_UUID = uuid.UUID(int=0)
_RESERVED = {ZERO_UUID, uuid.UUID(int=1)}


def random_kafka_uuid() -> uuid.UUID:
    """A random id that is not reserved and whose text form does not start with '-'
    (Kafka avoids those because command-line tools would read them as flags)."""
    while True:
        candidate = uuid.uuid4()
        if candidate not in _RESERVED and not to_base64(candidate).startswith("-"):
            return candidate


def to_base64(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode("ascii")


def from_base64(text: str) -> uuid.UUID:
    """Parse Kafka's text form; raises ValueError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a Kafka id: {text!r}") from error
    return uuid.UUID(bytes=raw)
