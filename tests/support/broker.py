"""A real broker process (`strom broker start`) on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


class BrokerProcess:
    """Starts, stops and kills one broker; data stays in `data_dir` across restarts."""

    def __init__(self, data_dir: Path, overrides: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.overrides = dict(overrides or {})
        self.log_path = data_dir / "broker.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def command(self) -> list[str]:
        settings = {
            "node.id": "1",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(self.data_dir / "logs"),
            **self.overrides,
        }
        command = [sys.executable, "-m", "strom.cli", "broker", "start"]
        for key, value in settings.items():
            command += ["--override", f"{key}={value}"]
        return command

    def start(self, wait: bool = True) -> BrokerProcess:
        """Spawn the process; with `wait`, return once it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self._process = subprocess.Popen(
            self.command(), stdout=log_file, stderr=subprocess.STDOUT, env=_env()
        )
        log_file.close()
        if wait:
            self.wait_until_listening()
        return self

    def stop(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        self.terminate()
        return self.wait_stopped()

    def terminate(self) -> None:
        self._require().send_signal(signal.SIGTERM)

    def wait_stopped(self) -> int:
        process = self._require()
        try:
            return process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
            raise AssertionError(f"broker did not stop within {STOP_TIMEOUT_S}s") from None
        finally:
            self._process = None

    def kill(self) -> None:
        """SIGKILL: the crash the durability tests recover from."""
        process = self._require()
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
        self._process = None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _require(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise AssertionError("broker is not running")
        return self._process

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise AssertionError(f"broker exited on start:\n{self.log_text()[-4000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise AssertionError(f"broker did not listen within {START_TIMEOUT_S}s")


@contextmanager
def running_broker(
    data_dir: Path, overrides: Mapping[str, str] | None = None
) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(data_dir, overrides).start()
    try:
        yield broker
    finally:
        if broker.is_running():
            broker.stop()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
