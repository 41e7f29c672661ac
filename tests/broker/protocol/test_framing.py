"""Kafka framing (`broker/protocol/framing.py`) read from an asyncio.StreamReader fed bytes."""

from __future__ import annotations

import asyncio
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strom.broker.protocol.framing import FrameError, frame, read_frame

MAX_SIZE = 1024


def _read_all(data: bytes, max_size: int = MAX_SIZE, *, eof: bool = True) -> list[bytes | None]:
    """Every read_frame result until the first None (clean end) or FrameError."""

    async def run() -> list[bytes | None]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        if eof:
            reader.feed_eof()
        results: list[bytes | None] = []
        while True:
            body = await asyncio.wait_for(read_frame(reader, max_size), 1.0)
            results.append(body)
            if body is None:
                return results

    return asyncio.run(run())


def _size(value: int) -> bytes:
    return struct.pack(">i", value)


def test_frame_prefixes_the_body_with_its_big_endian_size() -> None:
    assert frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert frame(b"") == b"\x00\x00\x00\x00"


def test_frames_are_read_back_to_back_then_none_at_a_clean_end() -> None:
    assert _read_all(frame(b"first") + frame(b"") + frame(b"third")) == [
        b"first",
        b"",
        b"third",
        None,
    ]


def test_a_closed_connection_with_no_bytes_reads_as_none() -> None:
    assert _read_all(b"") == [None]


def test_frame_of_exactly_the_maximum_size_is_accepted() -> None:
    body = b"x" * MAX_SIZE
    assert _read_all(frame(body)) == [body, None]


def test_frame_larger_than_socket_request_max_bytes_is_rejected_before_reading_it() -> None:
    with pytest.raises(FrameError, match=r"exceeds socket\.request\.max\.bytes"):
        # Only the prefix arrives: the limit is enforced without waiting for the body.
        _read_all(_size(MAX_SIZE + 1), eof=False)


@pytest.mark.parametrize("size", [-1, -(1 << 31)])
def test_negative_frame_size_is_rejected(size: int) -> None:
    with pytest.raises(FrameError, match="negative frame size"):
        _read_all(_size(size) + b"body")


@pytest.mark.parametrize("partial", [b"\x00", b"\x00\x00\x00"])
def test_connection_closed_inside_the_size_prefix_is_a_frame_error(partial: bytes) -> None:
    with pytest.raises(FrameError, match="inside a size prefix"):
        _read_all(partial)


def test_connection_closed_inside_the_body_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="after 3 of 10 request bytes"):
        _read_all(_size(10) + b"abc")


def test_truncated_frame_after_a_whole_one_fails_only_on_the_truncated_one() -> None:
    async def run() -> tuple[bytes | None, FrameError]:
        reader = asyncio.StreamReader()
        reader.feed_data(frame(b"whole") + _size(8) + b"part")
        reader.feed_eof()
        first = await read_frame(reader, MAX_SIZE)
        with pytest.raises(FrameError) as raised:
            await read_frame(reader, MAX_SIZE)
        return first, raised.value

    first, error = asyncio.run(run())
    assert first == b"whole"
    assert "after 4 of 8" in str(error)


def test_frame_arriving_in_pieces_is_reassembled() -> None:
    data = frame(b"split across many packets")

    async def run() -> bytes | None:
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        for index, byte in enumerate(data):
            loop.call_later(0.001 * index, reader.feed_data, bytes([byte]))
        return await asyncio.wait_for(read_frame(reader, MAX_SIZE), 5.0)

    assert asyncio.run(run()) == b"split across many packets"


@given(st.lists(st.binary(max_size=MAX_SIZE), max_size=8))
def test_any_sequence_of_frames_reads_back_unchanged(bodies: list[bytes]) -> None:
    assert _read_all(b"".join(frame(body) for body in bodies)) == [*bodies, None]


@given(st.binary(min_size=1, max_size=64))
def test_arbitrary_bytes_either_frame_cleanly_or_raise_frame_error(data: bytes) -> None:
    try:
        results = _read_all(data)
    except FrameError:
        return
    assert results[-1] is None
    assert sum(4 + len(body) for body in results if body is not None) == len(data)
