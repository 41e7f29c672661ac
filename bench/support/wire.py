"""A minimal blocking Kafka wire client built on kio: requests are kio's generated types,
responses are read into one reused buffer and decoded only when the caller asks."""

from __future__ import annotations

import functools
import io
import socket
import struct
from typing import Any

from kio.index import load_response_schema
from kio.serial import entity_reader, entity_writer

TIMEOUT_S = 30.0
_SIZE = struct.Struct(">i")
_CLIENT_ID = "strom-bench"


class WireClient:
    """One connection, one request in flight, like a Kafka client's connection."""

    def __init__(self, bootstrap: str, timeout_s: float = TIMEOUT_S) -> None:
        host, port = bootstrap.rsplit(":", 1)
        self._socket = socket.create_connection((host, int(port)), timeout=timeout_s)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._correlation_id = 0
        self._buffer = bytearray(1 << 20)
        self.bytes_received = 0

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._socket.close()

    def send(self, request: Any) -> None:
        self._correlation_id += 1
        self._socket.sendall(encode_request(request, self._correlation_id))

    def receive_frame(self) -> memoryview:
        """The next response frame (without its size prefix) as a view of the reused buffer,
        valid until the next call."""
        (size,) = _SIZE.unpack(self._read_into(4))
        if size > len(self._buffer):
            self._buffer = bytearray(size)
        return self._read_into(size)

    def request(self, request: Any) -> Any:
        """Send a request and return kio's decoded response body."""
        self.send(request)
        return decode_response(request, self.receive_frame())

    def _read_into(self, count: int) -> memoryview:
        view = memoryview(self._buffer)[:count]
        received = 0
        while received < count:
            chunk = self._socket.recv_into(view[received:], count - received)
            if chunk == 0:
                raise ConnectionError("broker closed the connection")
            received += chunk
        self.bytes_received += count
        return view


def encode_request(request: Any, correlation_id: int) -> bytes:
    """The request as it goes on the wire: size prefix, header, body."""
    header_type = request.__header_schema__
    buffer = io.BytesIO()
    buffer.write(b"\x00\x00\x00\x00")
    fields = {
        "request_api_key": int(request.__api_key__),
        "request_api_version": int(request.__version__),
        "correlation_id": correlation_id,
        "client_id": _CLIENT_ID,
    }
    _writer(header_type)(buffer, header_type(**fields))
    _writer(request.__class__)(buffer, request)
    frame = buffer.getbuffer()
    _SIZE.pack_into(frame, 0, len(frame) - 4)
    return bytes(frame)


def decode_response(request: Any, frame: memoryview | bytes) -> Any:
    response_type = _response_type(int(request.__api_key__), int(request.__version__))
    data = bytes(frame)
    _, offset = _reader(response_type.__header_schema__)(data, 0)
    body, _ = _reader(response_type)(data, offset)
    return body


@functools.cache
def _response_type(api_key: int, api_version: int) -> Any:
    return load_response_schema(api_key, api_version)


@functools.cache
def _reader(entity_type: Any) -> Any:
    return entity_reader(entity_type)


@functools.cache
def _writer(entity_type: Any) -> Any:
    return entity_writer(entity_type)
