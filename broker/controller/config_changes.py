"""IncrementalAlterConfigs' operations on one resource's config overrides."""

from __future__ import annotations

from strom.broker.controller.errors import InvalidRequestError


class ConfigOp:
    """IncrementalAlterConfigs operations, with Kafka's ids."""

    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


_LIST_CONFIGS = {"cleanup.policy"}


def apply_config_operation(
    configs: dict[str, str], key: str, operation: int, value: str | None
) -> dict[str, str]:
    """`configs` after one SET, DELETE, APPEND or SUBTRACT of `key`."""
    result = dict(configs)
    if operation == ConfigOp.SET:
        if value is None:
            raise InvalidRequestError(f"Null value not supported for SET of {key}")
        result[key] = value
    elif operation == ConfigOp.DELETE:
        result.pop(key, None)
    elif operation in (ConfigOp.APPEND, ConfigOp.SUBTRACT):
        if key not in _LIST_CONFIGS:
            raise InvalidRequestError(f"Config {key} is not a list; APPEND/SUBTRACT need one")
        current = [item for item in result.get(key, "").split(",") if item]
        items = [item.strip() for item in (value or "").split(",") if item.strip()]
        if operation == ConfigOp.APPEND:
            current += [item for item in items if item not in current]
        else:
            current = [item for item in current if item not in items]
        result[key] = ",".join(current)
    else:
        raise InvalidRequestError(f"Unknown config operation {operation}")
    return result
