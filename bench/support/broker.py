"""A strom broker process for the benchmarks: free port, its own data directory, bounded
start and stop, and the process's CPU time and RSS."""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bench.support import proc

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
OPEN_FILES = 131_072


class BrokerProcess:
    """One `strom broker start` process; its data survives a stop and a new start."""

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
        return self._require().pid

    def start(self) -> float:
        """Start and wait until the listener accepts; returns the seconds that took."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "node.id": "1",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(self.data_dir / "logs"),
            **self.overrides,
        }
        command = [sys.executable, "-m", "strom.cli", "broker", "start", "--log-level", "WARNING"]
        for key, value in settings.items():
            command += ["--override", f"{key}={value}"]
        _raise_open_file_limit()
        started = time.perf_counter()
        with open(self.log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, cwd=self.data_dir
            )
        self._wait_until_listening()
        return time.perf_counter() - started

    def stop(self) -> float:
        """SIGTERM and wait for the exit (SIGKILL past the bound); returns the seconds taken."""
        process = self._require()
        started = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
            print(f"warning: broker did not stop within {STOP_TIMEOUT_S}s; killed", file=sys.stderr)
        finally:
            self._process = None
        return time.perf_counter() - started

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the broker process so far."""
        return proc.cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        return proc.rss_bytes(self.pid)

    def open_files(self) -> int:
        return proc.open_files(self.pid)

    def open_files_limit(self) -> int | None:
        return proc.open_files_limit(self.pid)

    def log_tail(self, chars: int = 3000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-chars:]

    def _require(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("broker is not running")
        return self._process

    def _wait_until_listening(self) -> None:
        process = self._require()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise RuntimeError(f"broker exited on start:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
        self._process = None
        raise RuntimeError(f"broker did not listen within {START_TIMEOUT_S}s:\n{self.log_tail()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raise_open_file_limit() -> None:
    """Kafka asks for a high open-files limit; the broker inherits ours. 10,000 partitions
    keep ~30,000 segment and index files open, so raise the limit to OPEN_FILES where this
    process may (root), else at least the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= OPEN_FILES:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, max(hard, OPEN_FILES)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
