"""Config value types, parsed and printed the way Kafka's ConfigDef does."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
SHORT_MIN, SHORT_MAX = -(1 << 15), (1 << 15) - 1


class ConfigType(enum.Enum):
    """Kafka's ConfigDef types; `kafka_id` is DescribeConfigs' config_type field."""

    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9

    @property
    def kafka_id(self) -> int:
        return self.value


def parse_value(config_type: ConfigType, raw: str) -> Any:
    """Parse a property string; raise ValueError with a message a user can act on."""
    text = raw.strip()
    if config_type is ConfigType.BOOLEAN:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"expected true or false, got {raw!r}")
        return lowered == "true"
    if config_type in (ConfigType.INT, ConfigType.SHORT, ConfigType.LONG):
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
        low, high = _INTEGER_RANGES[config_type]
        if not low <= number <= high:
            raise ValueError(f"{number} is out of range for a {config_type.name.lower()}")
        return number
    if config_type is ConfigType.DOUBLE:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
    if config_type is ConfigType.LIST:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    return text


def format_value(config_type: ConfigType, value: Any) -> str | None:
    """The string Kafka shows for a typed value (DescribeConfigs, the reference docs)."""
    if value is None:
        return None
    if config_type is ConfigType.BOOLEAN:
        return "true" if value else "false"
    if config_type is ConfigType.LIST:
        items: Sequence[str] = value
        return ",".join(items)
    return str(value)


_INTEGER_RANGES = {
    ConfigType.INT: (INT_MIN, INT_MAX),
    ConfigType.SHORT: (SHORT_MIN, SHORT_MAX),
    ConfigType.LONG: (LONG_MIN, LONG_MAX),
}
