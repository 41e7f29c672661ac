"""`meta.properties`: which cluster and node a log directory belongs to.

Kafka writes it when a directory is formatted; strom formats an empty directory on first
start. A directory that belongs to another cluster or node is refused, so a broker can
never serve (or damage) data that is not its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from strom.broker.kafka_uuid import random_kafka_uuid, to_base64
from strom.broker.log.checkpoints import write_atomically
from strom.broker.log.errors import LogStorageError

FILE_NAME = "meta.properties"


@dataclass(frozen=True, slots=True)
class MetaProperties:
    cluster_id: str
    node_id: int
    directory_id: str


def new_kafka_uuid() -> str:
    return to_base64(random_kafka_uuid())


def read_meta_properties(directory: Path) -> MetaProperties | None:
    path = directory / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LogStorageError(f"cannot read {path}: {error}") from error
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    try:
        return MetaProperties(
            cluster_id=values["cluster.id"],
            node_id=int(values["node.id"]),
            directory_id=values.get("directory.id", ""),
        )
    except (KeyError, ValueError) as error:
        raise LogStorageError(f"{path} is malformed: {error}") from error


def write_meta_properties(directory: Path, meta: MetaProperties) -> None:
    write_atomically(
        directory / FILE_NAME,
        "#Written by strom\n"
        f"cluster.id={meta.cluster_id}\n"
        f"directory.id={meta.directory_id}\n"
        f"node.id={meta.node_id}\n"
        "version=1\n",
    )


def ensure_formatted(directories: list[Path], node_id: int, cluster_id: str | None = None) -> str:
    """Check or create meta.properties in every directory; return the cluster id. Empty
    directories get `cluster_id` (random when None). Raises LogStorageError when
    directories disagree, belong to another node, or to a cluster other than `cluster_id`."""
    found: dict[Path, MetaProperties] = {}
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
        meta = read_meta_properties(directory)
        if meta is not None:
            found[directory] = meta
    cluster_ids = {meta.cluster_id for meta in found.values()}
    if len(cluster_ids) > 1:
        raise LogStorageError(
            f"log directories belong to different clusters: {sorted(cluster_ids)}"
        )
    for directory, meta in found.items():
        if meta.node_id != node_id:
            raise LogStorageError(
                f"{directory} belongs to node.id {meta.node_id}, but this broker is {node_id}"
            )
    if cluster_id is not None and cluster_ids - {cluster_id}:
        raise LogStorageError(
            f"log directories belong to cluster {sorted(cluster_ids)[0]}, but this node is "
            f"configured for cluster {cluster_id} (strom.cluster.id)"
        )
    if cluster_ids:
        cluster_id = cluster_ids.pop()
    elif cluster_id is None:
        cluster_id = new_kafka_uuid()
    for directory in directories:
        if directory not in found:
            write_meta_properties(directory, MetaProperties(cluster_id, node_id, new_kafka_uuid()))
    return cluster_id
