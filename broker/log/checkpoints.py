"""Kafka's small text checkpoint files, written atomically (temp file, fsync, rename).

Format, as Kafka writes them: a version line, an entry-count line, then one entry per line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from strom.broker.log.errors import LogStorageError

_VERSION = 0


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so a crash leaves either the old or the new file."""
    temp = path.with_name(path.name + ".tmp")
    try:
        with open(temp, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
        _fsync_directory(path.parent)
    except OSError as error:
        raise LogStorageError(f"cannot write {path}: {error}") from error


def write_entries(path: Path, entries: Iterable[str]) -> None:
    lines = list(entries)
    write_atomically(path, f"{_VERSION}\n{len(lines)}\n" + "".join(f"{line}\n" for line in lines))


def read_entries(path: Path) -> list[list[str]]:
    """The entries of a checkpoint file split on spaces; [] when it does not exist.
    A malformed file raises LogStorageError rather than being half-read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise LogStorageError(f"cannot read {path}: {error}") from error
    lines = text.splitlines()
    try:
        version, count = int(lines[0]), int(lines[1])
    except (IndexError, ValueError) as error:
        raise LogStorageError(f"malformed checkpoint file {path}") from error
    entries = [line.split() for line in lines[2:] if line.strip()]
    if version != _VERSION or len(entries) != count:
        raise LogStorageError(f"malformed checkpoint file {path}")
    return entries


class OffsetCheckpointFile:
    """`<topic> <partition> <offset>` per line: recovery points, log start offsets, HWs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[tuple[str, int], int]:
        result: dict[tuple[str, int], int] = {}
        for entry in read_entries(self.path):
            if len(entry) != 3:
                raise LogStorageError(f"malformed checkpoint entry in {self.path}: {entry}")
            topic, partition, offset = entry
            result[(topic, int(partition))] = int(offset)
        return result

    def write(self, offsets: Mapping[tuple[str, int], int]) -> None:
        write_entries(
            self.path,
            (f"{topic} {partition} {offset}" for (topic, partition), offset in offsets.items()),
        )


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
