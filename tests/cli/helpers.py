"""Running `strom` in-process for tests, and asserting how it fails."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from strom.cli.main import app as strom_app

# Variables the CLI reads; cleared so the developer's own settings never leak into a test.
CLI_VARIABLES = (
    "STROM_URL",
    "STROM_TOKEN",
    "STROM_CONTEXT",
    "STROM_TENANT",
    "STROM_CLUSTER",
    "XDG_CONFIG_HOME",
)


class Strom:
    """Runs `strom ...` in-process with its own config directory and a clean environment."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.runner = CliRunner()

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result:
        environment: dict[str, str | None] = dict.fromkeys(CLI_VARIABLES)
        environment["STROM_CONFIG_DIR"] = str(self.config_dir)
        environment.update(env or {})
        result = self.runner.invoke(strom_app, list(args), input=input, env=environment)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug, not an expected failure: keep its traceback
        return result

    def ok(self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> str:
        """Run, assert exit 0, and return stdout."""
        result = self(*args, input=input, env=env)
        assert result.exit_code == 0, f"strom {' '.join(args)}: {result.output}"
        return result.stdout

    def json(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        """Run with `-o json`, assert exit 0, and parse stdout."""
        return json.loads(self.ok(*args, "-o", "json", env=env))


def expect_failure(result: Result, exit_code: int, *fragments: str) -> str:
    """Assert an expected failure: the exit code, one stderr line, no traceback."""
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def sign_up(strom: Strom, url: str, admin_token: str, tenant: str, *limits: str) -> dict[str, Any]:
    """As the admin (context `admin`): a tenant and a deployer with a control-plane key; then
    log in as that deployer (context `<tenant>`, now current). Returns the key as created."""
    strom.ok("--context", "admin", "login", "--url", url, "--token", admin_token)
    strom.ok("--context", "admin", "tenant", "create", tenant, *limits)
    as_admin = ("--context", "admin", "--tenant", tenant)
    strom.ok(*as_admin, "service-account", "create", "deployer")
    key: dict[str, Any] = strom.json(
        *as_admin, "api-key", "create", "--service-account", "deployer"
    )
    strom.ok("--context", tenant, "login", "--url", url, input=f"{key['token']}\n")
    return key
