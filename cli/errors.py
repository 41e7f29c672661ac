"""Expected failures of the tenant commands and the exit codes scripts rely on.

0 ok, 1 failed, 2 usage (a bad flag, or a request the API rejects as invalid), 3 not found,
4 unauthorized (not logged in, a bad token, or not allowed). The root command turns a
`CliError` into one line on stderr and its exit code; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAUTHORIZED = 4


class CliError(Exception):
    """A failure the user can act on: a message and the exit code it ends the command with."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class NotFound(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_NOT_FOUND)


class UsageError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class Unauthorized(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_UNAUTHORIZED)
