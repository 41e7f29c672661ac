"""Tests for broker/log/checkpoints.py: Kafka's text checkpoints, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strom.broker.log.checkpoints import (
    OffsetCheckpointFile,
    read_entries,
    write_atomically,
    write_entries,
)
from strom.broker.log.errors import LogStorageError


def test_offset_checkpoints_round_trip(tmp_path: Path) -> None:
    checkpoint = OffsetCheckpointFile(tmp_path / "recovery-point-offset-checkpoint")
    offsets = {("orders", 0): 10, ("orders", 1): 0, ("my-topic.v2", 12): 2**40}

    checkpoint.write(offsets)

    assert OffsetCheckpointFile(checkpoint.path).read() == offsets


def test_offset_checkpoints_use_kafkas_text_format(tmp_path: Path) -> None:
    checkpoint = OffsetCheckpointFile(tmp_path / "replication-offset-checkpoint")

    checkpoint.write({("orders", 0): 10, ("payments", 3): 7})

    assert checkpoint.path.read_text() == "0\n2\norders 0 10\npayments 3 7\n"


def test_an_empty_checkpoint_round_trips(tmp_path: Path) -> None:
    checkpoint = OffsetCheckpointFile(tmp_path / "log-start-offset-checkpoint")

    checkpoint.write({})

    assert checkpoint.path.read_text() == "0\n0\n"
    assert checkpoint.read() == {}


def test_a_missing_checkpoint_reads_as_empty(tmp_path: Path) -> None:
    assert OffsetCheckpointFile(tmp_path / "absent").read() == {}
    assert read_entries(tmp_path / "absent") == []


@pytest.mark.parametrize(
    "text",
    [
        "",  # no version line
        "0\n",  # no count line
        "zero\n1\na 0 1\n",  # version is not a number
        "1\n1\norders 0 1\n",  # unknown version
        "0\n2\norders 0 1\n",  # fewer entries than counted
        "0\n1\norders 0 1\norders 1 2\n",  # more entries than counted
    ],
)
def test_a_malformed_checkpoint_raises_log_storage_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "checkpoint"
    path.write_text(text)

    with pytest.raises(LogStorageError, match="malformed"):
        read_entries(path)


def test_an_offset_checkpoint_entry_without_three_fields_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint"
    write_entries(path, ["orders 0"])

    with pytest.raises(LogStorageError, match="malformed"):
        OffsetCheckpointFile(path).read()


def test_write_atomically_replaces_the_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint"
    path.write_text("old")

    write_atomically(path, "new")

    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_a_failed_write_leaves_the_previous_checkpoint_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = OffsetCheckpointFile(tmp_path / "checkpoint")
    checkpoint.write({("orders", 0): 1})

    def crash(source: object, target: object) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(LogStorageError, match="disk went away"):
        checkpoint.write({("orders", 0): 2})
    monkeypatch.undo()

    assert checkpoint.read() == {("orders", 0): 1}


def test_write_atomically_writes_through_a_temp_file_then_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint"
    renames: list[tuple[str, str, str]] = []
    original_replace = os.replace

    def recording_replace(source: str | Path, target: str | Path) -> None:
        renames.append((Path(source).name, Path(target).name, Path(source).read_text()))
        original_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    write_atomically(path, "content")

    assert renames == [("checkpoint.tmp", "checkpoint", "content")]


def test_an_unwritable_directory_raises_log_storage_error(tmp_path: Path) -> None:
    with pytest.raises(LogStorageError):
        write_atomically(tmp_path / "missing-dir" / "checkpoint", "text")
