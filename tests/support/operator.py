"""The real operator process (`strom operator run`) against the API emulator, and a small
synchronous API client for tests to act as `kubectl` would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.k8s_emulator import EmulatorThread

STOP_TIMEOUT_S = 15.0
WAIT_TIMEOUT_S = 15.0
T = TypeVar("T")


class OperatorProcess:
    """`strom operator run` with a kubeconfig pointing at the emulator."""

    def __init__(self, workdir: Path, emulator: EmulatorThread, args: list[str]) -> None:
        self.workdir = workdir
        self.log_path = workdir / "operator.log"
        workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = emulator.write_kubeconfig(workdir / "kubeconfig")
        self.args = args
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HOME": str(self.workdir),  # no ~/.kube/config of the machine
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "-m", "strom.cli", "operator", "run", *self.args]
        with open(self.log_path, "ab") as log_file:
            # cwd is not the repository root: its operator/ folder would shadow the stdlib.
            self._process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
            )
        return self

    def stop(self) -> int:
        """SIGTERM and wait for kopf's clean exit; returns the exit code."""
        process = self._process
        if process is None:
            return 0
        self._process = None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
            raise AssertionError(f"the operator did not stop within {STOP_TIMEOUT_S}s") from None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_operator(
    workdir: Path, emulator: EmulatorThread, args: list[str]
) -> Iterator[OperatorProcess]:
    operator = OperatorProcess(workdir, emulator, args).start()
    try:
        yield operator
    finally:
        operator.stop()


class KubeClient:
    """Just enough of kubectl: apply (create or merge-patch), get, patch, delete."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def create(self, path: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(self._http.post(path, json=obj))

    def get(self, path: str) -> dict[str, Any] | None:
        response = self._http.get(path)
        return None if response.status_code == 404 else self._json(response)

    def list(self, path: str) -> list[dict[str, Any]]:
        return list(self._json(self._http.get(path)).get("items") or [])

    def patch(self, path: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/merge-patch+json"}
        return self._json(self._http.patch(path, json=patch, headers=headers))

    def delete(self, path: str) -> None:
        response = self._http.delete(path)
        if response.status_code != 404:
            self._json(response)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise AssertionError(
                f"{response.request.method} {response.request.url}: "
                f"{response.status_code} {response.text[:500]}"
            )
        return dict(response.json())


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    operator: OperatorProcess | None = None,
    timeout: float = WAIT_TIMEOUT_S,
) -> T:
    """Poll `probe` until it returns something truthy; fail with the operator's log."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if operator is not None and not operator.is_running():
            raise AssertionError(
                f"the operator exited while waiting for {what}:\n{operator.log_text()[-4000:]}"
            )
        if time.monotonic() > deadline:
            log = operator.log_text()[-4000:] if operator is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log}")
        time.sleep(0.05)
