"""The "Python floor" server: a minimal asyncio server that appends each received frame
(4-byte size, then the body) to a file and answers with an 8-byte acknowledgement.

Two ways of reading, as two baselines:
- `buffered` receives straight into one reused buffer (asyncio.BufferedProtocol) and writes
  from it: nothing a broker does costs less in one Python process, so its rate bounds what
  a Python broker's ingest can reach;
- `streams` reads each frame with StreamReader.readexactly (1 MiB reader limit), the
  idiomatic way and the way strom's listener reads requests.

    python -m bench.baselines.floor_server buffered|streams PORT FILE
"""

from __future__ import annotations

import asyncio
import os
import signal
import struct
import sys

_SIZE = struct.Struct(">i")
_ACK = struct.Struct(">ii")
_INITIAL_BUFFER = 4 << 20


class FloorProtocol(asyncio.BufferedProtocol):
    def __init__(self, log_fd: int) -> None:
        self._log_fd = log_fd
        self._buffer = bytearray(_INITIAL_BUFFER)
        self._filled = 0
        self._sequence = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._filled == len(self._buffer):  # a frame larger than the buffer: grow it
            self._buffer.extend(bytes(len(self._buffer)))
        return memoryview(self._buffer)[self._filled :]

    def buffer_updated(self, nbytes: int) -> None:
        self._filled += nbytes
        view = memoryview(self._buffer)
        start = 0
        while self._filled - start >= _SIZE.size:
            (size,) = _SIZE.unpack_from(view, start)
            end = start + _SIZE.size + size
            if end > self._filled:
                break
            os.write(self._log_fd, view[start + _SIZE.size : end])
            self._sequence += 1
            assert self._transport is not None
            self._transport.write(_ACK.pack(4, self._sequence))
            start = end
        if start:  # keep the incomplete frame's bytes at the front
            remaining = self._filled - start
            view[:remaining] = view[start : self._filled]
            self._filled = remaining
        view.release()


async def serve(mode: str, port: int, path: str) -> None:
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        loop = asyncio.get_running_loop()
        if mode == "buffered":
            server = await loop.create_server(lambda: FloorProtocol(log_fd), "127.0.0.1", port)
        else:
            server = await asyncio.start_server(
                lambda r, w: _stream_connection(r, w, log_fd), "127.0.0.1", port, limit=1 << 20
            )
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()
    finally:
        os.close(log_fd)


async def _stream_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log_fd: int
) -> None:
    sequence = 0
    try:
        while True:
            (size,) = _SIZE.unpack(await reader.readexactly(_SIZE.size))
            os.write(log_fd, await reader.readexactly(size))
            sequence += 1
            writer.write(_ACK.pack(4, sequence))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
