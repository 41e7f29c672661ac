"""A real Controller over a real metadata log in a temporary directory, on a manual clock,
for the controller's tests."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from strom.broker.clock import ManualClock
from strom.broker.config.broker_config import BrokerConfig
from strom.broker.controller.cluster_membership import HeartbeatReply
from strom.broker.controller.controller import Controller, NewTopic
from strom.broker.metadata.image import MetadataChange, MetadataImage, PartitionImage
from strom.broker.quorum.metadata_log import MetadataLog

SESSION_TIMEOUT_MS = 9000


@dataclass
class ControllerHarness:
    controller: Controller
    image: MetadataImage
    clock: ManualClock
    metadata_log: MetadataLog
    changes: list[MetadataChange] = field(default_factory=list)
    incarnations: dict[int, str] = field(default_factory=dict)
    epochs: dict[int, int] = field(default_factory=dict)

    def register(self, broker_id: int, rack: str | None = None, unfence: bool = True) -> int:
        """Register a broker process (a fresh incarnation) and, by default, heartbeat it
        into the cluster as a caught-up broker would."""
        incarnation = str(uuid.uuid4())
        epoch = self.controller.register_broker(
            broker_id,
            incarnation,
            [("PLAINTEXT", "127.0.0.1", 9000 + broker_id, "PLAINTEXT")],
            rack,
        )
        self.incarnations[broker_id] = incarnation
        self.epochs[broker_id] = epoch
        if unfence:
            self.heartbeat(broker_id)
        return epoch

    def heartbeat(
        self, broker_id: int, want_fence: bool = False, want_shutdown: bool = False
    ) -> HeartbeatReply:
        return self.controller.broker_heartbeat(
            broker_id,
            self.epochs[broker_id],
            self.image.last_offset,
            want_fence=want_fence,
            want_shutdown=want_shutdown,
        )

    def create_topic(
        self,
        name: str,
        assignments: Mapping[int, tuple[int, ...]] | None = None,
        partitions: int = -1,
        replication_factor: int = -1,
        configs: Mapping[str, str] | None = None,
    ) -> None:
        self.controller.create_topic(
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                assignments=assignments,
                configs=configs,
            )
        )

    def topic_id(self, name: str) -> uuid.UUID:
        found = self.image.topic(name)
        assert found is not None, name
        return found.topic_id

    def partition(self, topic: str, partition: int = 0) -> PartitionImage:
        found = self.image.topic(topic)
        assert found is not None, topic
        return found.partitions[partition]


def make_controller(
    tmp_path: Path, properties: Mapping[str, str] | None = None, seed: int = 7
) -> ControllerHarness:
    config = BrokerConfig.from_properties(
        {"node.id": "1", "log.dirs": str(tmp_path / "logs"), **(properties or {})}
    )
    clock = ManualClock()
    metadata_log = MetadataLog(tmp_path / "metadata", clock)
    image = MetadataImage()
    for offset, record in metadata_log.open():
        image.apply(record, offset)
    changes: list[MetadataChange] = []
    controller = Controller(
        config, metadata_log, image, changes.append, clock=clock, rng=random.Random(seed)
    )
    return ControllerHarness(controller, image, clock, metadata_log, changes)
