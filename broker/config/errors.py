"""Config errors, each naming the key at fault so the operator can fix it in one go."""

from __future__ import annotations


class ConfigError(ValueError):
    """A broker config cannot be used; `key` names the property at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
