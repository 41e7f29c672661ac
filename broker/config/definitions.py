"""How config keys are described: types, sources, validators and the entry shape.

Keys, defaults and meanings are Kafka's, so a Kafka user's server.properties and topic
configs carry over. `docs/configuration.md` is generated from this table.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strom.broker.config.value_types import ConfigType

Validator = Callable[[Any], str | None]


class ConfigSource(enum.Enum):
    """Where a value comes from; values are DescribeConfigs' config_source ids."""

    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5


@dataclass(frozen=True, slots=True)
class ConfigKey:
    name: str
    type: ConfigType
    default: Any
    doc: str
    validator: Validator | None = None
    # For a topic key: the broker key that supplies its default (Kafka's "synonym").
    broker_synonym: str | None = None

    @property
    def attribute(self) -> str:
        return self.name.replace(".", "_")

    @property
    def sensitive(self) -> bool:
        return self.type is ConfigType.PASSWORD


@dataclass(frozen=True, slots=True)
class ConfigSynonym:
    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One row of a DescribeConfigs answer."""

    name: str
    value: str | None
    source: ConfigSource
    read_only: bool
    is_default: bool
    sensitive: bool
    synonyms: tuple[ConfigSynonym, ...]
    type: ConfigType
    documentation: str


def at_least(minimum: int | float) -> Validator:
    def check(value: Any) -> str | None:
        return None if value >= minimum else f"must be at least {minimum}"

    return check


def one_of(*allowed: str) -> Validator:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}"

    return check


def items_in(*allowed: str) -> Validator:
    def check(value: Any) -> str | None:
        unknown = [item for item in value if item not in allowed]
        if not value:
            return f"must list at least one of {', '.join(allowed)}"
        return f"unknown value {unknown[0]!r}; allowed: {', '.join(allowed)}" if unknown else None

    return check


CLEANUP_POLICIES = ("delete", "compact")
TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
COMPRESSION_TYPES = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
WEEK_HOURS = 168

BOOL, STR, INT, LONG, DOUBLE, LIST = (
    ConfigType.BOOLEAN,
    ConfigType.STRING,
    ConfigType.INT,
    ConfigType.LONG,
    ConfigType.DOUBLE,
    ConfigType.LIST,
)

# Broker keys whose effective value is derived from a chain of finer and coarser keys.
BROKER_SYNONYM_CHAINS: dict[str, tuple[str, ...]] = {
    "log.retention.ms": ("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
    "log.roll.ms": ("log.roll.ms", "log.roll.hours"),
    "log.flush.interval.ms": ("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
}
