import pytest

from strom.broker.config.broker_config import BrokerConfig, ConfigError
from strom.broker.config.definitions import ConfigSource


def test_defaults_make_a_complete_single_node_config() -> None:
    config = BrokerConfig.from_properties({})
    assert config.node_id == 1
    assert [str(e) for e in config.listeners] == ["PLAINTEXT://:9092"]
    assert config.advertised_listeners == config.listeners
    assert config.log_dirs == ("/tmp/strom-logs",)
    assert config.metadata_log_dir == "/tmp/strom-logs"
    assert config.log_retention_ms == 168 * 3_600_000
    assert config.log_segment_bytes == 1 << 30
    assert config.message_max_bytes == 1_048_588
    assert config.log_cleanup_policy == ("delete",)
    assert config.http_listener is None


def test_retention_prefers_ms_then_minutes_then_hours() -> None:
    assert BrokerConfig.from_properties({"log.retention.hours": "2"}).log_retention_ms == 7_200_000
    minutes = {"log.retention.hours": "2", "log.retention.minutes": "3"}
    assert BrokerConfig.from_properties(minutes).log_retention_ms == 180_000
    millis = {**minutes, "log.retention.ms": "42"}
    assert BrokerConfig.from_properties(millis).log_retention_ms == 42
    assert BrokerConfig.from_properties({"log.retention.ms": "-1"}).log_retention_ms == -1


def test_log_dirs_fall_back_to_log_dir() -> None:
    config = BrokerConfig.from_properties({"log.dir": "/x"})
    assert config.log_dirs == ("/x",)
    config = BrokerConfig.from_properties({"log.dir": "/x", "log.dirs": "/a,/b"})
    assert config.log_dirs == ("/a", "/b")
    assert config.metadata_log_dir == "/a"


def test_advertised_listeners_and_http_listener() -> None:
    config = BrokerConfig.from_properties(
        {
            "listeners": "PLAINTEXT://0.0.0.0:9092",
            "advertised.listeners": "PLAINTEXT://broker-0.example:9092",
            "strom.http.listener": "127.0.0.1:8080",
        }
    )
    assert config.advertised_listeners[0].host == "broker-0.example"
    assert config.http_listener == ("127.0.0.1", 8080)


def test_unknown_keys_are_kept_for_a_warning() -> None:
    config = BrokerConfig.from_properties({"zookeeper.connect": "x:2181"})
    assert config.unknown_keys == frozenset({"zookeeper.connect"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("node.id", "-1"),
        ("node.id", "one"),
        ("num.partitions", "0"),
        ("log.segment.bytes", "10"),
        ("log.cleanup.policy", "shred"),
        ("auto.create.topics.enable", "yes"),
        ("listeners", "localhost:9092"),
        ("listeners", "PLAINTEXT://:99999"),
        ("listeners", "SSL://:9093"),
        ("log.message.timestamp.type", "WallClock"),
        ("strom.http.listener", "nowhere"),
        ("log.retention.ms", "-5"),
    ],
)
def test_bad_value_is_refused_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        BrokerConfig.from_properties({key: value})
    assert raised.value.key in (key, "listeners", "log.retention.ms", "ssl.certificate.location")
    assert str(raised.value)


def test_advertised_listener_must_name_a_real_listener() -> None:
    with pytest.raises(ConfigError) as raised:
        BrokerConfig.from_properties({"advertised.listeners": "EXTERNAL://host:1"})
    assert raised.value.key == "advertised.listeners"


def test_describe_marks_supplied_keys_static() -> None:
    entries = {e.name: e for e in BrokerConfig.from_properties({"num.partitions": "4"}).describe()}
    assert entries["num.partitions"].value == "4"
    assert entries["num.partitions"].source is ConfigSource.STATIC_BROKER_CONFIG
    assert entries["default.replication.factor"].source is ConfigSource.DEFAULT_CONFIG
    assert entries["num.partitions"].read_only
