"""Kafka framing: every request and response is a 4-byte big-endian size, then the body."""

from __future__ import annotations

import asyncio
import struct

_SIZE = struct.Struct(">i")


class FrameError(Exception):
    """The peer broke framing (bad size, too large, vanished mid-frame): close it."""


async def read_frame(reader: asyncio.StreamReader, max_size: int) -> bytes | None:
    """The next request body, or None when the peer closed cleanly between requests."""
    try:
        prefix = await reader.readexactly(4)
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise FrameError("connection closed inside a size prefix") from None
        return None
    (size,) = _SIZE.unpack(prefix)
    if size < 0:
        raise FrameError(f"negative frame size {size}")
    if size > max_size:
        raise FrameError(f"frame of {size} bytes exceeds socket.request.max.bytes {max_size}")
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as error:
        raise FrameError(
            f"connection closed after {len(error.partial)} of {size} request bytes"
        ) from None


def frame(body: bytes) -> bytes:
    return _SIZE.pack(len(body)) + body
