"""`strom login` in a real terminal (tmux): it prompts for the token and does not echo it."""

from __future__ import annotations

import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import ServedControlPlane

SCREEN_TIMEOUT_S = 20.0
EXIT_MARK = "strom exited with "
EXITED = re.compile(rf"{EXIT_MARK}(\d+)")  # the command line itself shows `$?`, not digits


class Terminal:
    """One tmux session on a private server socket, so only what it started is stopped."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def start(self, command: str, cwd: Path) -> None:
        self._tmux("new-session", "-d", "-s", "cli", "-x", "160", "-y", "40", "-c", str(cwd))
        self._tmux("send-keys", "-t", "cli", command, "Enter")

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "cli", "-l", text)
        self._tmux("send-keys", "-t", "cli", "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "cli").stdout

    def wait_for(self, pattern: re.Pattern[str]) -> tuple[re.Match[str], str]:
        deadline = time.monotonic() + SCREEN_TIMEOUT_S
        while (found := pattern.search(screen := self.screen())) is None:
            assert time.monotonic() < deadline, f"{pattern} not shown in time:\n{screen}"
            time.sleep(0.1)
        return found, screen

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed; this test drives `strom login` in a real terminal")
    session = Terminal(f"strom-test-{secrets.token_hex(4)}")
    try:
        yield session
    finally:
        session.stop()


def test_login_prompts_for_the_token_without_echoing_it(
    terminal: Terminal, controlplane: ServedControlPlane, tmp_path: Path
) -> None:
    config_dir = tmp_path / "strom-config"
    command = " ".join(
        [
            "env",
            "-u STROM_URL -u STROM_TOKEN -u STROM_CONTEXT",
            f"STROM_CONFIG_DIR={shlex.quote(str(config_dir))}",
            shlex.quote(sys.executable),
            "-m strom.cli login --url",
            controlplane.url,
            f"; echo {EXIT_MARK}$?",
        ]
    )
    terminal.start(command, tmp_path)  # not the repository: its operator/ shadows the stdlib's
    terminal.wait_for(re.compile(r"^Token:", re.MULTILINE))
    terminal.type(controlplane.admin_token)
    exited, screen = terminal.wait_for(EXITED)
    assert exited.group(1) == "0", screen
    assert f"Logged in to {controlplane.url} as admin." in screen
    assert controlplane.admin_token not in screen
    assert "token = " in (config_dir / "config.toml").read_text()
