import pytest

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.definitions import ConfigSource
from strom.broker.config.topic_config import (
    InvalidConfigError,
    TopicConfig,
    describe_topic_configs,
    validate_topic_overrides,
)


def test_topic_keys_fall_back_to_their_broker_synonyms() -> None:
    broker = BrokerConfig.from_properties(
        {"log.retention.minutes": "10", "log.segment.bytes": "2048"}
    )
    config = TopicConfig.resolve(broker, {"segment.bytes": "4096"})
    assert config.retention_ms == 600_000
    assert config.segment_bytes == 4096
    assert config.max_message_bytes == broker.message_max_bytes
    assert config.cleanup_policy == ("delete",)


def test_overrides_are_normalised() -> None:
    assert validate_topic_overrides({"cleanup.policy": "compact, delete"}) == {
        "cleanup.policy": "compact,delete"
    }
    assert validate_topic_overrides({"preallocate": "TRUE"}) == {"preallocate": "true"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("no.such.config", "1"),
        ("retention.ms", "soon"),
        ("retention.ms", "-2"),
        ("segment.bytes", "13"),
        ("cleanup.policy", "archive"),
        ("message.timestamp.type", "Never"),
        ("min.insync.replicas", "0"),
    ],
)
def test_invalid_topic_config_names_the_key(key: str, value: str) -> None:
    with pytest.raises(InvalidConfigError) as raised:
        validate_topic_overrides({key: value})
    assert raised.value.key == key


def test_describe_shows_where_each_value_comes_from() -> None:
    broker = BrokerConfig.from_properties({"log.retention.hours": "1"})
    entries = {e.name: e for e in describe_topic_configs(broker, {"segment.bytes": "4096"})}
    assert entries["segment.bytes"].source is ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert entries["segment.bytes"].synonyms[0].name == "segment.bytes"
    assert entries["retention.ms"].value == "3600000"
    assert entries["retention.ms"].source is ConfigSource.STATIC_BROKER_CONFIG
    assert [s.name for s in entries["retention.ms"].synonyms] == [
        "log.retention.hours",
        "log.retention.hours",
    ]
    assert entries["max.message.bytes"].source is ConfigSource.DEFAULT_CONFIG
    assert entries["max.message.bytes"].is_default
