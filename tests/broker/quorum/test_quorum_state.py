"""The quorum-state file: Kafka's JSON, replaced atomically, and refused when garbled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from strom.broker.quorum.quorum_state import (
    QUORUM_STATE_FILE,
    ElectionState,
    FileQuorumStateStore,
    QuorumStateError,
)


def test_a_fresh_node_has_no_state(tmp_path: Path) -> None:
    assert FileQuorumStateStore(tmp_path / QUORUM_STATE_FILE).read() is None


def test_written_state_reads_back_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / QUORUM_STATE_FILE
    FileQuorumStateStore(path, voters=[3, 1, 2]).write(ElectionState(7, leader_id=2, voted_id=3))
    assert FileQuorumStateStore(path).read() == ElectionState(7, leader_id=2, voted_id=3)


def test_the_file_uses_kafkas_field_names_and_minus_one_for_none(tmp_path: Path) -> None:
    path = tmp_path / QUORUM_STATE_FILE
    FileQuorumStateStore(path, voters=[2, 1]).write(ElectionState(4))
    assert json.loads(path.read_text()) == {
        "clusterId": "",
        "leaderId": -1,
        "leaderEpoch": 4,
        "votedId": -1,
        "appliedOffset": 0,
        "currentVoters": [{"voterId": 1}, {"voterId": 2}],
        "data_version": 0,
    }


def test_a_write_replaces_the_whole_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / QUORUM_STATE_FILE
    store = FileQuorumStateStore(path)
    store.write(ElectionState(1, voted_id=1))
    store.write(ElectionState(2, leader_id=3))
    assert store.read() == ElectionState(2, leader_id=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [QUORUM_STATE_FILE]


def test_a_leftover_temporary_file_from_a_crash_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / QUORUM_STATE_FILE
    store = FileQuorumStateStore(path)
    store.write(ElectionState(5, voted_id=2))
    (tmp_path / (QUORUM_STATE_FILE + ".tmp")).write_text('{"leaderEpoch": 9')  # torn write
    assert store.read() == ElectionState(5, voted_id=2)
    store.write(ElectionState(6))
    assert store.read() == ElectionState(6)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("", "not valid JSON"),
        ('{"leaderEpoch": 3, "leaderId": 1', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"leaderId": 1, "votedId": -1}', "leaderEpoch"),
        ('{"leaderEpoch": "3", "leaderId": 1, "votedId": -1}', "leaderEpoch"),
        ('{"leaderEpoch": -2, "leaderId": 1, "votedId": -1}', "leaderEpoch"),
        ('{"leaderEpoch": 3, "leaderId": true, "votedId": -1}', "leaderId"),
        ('{"leaderEpoch": 3, "leaderId": 1, "votedId": -7}', "votedId"),
        ('{"leaderEpoch": 3, "leaderId": 1, "votedId": -1, "data_version": 5}', "data_version"),
    ],
)
def test_a_garbled_file_is_refused_with_a_clear_error(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = tmp_path / QUORUM_STATE_FILE
    path.write_text(content)
    with pytest.raises(QuorumStateError, match=complaint) as error:
        FileQuorumStateStore(path).read()
    assert str(path) in str(error.value)


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / QUORUM_STATE_FILE
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(QuorumStateError):
        FileQuorumStateStore(path).read()
