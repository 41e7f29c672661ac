"""A minimal blocking Kafka client built on kio, for tests that need exact requests
(replayed batches, raw error codes) that real client libraries never send on purpose."""

from __future__ import annotations

import io
import socket
import struct
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i16, i32

from strom.broker.handlers.response_builder import make

TIMEOUT_S = 10.0
_SIZE = struct.Struct(">i")


class KafkaWireClient:
    def __init__(self, bootstrap: str) -> None:
        host, port = bootstrap.rsplit(":", 1)
        self._socket = socket.create_connection((host, int(port)), timeout=TIMEOUT_S)
        self._correlation_id = 0

    def __enter__(self) -> KafkaWireClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._socket.close()

    def request(self, api_key: int, api_version: int, **body: Any) -> Any:
        """Send one request and return kio's decoded response body."""
        self.send(api_key, api_version, **body)
        return self.receive(api_key, api_version)

    def send(self, api_key: int, api_version: int, **body: Any) -> None:
        self._correlation_id += 1
        frame = encode_request(api_key, api_version, self._correlation_id, **body)
        self._socket.sendall(frame)

    def receive(self, api_key: int, api_version: int) -> Any:
        (size,) = _SIZE.unpack(self._read_exactly(4))
        correlation_id, body = decode_response(self._read_exactly(size), api_key, api_version)
        assert correlation_id == self._correlation_id
        return body

    def _read_exactly(self, count: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < count:
            chunk = self._socket.recv(count - len(chunks))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            chunks += chunk
        return bytes(chunks)


def encode_request(api_key: int, api_version: int, correlation_id: int, **body: Any) -> bytes:
    """One request as it goes on the wire: size prefix, header, body."""
    request_type = load_request_schema(api_key, api_version)
    header_type = request_type.__header_schema__
    buffer = io.BytesIO()
    entity_writer(header_type)(
        buffer,
        header_type(
            request_api_key=i16(api_key),
            request_api_version=i16(api_version),
            correlation_id=i32(correlation_id),
            client_id="strom-tests",
        ),
    )
    entity_writer(request_type)(buffer, make(request_type, **body))
    frame = buffer.getvalue()
    return _SIZE.pack(len(frame)) + frame


def decode_response(frame: bytes, api_key: int, api_version: int) -> tuple[int, Any]:
    """A response frame without its size prefix: (correlation id, kio's decoded body)."""
    response_type = load_response_schema(api_key, api_version)
    header, offset = entity_reader(response_type.__header_schema__)(frame, 0)
    body, _ = entity_reader(response_type)(frame, offset)
    return int(header.correlation_id), body
