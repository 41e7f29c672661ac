"""Build responses for whichever version a client asked for.

kio generates one dataclass per message version; a handler names the fields it knows and
`make` keeps those the version has, the way Kafka's generated code ignores fields that a
version does not carry.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from types import ModuleType
from typing import Any

from kio.index import load_payload_module
from kio.static.constants import EntityType

NO_THROTTLE = datetime.timedelta(0)
AUTHORIZED_OPERATIONS_OMITTED = -(2**31)


def response_module(api_key: int, api_version: int) -> ModuleType:
    """The kio module holding the response classes of this API version."""
    return _module(api_key, api_version)


def make(cls: type[Any], **values: Any) -> Any:
    """An instance of `cls` from the values it has fields for; the others are dropped."""
    names = _field_names(cls)
    return cls(**{name: value for name, value in values.items() if name in names})


def has_field(cls: type[Any], name: str) -> bool:
    return name in _field_names(cls)


def millis(value: datetime.timedelta | int) -> int:
    """kio decodes Kafka's millisecond durations as timedeltas."""
    if isinstance(value, datetime.timedelta):
        return int(value / datetime.timedelta(milliseconds=1))
    return int(value)


def timestamp_or_none(timestamp_ms: int) -> datetime.datetime | None:
    """kio's TZAware for an int64 millisecond timestamp; None stands for -1."""
    if timestamp_ms < 0:
        return None
    return datetime.datetime.fromtimestamp(timestamp_ms / 1000, tz=datetime.UTC)


@functools.cache
def _module(api_key: int, api_version: int) -> ModuleType:
    return load_payload_module(api_key, api_version, EntityType.response)


@functools.cache
def _field_names(cls: type[Any]) -> frozenset[str]:
    return frozenset(field.name for field in dataclasses.fields(cls))
