"""Requests and responses as bytes, with kio's generated message types: the broker decodes
requests and encodes responses; its inter-broker client does the reverse.

The request header's version follows from the API and its version (flexible versions use
header v2 with tagged fields); the response header likewise, except that ApiVersions
responses always use header v0 so that a client can read them before it knows anything.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.api_versions.v0.response import ApiVersion, ApiVersionsResponse
from kio.schema.errors import ErrorCode
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i16, i32

from strom.broker.protocol.request_guard import guard_request

_PREFIX = struct.Struct(">hhi")
_INT32 = struct.Struct(">i")
API_VERSIONS_KEY = 18


class RequestDecodeError(Exception):
    """The request could not be decoded; the connection is closed with this reason."""


class ResponseDecodeError(Exception):
    """A response frame could not be decoded as the type its request expects."""


class UnsupportedVersionError(RequestDecodeError):
    """The API key or version is not one this broker serves."""

    def __init__(self, message: str, api_key: int, api_version: int, correlation_id: int) -> None:
        super().__init__(message)
        self.api_key = api_key
        self.api_version = api_version
        self.correlation_id = correlation_id


@dataclass(frozen=True, slots=True)
class DecodedRequest:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    body: Any


def decode_request(frame: bytes, supported: Mapping[int, tuple[int, int]]) -> DecodedRequest:
    """Decode one request frame. Raises UnsupportedVersionError for an API or version
    outside `supported`, RequestDecodeError for anything malformed."""
    if len(frame) < _PREFIX.size:
        raise RequestDecodeError(f"request of {len(frame)} bytes is shorter than its header")
    api_key, api_version, correlation_id = _PREFIX.unpack_from(frame)
    versions = supported.get(api_key)
    if versions is None or not versions[0] <= api_version <= versions[1]:
        raise UnsupportedVersionError(
            f"unsupported API key {api_key} version {api_version}",
            api_key,
            api_version,
            correlation_id,
        )
    request_type = _request_type(api_key, api_version)
    try:
        frame = guard_request(frame, request_type)
        header, header_size = _reader(request_type.__header_schema__)(frame, 0)
        body, _ = _reader(request_type)(frame, header_size)
    except Exception as error:  # kio's native reader raises several types on garbage
        raise RequestDecodeError(
            f"malformed {request_type.__name__} v{api_version}: {type(error).__name__}: {error}"
        ) from None
    return DecodedRequest(api_key, api_version, correlation_id, header.client_id, body)


def encode_response(correlation_id: int, response: Any) -> bytes:
    """The complete response frame (size prefix, header, body)."""
    buffer = io.BytesIO()
    buffer.write(b"\x00\x00\x00\x00")
    buffer.write(_INT32.pack(correlation_id))
    if response.__flexible__ and response.__api_key__ != API_VERSIONS_KEY:
        buffer.write(b"\x00")  # response header v1: no tagged fields
    _writer(type(response))(buffer, response)
    size = buffer.tell() - 4
    buffer.seek(0)
    buffer.write(_INT32.pack(size))
    # getvalue() hands over BytesIO's own buffer without copying it (no exports are
    # alive), which saves one copy of every fetched byte.
    return buffer.getvalue()


def encode_request(request: Any, correlation_id: int, client_id: str | None) -> bytes:
    """The complete request frame (size prefix, header, body) of a kio request; the
    header version (v1, or v2 for flexible versions) is the one kio's type names."""
    request_type: Any = type(request)
    header_type = request_type.__header_schema__
    header = header_type(
        request_api_key=i16(request.__api_key__),
        request_api_version=i16(request.__version__),
        correlation_id=i32(correlation_id),
        client_id=client_id,
    )
    buffer = io.BytesIO()
    buffer.write(b"\x00\x00\x00\x00")
    _writer(header_type)(buffer, header)
    _writer(request_type)(buffer, request)
    size = buffer.tell() - 4
    buffer.seek(0)
    buffer.write(_INT32.pack(size))
    return buffer.getvalue()


def response_correlation_id(frame: bytes) -> int:
    """The correlation id that opens every response header."""
    if len(frame) < _INT32.size:
        raise ResponseDecodeError(f"response of {len(frame)} bytes is shorter than its header")
    return int(_INT32.unpack_from(frame)[0])


def decode_response(frame: bytes, api_key: int, api_version: int) -> Any:
    """The body of a response frame (without its size prefix) to a request of this API and
    version; kio's response type knows its header version (always v0 for ApiVersions)."""
    response_type = _response_type(api_key, api_version)
    try:
        _, header_size = _reader(response_type.__header_schema__)(frame, 0)
        body, _ = _reader(response_type)(frame, header_size)
    except Exception as error:  # kio's native reader raises several types on garbage
        raise ResponseDecodeError(
            f"malformed {response_type.__name__} v{api_version}: {type(error).__name__}: {error}"
        ) from None
    return body


def unsupported_api_versions_response(
    correlation_id: int, supported: Mapping[int, tuple[int, int]]
) -> bytes:
    """Kafka's answer to a too-new ApiVersions request: a v0 body with
    UNSUPPORTED_VERSION and the ranges served, so the client can retry at a known version."""
    response = ApiVersionsResponse(
        error_code=ErrorCode.unsupported_version,
        api_keys=tuple(
            ApiVersion(api_key=i16(key), min_version=i16(low), max_version=i16(high))
            for key, (low, high) in sorted(supported.items())
        ),
    )
    return encode_response(correlation_id, response)


def response_type(api_key: int, api_version: int) -> Any:
    return _response_type(api_key, api_version)


@functools.cache
def _request_type(api_key: int, api_version: int) -> Any:
    return load_request_schema(api_key, api_version)


@functools.cache
def _response_type(api_key: int, api_version: int) -> Any:
    return load_response_schema(api_key, api_version)


@functools.cache
def _reader(entity_type: Any) -> Any:
    return entity_reader(entity_type)


@functools.cache
def _writer(entity_type: Any) -> Any:
    return entity_writer(entity_type)
