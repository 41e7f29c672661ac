"""Topic configs: overrides checked against Kafka's topic keys, resolved over the broker's
defaults (Kafka's synonyms: `retention.ms` falls back to `log.retention.ms`, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.definitions import (
    ConfigEntry,
    ConfigKey,
    ConfigSource,
    ConfigSynonym,
)
from strom.broker.config.topic_keys import TOPIC_KEYS, TOPIC_KEYS_BY_NAME
from strom.broker.config.value_types import format_value, parse_value


class InvalidConfigError(ValueError):
    """A topic config the broker refuses (INVALID_CONFIG at the protocol edge)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """Every topic key's effective value for one topic; satisfies the log's LogConfig."""

    cleanup_policy: tuple[str, ...]
    compression_type: str
    delete_retention_ms: int
    file_delete_delay_ms: int
    flush_messages: int
    flush_ms: int
    index_interval_bytes: int
    max_compaction_lag_ms: int
    max_message_bytes: int
    message_timestamp_type: str
    message_timestamp_before_max_ms: int
    message_timestamp_after_max_ms: int
    min_cleanable_dirty_ratio: float
    min_compaction_lag_ms: int
    min_insync_replicas: int
    preallocate: bool
    retention_bytes: int
    retention_ms: int
    segment_bytes: int
    segment_index_bytes: int
    segment_jitter_ms: int
    segment_ms: int
    unclean_leader_election_enable: bool

    @classmethod
    def resolve(cls, broker: BrokerConfig, overrides: Mapping[str, str]) -> TopicConfig:
        values: dict[str, Any] = {}
        for key in TOPIC_KEYS:
            raw = overrides.get(key.name)
            value = _parse(key, raw) if raw is not None else _broker_default(broker, key)
            values[key.attribute] = value
        return cls(**values)


def validate_topic_overrides(configs: Mapping[str, str]) -> dict[str, str]:
    """Check topic overrides (CreateTopics, AlterConfigs); return them normalised.

    Raises InvalidConfigError naming the first unknown key or bad value."""
    normalised: dict[str, str] = {}
    for name, raw in configs.items():
        key = TOPIC_KEYS_BY_NAME.get(name)
        if key is None:
            raise InvalidConfigError(name, f"Unknown topic config name: {name}")
        if raw is None:
            raise InvalidConfigError(name, f"Null value not supported for topic configs: {name}")
        value = format_value(key.type, _parse(key, raw))
        normalised[name] = value if value is not None else ""
    return normalised


def describe_topic_configs(broker: BrokerConfig, overrides: Mapping[str, str]) -> list[ConfigEntry]:
    """Every topic key as DescribeConfigs shows it, with where its value comes from."""
    entries = []
    for key in TOPIC_KEYS:
        synonym_key = key.broker_synonym or key.name
        broker_synonyms = broker.synonyms_of(synonym_key)
        if key.name in overrides:
            value = overrides[key.name]
            source = ConfigSource.DYNAMIC_TOPIC_CONFIG
            synonyms = (ConfigSynonym(key.name, value, source), *broker_synonyms)
        else:
            value = format_value(key.type, _broker_default(broker, key))
            source = (
                ConfigSource.STATIC_BROKER_CONFIG
                if broker.is_supplied(synonym_key)
                else ConfigSource.DEFAULT_CONFIG
            )
            synonyms = broker_synonyms
        entries.append(
            ConfigEntry(
                name=key.name,
                value=value,
                source=source,
                read_only=False,
                is_default=source is ConfigSource.DEFAULT_CONFIG,
                sensitive=key.sensitive,
                synonyms=synonyms,
                type=key.type,
                documentation=key.doc,
            )
        )
    return entries


def _broker_default(broker: BrokerConfig, key: ConfigKey) -> Any:
    assert key.broker_synonym is not None, key.name
    return broker.values[key.broker_synonym]


def _parse(key: ConfigKey, raw: str) -> Any:
    try:
        value = parse_value(key.type, raw)
    except ValueError as error:
        raise InvalidConfigError(
            key.name, f"Invalid value {raw} for configuration {key.name}: {error}"
        ) from None
    if key.validator is not None:
        problem = key.validator(value)
        if problem:
            raise InvalidConfigError(
                key.name, f"Invalid value {raw} for configuration {key.name}: {problem}"
            )
    return value
