"""The `local` backend: one `strom broker start` process per cluster, on this machine.

Each cluster lives in `<data dir>/clusters/<cluster-id>/`: `server.properties` (mode 0600: it
holds the control plane's admin password), `state.json` (the port, and the pid as a hint),
`broker.log`, and the broker's data under `data/`. Brokers run in their own session, so they
keep serving while the control plane restarts; a restarted control plane re-adopts a running
broker (found by its config path on its command line) or starts it again on the same port
with the same data. Tenants reach the broker on a SASL_PLAINTEXT listener on 127.0.0.1; ACLs
are on, and the control plane's admin is the only super user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from strom.controlplane.provisioning.base import (
    BackendPhase,
    ClusterSpec,
    ClusterState,
    ProvisioningError,
    UnsupportedChange,
)

CONFIG_FILE = "server.properties"
STATE_FILE = "state.json"
LOG_FILE = "broker.log"
DATA_DIR = "data"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
# What a dev cluster runs with, besides listeners and credentials.
DEV_PLAN_SETTINGS = {
    # Topics are made through the control plane, so the tenant's partition limit holds.
    "auto.create.topics.enable": "false",
    "authorizer.class.name": AUTHORIZER,
    # Deny by default: deleting a resource's last ACL must not open it to everyone.
    "allow.everyone.if.no.acl.found": "false",
    "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
    # A one-broker development cluster: small internal topics, no wait for more members.
    "offsets.topic.num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
}
_POLL_S = 0.05
_LOG_TAIL_BYTES = 2000


@dataclass(frozen=True, slots=True)
class _State:
    port: int
    pid: int | None = None


class LocalBackend:
    """Runs single-broker clusters as supervised processes under `root`."""

    name = "local"

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        python: str = sys.executable,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self.root = root.absolute()  # brokers run elsewhere: their paths must not be relative
        self.host = host
        self._python = python
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    async def create(self, spec: ClusterSpec) -> None:
        _check_brokers(spec)
        try:
            await asyncio.to_thread(self._ensure_running, spec)
        except OSError as error:
            raise ProvisioningError(f"cannot run the broker: {error}") from error

    async def scale(self, spec: ClusterSpec) -> None:
        _check_brokers(spec)  # one broker is all a local cluster has, so nothing changes

    async def delete(self, cluster_id: str) -> None:
        try:
            await asyncio.to_thread(self._delete, cluster_id)
        except OSError as error:
            raise ProvisioningError(f"cannot delete the cluster: {error}") from error

    async def status(self, cluster_id: str) -> ClusterState:
        return await asyncio.to_thread(self._status, cluster_id)

    def stop_all(self) -> list[str]:
        """Stop every broker under `root`, keeping their data (`strom dev down`, tests)."""
        stopped = []
        for directory in sorted(self.root.glob("*/")) if self.root.is_dir() else []:
            pid = self._find_process(directory.name)
            if pid is not None:
                self._terminate(directory.name, pid)
                stopped.append(directory.name)
        return stopped

    def directory(self, cluster_id: str) -> Path:
        return self.root / cluster_id

    def _ensure_running(self, spec: ClusterSpec) -> None:
        directory = self.directory(spec.cluster_id)
        state = self._read_state(spec.cluster_id)
        if state is None:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            state = _State(port=_free_port(self.host))
            self._write_state(spec.cluster_id, state)
        self._write_config(spec, state.port)
        pid = self._find_process(spec.cluster_id)
        if pid is None:
            pid = self._spawn(spec.cluster_id)
            self._write_state(spec.cluster_id, _State(state.port, pid))
        self._wait_until_listening(spec.cluster_id, pid, state.port)

    def _status(self, cluster_id: str) -> ClusterState:
        if not self.directory(cluster_id).is_dir():
            return ClusterState(BackendPhase.ABSENT)
        state = self._read_state(cluster_id)
        pid = self._find_process(cluster_id) if state is not None else None
        if state is None or pid is None:
            return ClusterState(BackendPhase.STOPPED, message="the broker process is not running")
        if not _listening(self.host, state.port):
            return ClusterState(BackendPhase.STARTING, brokers=1)
        return ClusterState(
            BackendPhase.RUNNING, brokers=1, bootstrap_servers=(f"{self.host}:{state.port}",)
        )

    def _delete(self, cluster_id: str) -> None:
        pid = self._find_process(cluster_id)
        if pid is not None:
            self._terminate(cluster_id, pid)
        shutil.rmtree(self.directory(cluster_id), ignore_errors=True)
        if self.directory(cluster_id).exists():
            raise ProvisioningError(f"could not remove {self.directory(cluster_id)}")

    def _spawn(self, cluster_id: str) -> int:
        directory = self.directory(cluster_id)
        command = [self._python, "-m", "strom.cli", "broker", "start"]
        command += ["--config", str(directory / CONFIG_FILE)]
        with open(directory / LOG_FILE, "ab") as log_file:
            process = subprocess.Popen(
                command,
                cwd=directory,  # never a source checkout, whose operator/ shadows the stdlib
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the control plane and its Ctrl-C
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        with self._lock:
            self._children[cluster_id] = process
        return process.pid

    def _wait_until_listening(self, cluster_id: str, pid: int, port: int) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if not self._alive(cluster_id, pid):
                raise ProvisioningError(f"the broker exited on start: {self._log_tail(cluster_id)}")
            if _listening(self.host, port):
                return
            time.sleep(_POLL_S)
        self._terminate(cluster_id, pid)
        raise ProvisioningError(
            f"the broker did not listen on {self.host}:{port} within {self._start_timeout_s:g}s"
        )

    def _terminate(self, cluster_id: str, pid: int) -> None:
        """SIGTERM, then SIGKILL after the stop timeout; returns once the process is gone."""
        for signum, timeout_s in ((signal.SIGTERM, self._stop_timeout_s), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if not self._alive(cluster_id, pid):
                    with self._lock:
                        self._children.pop(cluster_id, None)
                    return
                time.sleep(_POLL_S)
        raise ProvisioningError(f"broker process {pid} of {cluster_id} did not stop")

    def _find_process(self, cluster_id: str) -> int | None:
        """The pid of the cluster's broker: the recorded one if it still is that broker, else
        any process started with the cluster's config (a crash may have lost the pid)."""
        state = self._read_state(cluster_id)
        if state is not None and state.pid is not None and self._alive(cluster_id, state.pid):
            return state.pid
        marker = str(self.directory(cluster_id) / CONFIG_FILE).encode()
        for pid in _proc_pids():
            if marker in _cmdline(pid) and not _zombie(pid):
                return pid
        return None

    def _alive(self, cluster_id: str, pid: int) -> bool:
        with self._lock:
            child = self._children.get(cluster_id)
        if child is not None and child.pid == pid:
            return child.poll() is None  # also reaps our own exited child
        if not Path("/proc/self/cmdline").exists():  # no /proc: trust the pid
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        marker = str(self.directory(cluster_id) / CONFIG_FILE).encode()
        return marker in _cmdline(pid) and not _zombie(pid)

    def _read_state(self, cluster_id: str) -> _State | None:
        path = self.directory(cluster_id) / STATE_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return _State(port=int(document["port"]), pid=document.get("pid"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_state(self, cluster_id: str, state: _State) -> None:
        path = self.directory(cluster_id) / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"port": state.port, "pid": state.pid}), encoding="utf-8")
        temporary.replace(path)

    def _write_config(self, spec: ClusterSpec, port: int) -> None:
        directory = self.directory(spec.cluster_id)
        listener = f"SASL_PLAINTEXT://{self.host}:{port}"
        settings = {
            "node.id": "1",
            "listeners": listener,
            "advertised.listeners": listener,
            "log.dirs": str(directory / DATA_DIR),
            **DEV_PLAN_SETTINGS,
            "super.users": f"User:{spec.admin.username}",
            "strom.sasl.plain.users": f"{spec.admin.username}:{spec.admin.password}",
        }
        text = "".join(f"{key}={value}\n" for key, value in settings.items())
        path = directory / CONFIG_FILE
        if path.exists() and path.read_text(encoding="utf-8") == text:
            return
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)

    def _log_tail(self, cluster_id: str) -> str:
        try:
            with open(self.directory(cluster_id) / LOG_FILE, "rb") as log_file:
                log_file.seek(0, os.SEEK_END)
                log_file.seek(max(0, log_file.tell() - _LOG_TAIL_BYTES))
                return log_file.read().decode(errors="replace").strip()
        except OSError:
            return "(no log)"


def _check_brokers(spec: ClusterSpec) -> None:
    if spec.brokers != 1:
        raise UnsupportedChange(
            f"the local backend runs single-broker clusters; {spec.brokers} brokers were asked"
        )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _proc_pids() -> list[int]:
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    return [int(entry.name) for entry in proc.iterdir() if entry.name.isdigit()]


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
