"""The durable election state of a quorum member, Kafka's `quorum-state` file.

Raft is safe only if a node never forgets its epoch or its vote: it persists both before
it grants a vote, stands for election or acts on a newer epoch. The file is replaced
atomically (temporary file, fsync, rename, fsync of the directory), so a crash leaves
either the old state or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

QUORUM_STATE_FILE = "quorum-state"
_DATA_VERSION = 0
_NO_ID = -1


@dataclass(frozen=True, slots=True)
class ElectionState:
    """A node's epoch, the leader it knows in that epoch and the candidate it voted for
    in that epoch (None when there is none)."""

    epoch: int
    leader_id: int | None = None
    voted_id: int | None = None


class QuorumStateError(Exception):
    """The quorum-state file exists but cannot be trusted; the node must not start."""


class QuorumStateStore(Protocol):
    def read(self) -> ElectionState | None:
        """The last state written, or None on a node that never wrote one."""
        ...

    def write(self, state: ElectionState) -> None:
        """Replace the state durably: when this returns, a crash keeps `state`."""
        ...


class FileQuorumStateStore:
    """The state as JSON in `path` (Kafka's field names), replaced atomically."""

    def __init__(self, path: Path, voters: Collection[int] = ()) -> None:
        self.path = path
        self._voters = sorted(voters)

    def read(self) -> ElectionState | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise QuorumStateError(f"cannot read {self.path}: {error}") from error
        try:
            document = json.loads(text)
        except ValueError as error:
            raise QuorumStateError(f"{self.path} is not valid JSON: {error}") from error
        return _parse(document, self.path)

    def write(self, state: ElectionState) -> None:
        document = {
            "clusterId": "",
            "leaderId": _NO_ID if state.leader_id is None else state.leader_id,
            "leaderEpoch": state.epoch,
            "votedId": _NO_ID if state.voted_id is None else state.voted_id,
            "appliedOffset": 0,
            "currentVoters": [{"voterId": voter} for voter in self._voters],
            "data_version": _DATA_VERSION,
        }
        _replace_atomically(self.path, json.dumps(document).encode())


def _parse(document: Any, path: Path) -> ElectionState:
    if not isinstance(document, dict):
        raise QuorumStateError(f"{path} does not hold a JSON object")
    version = document.get("data_version", _DATA_VERSION)
    if version != _DATA_VERSION:
        raise QuorumStateError(f"{path} has unsupported data_version {version!r}")
    epoch = _int_field(document, "leaderEpoch", path, minimum=0)
    leader_id = _int_field(document, "leaderId", path, minimum=_NO_ID)
    voted_id = _int_field(document, "votedId", path, minimum=_NO_ID)
    return ElectionState(
        epoch=epoch,
        leader_id=None if leader_id == _NO_ID else leader_id,
        voted_id=None if voted_id == _NO_ID else voted_id,
    )


def _int_field(document: dict[str, Any], name: str, path: Path, minimum: int) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise QuorumStateError(f"{path} has an invalid {name}: {value!r}")
    return value


def _replace_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    # The rename is durable only once the directory entry is.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
