"""A real multi-node cluster: N `strom broker start` processes on 127.0.0.1, each with
the broker and controller roles, a client listener and a controller listener, configured
with Kafka's keys exactly as an operator would write them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.broker import BrokerProcess
from tests.support.ports import free_port


class BrokerCluster:
    def __init__(
        self, root: Path, size: int = 3, overrides: Mapping[str, str] | None = None
    ) -> None:
        self.root = root
        controller_ports = {node: free_port() for node in range(1, size + 1)}
        voters = ",".join(f"{node}@127.0.0.1:{port}" for node, port in controller_ports.items())
        self.nodes: dict[int, BrokerProcess] = {}
        for node, controller_port in controller_ports.items():
            broker = BrokerProcess(root / f"node-{node}")
            broker.overrides = {
                "node.id": str(node),
                "process.roles": "broker,controller",
                "listeners": (
                    f"PLAINTEXT://127.0.0.1:{broker.port},CONTROLLER://127.0.0.1:{controller_port}"
                ),
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker.port}",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names": "CONTROLLER",
                "inter.broker.listener.name": "PLAINTEXT",
                "controller.quorum.voters": voters,
                "log.dirs": str(root / f"node-{node}" / "logs"),
                **dict(overrides or {}),
            }
            self.nodes[node] = broker

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes.values() if node.is_running())

    def start(self) -> BrokerCluster:
        # All at once: a node serves clients only once the quorum has a leader.
        for broker in self.nodes.values():
            broker.start(wait=False)
        for broker in self.nodes.values():
            broker.wait_until_listening()
        return self

    def stop(self) -> None:
        """SIGTERM every node at once (one by one, the last would wait for a quorum that
        is gone), then wait for each."""
        running = [broker for broker in self.nodes.values() if broker.is_running()]
        for broker in running:
            broker.terminate()
        failures = []
        for broker in running:
            try:
                broker.wait_stopped()
            except AssertionError as failure:
                failures.append(str(failure))
        if failures:
            raise AssertionError("; ".join(failures))

    def kill(self, node: int) -> None:
        self.nodes[node].kill()

    def restart(self, node: int) -> None:
        self.nodes[node].start()

    def log_tail(self, node: int, size: int = 4000) -> str:
        return self.nodes[node].log_text()[-size:]


@contextmanager
def running_cluster(
    root: Path, size: int = 3, overrides: Mapping[str, str] | None = None
) -> Iterator[BrokerCluster]:
    cluster = BrokerCluster(root, size, overrides)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
