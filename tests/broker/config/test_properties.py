import pytest

from strom.broker.config.errors import ConfigError
from strom.broker.config.properties import parse_override, parse_properties


def test_properties_file_follows_java_properties_rules() -> None:
    text = "\n".join(
        [
            "# a comment",
            "! another comment",
            "node.id=3",
            "listeners = PLAINTEXT://:9092,\\",
            "    OTHER://:9093",
            "log.dirs: /data/a",
            "broker.rack rack-1",
            "empty.value=",
            "escaped\\=key=tab\\tvalue",
            "node.id=4",
        ]
    )
    assert parse_properties(text) == {
        "node.id": "4",
        "listeners": "PLAINTEXT://:9092,OTHER://:9093",
        "log.dirs": "/data/a",
        "broker.rack": "rack-1",
        "empty.value": "",
        "escaped=key": "tab\tvalue",
    }


def test_override_splits_on_first_equals_sign() -> None:
    assert parse_override("log.dirs=/a=b") == ("log.dirs", "/a=b")


@pytest.mark.parametrize("item", ["no-equals", "=value", ""])
def test_malformed_override_names_itself(item: str) -> None:
    with pytest.raises(ConfigError):
        parse_override(item)
