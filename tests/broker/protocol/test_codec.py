"""Request decoding and response encoding (`broker/protocol/codec.py`), no socket involved."""

from __future__ import annotations

import contextlib
import datetime
import io
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kio.index import load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i16, i32, i64

from strom.broker.handlers.registry import APIS
from strom.broker.handlers.response_builder import make
from strom.broker.protocol.codec import (
    API_VERSIONS_KEY,
    RequestDecodeError,
    ResponseDecodeError,
    UnsupportedVersionError,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    response_correlation_id,
    unsupported_api_versions_response,
)

SUPPORTED = {spec.key: (spec.min_version, spec.max_version) for spec in APIS}
FETCH = 1
METADATA = 3
INIT_PRODUCER_ID = 22


def _request(
    api_key: int, api_version: int, correlation_id: int, client_id: str | None, **body: Any
) -> bytes:
    """A request frame (without its size prefix) written by kio."""
    request_type = load_request_schema(api_key, api_version)
    header_type = request_type.__header_schema__
    buffer = io.BytesIO()
    entity_writer(header_type)(
        buffer,
        header_type(
            request_api_key=i16(api_key),
            request_api_version=i16(api_version),
            correlation_id=i32(correlation_id),
            client_id=client_id,
        ),
    )
    entity_writer(request_type)(buffer, make(request_type, **body))
    return buffer.getvalue()


def _metadata_request(
    api_version: int, correlation_id: int = 7, client_id: str | None = "c"
) -> bytes:
    return _request(
        METADATA,
        api_version,
        correlation_id,
        client_id,
        topics=None,
        allow_auto_topic_creation=False,
        include_cluster_authorized_operations=False,
        include_topic_authorized_operations=True,
    )


def _legacy_string(value: str) -> bytes:
    encoded = value.encode()
    return struct.pack(">h", len(encoded)) + encoded


def _compact_string(value: str) -> bytes:
    encoded = value.encode()
    return bytes([len(encoded) + 1]) + encoded


def _split_response(data: bytes) -> tuple[int, int, bytes]:
    """(size, correlation id, rest) of an encoded response frame."""
    size, correlation_id = struct.unpack_from(">ii", data)
    return size, correlation_id, data[8:]


# -- decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", [1, 4, 8])
def test_non_flexible_request_with_header_v1_is_decoded(api_version: int) -> None:
    decoded = decode_request(_metadata_request(api_version, 42, "my-client"), SUPPORTED)

    assert (decoded.api_key, decoded.api_version, decoded.correlation_id) == (3, api_version, 42)
    assert decoded.client_id == "my-client"
    assert decoded.body.topics is None
    assert type(decoded.body) is load_request_schema(METADATA, api_version)


@pytest.mark.parametrize("api_version", [9, 12, 13])
def test_flexible_request_with_header_v2_is_decoded(api_version: int) -> None:
    decoded = decode_request(_metadata_request(api_version, -5, "flex"), SUPPORTED)

    assert (decoded.api_version, decoded.correlation_id, decoded.client_id) == (
        api_version,
        -5,
        "flex",
    )
    assert decoded.body.include_topic_authorized_operations is True


def test_null_client_id_decodes_as_none() -> None:
    assert decode_request(_metadata_request(4, client_id=None), SUPPORTED).client_id is None
    assert decode_request(_metadata_request(12, client_id=None), SUPPORTED).client_id is None


def test_header_v2_client_id_is_a_legacy_int16_string_followed_by_tagged_fields() -> None:
    # Kafka's RequestHeader keeps ClientId non-compact even in flexible versions.
    frame = (
        struct.pack(">hhi", API_VERSIONS_KEY, 3, 99)
        + _legacy_string("librdkafka")
        + b"\x00"  # header tagged fields: none
        + _compact_string("strom-test")
        + _compact_string("1.0")
        + b"\x00"  # body tagged fields: none
    )
    decoded = decode_request(frame, SUPPORTED)

    assert decoded.client_id == "librdkafka"
    assert decoded.body.client_software_name == "strom-test"
    assert decoded.body.client_software_version == "1.0"


def test_unknown_tagged_fields_in_a_flexible_header_are_ignored() -> None:
    # The protocol's rule: a reader skips tagged fields it does not know.
    frame = (
        struct.pack(">hhi", API_VERSIONS_KEY, 3, 1)
        + _legacy_string("c")
        + b"\x01\x07\x03abc"  # one tagged field: tag 7, three bytes
        + _compact_string("strom-test")
        + _compact_string("1.0")
        + b"\x00"
    )
    decoded = decode_request(frame, SUPPORTED)

    assert (decoded.correlation_id, decoded.client_id) == (1, "c")
    assert decoded.body.client_software_name == "strom-test"


def test_unknown_tagged_fields_in_a_flexible_body_are_ignored() -> None:
    frame = (
        struct.pack(">hhi", API_VERSIONS_KEY, 3, 1)
        + _legacy_string("c")
        + b"\x00"
        + _compact_string("strom-test")
        + _compact_string("1.0")
        + b"\x02\x05\x02hi\x09\x00"  # two unknown tagged fields: tag 5 ("hi"), tag 9 (empty)
    )
    decoded = decode_request(frame, SUPPORTED)

    assert decoded.body.client_software_version == "1.0"


def test_known_tagged_fields_survive_next_to_unknown_ones_at_any_depth() -> None:
    request_type = load_request_schema(FETCH, 15)
    module = __import__(request_type.__module__, fromlist=["ReplicaState"])
    frame = _request(
        FETCH,
        15,
        5,
        "c",
        cluster_id="abc",
        replica_state=module.ReplicaState(replica_id=i32(3), replica_epoch=i64(9)),
        max_wait=datetime.timedelta(milliseconds=10),
        min_bytes=i32(1),
        topics=(),
        forgotten_topics_data=(),
    )
    # The body ends with its tagged fields: count 2, ClusterId (tag 0), ReplicaState (tag 1).
    replica_state = frame[-13:]
    assert frame[-22:-13] == b"\x02\x00\x04\x04abc\x01\x0d"
    nested_unknown = replica_state[:-1] + b"\x01\x04\x02zz"  # ReplicaState gains tag 4
    spliced = (
        frame[:-22]
        + b"\x03\x00\x04\x04abc\x01"
        + bytes([len(nested_unknown)])
        + nested_unknown
        + b"\x09\x01\xff"  # tag 9, one byte
    )
    decoded = decode_request(spliced, SUPPORTED)

    assert decoded.body.cluster_id == "abc"
    assert (decoded.body.replica_state.replica_id, decoded.body.replica_state.replica_epoch) == (
        3,
        9,
    )
    assert decode_request(frame, SUPPORTED).body == decoded.body


@pytest.mark.parametrize(
    ("api_version", "count"),
    [(4, b"\x7f\xff\xff\xff"), (12, b"\xff\xff\xff\xff\x0f")],
    ids=["legacy-int32-count", "compact-uvarint-count"],
)
def test_array_count_beyond_the_frame_is_rejected_before_anything_is_allocated(
    api_version: int, count: bytes
) -> None:
    # kio preallocates arrays from the declared count: unchecked, this aborts the process.
    header = _metadata_request(api_version)[: 8 + 2 + 1 + (1 if api_version >= 9 else 0)]
    frame = header + count + b"\x00" * 8

    with pytest.raises(RequestDecodeError, match="remain") as raised:
        decode_request(frame, SUPPORTED)

    assert not isinstance(raised.value, UnsupportedVersionError)


@pytest.mark.parametrize("length", [b"\x7f\xff", b"\xff\xff\xff\x7f"])
def test_string_length_beyond_the_frame_is_malformed(length: bytes) -> None:
    frame = struct.pack(">hhi", API_VERSIONS_KEY, 3, 1) + _legacy_string("c") + b"\x00" + length

    with pytest.raises(RequestDecodeError, match="malformed"):
        decode_request(frame, SUPPORTED)


@pytest.mark.parametrize(
    ("api_key", "api_version", "null"),
    [(21, 1, b"\xff\xff\xff\xff"), (21, 2, b"\x00"), (3, 0, b"\xff\xff\xff\xff")],
    ids=["legacy-array", "compact-array", "metadata-v0-topics"],
)
def test_null_where_the_schema_forbids_it_is_malformed(
    api_key: int, api_version: int, null: bytes
) -> None:
    # As in Kafka's generated readers; kio alone would hand the handler None.
    flexible = b"\x00" if api_version >= 2 and api_key == 21 else b""
    frame = struct.pack(">hhi", api_key, api_version, 3) + _legacy_string("c") + flexible + null

    with pytest.raises(RequestDecodeError, match="serialized as null"):
        decode_request(frame + b"\x00" * 8, SUPPORTED)


@pytest.mark.parametrize("length", [0, 1, 7])
def test_frame_shorter_than_the_fixed_header_is_malformed(length: int) -> None:
    with pytest.raises(RequestDecodeError) as raised:
        decode_request(b"\x00" * length, SUPPORTED)
    assert not isinstance(raised.value, UnsupportedVersionError)


@pytest.mark.parametrize("api_key", [-1, 17, 80, 999, 32767])
def test_unknown_api_key_is_unsupported_and_keeps_the_correlation_id(api_key: int) -> None:
    frame = struct.pack(">hhi", api_key, 0, 1234) + _legacy_string("c") + b"garbage"

    with pytest.raises(UnsupportedVersionError) as raised:
        decode_request(frame, SUPPORTED)

    error = raised.value
    assert (error.api_key, error.api_version, error.correlation_id) == (api_key, 0, 1234)


@pytest.mark.parametrize(("api_key", "api_version"), [(0, 2), (0, 13), (1, 3), (3, -1), (18, 5)])
def test_version_outside_the_served_range_is_unsupported(api_key: int, api_version: int) -> None:
    frame = struct.pack(">hhi", api_key, api_version, 77) + _legacy_string("c")

    with pytest.raises(UnsupportedVersionError) as raised:
        decode_request(frame, SUPPORTED)

    assert raised.value.api_version == api_version
    assert raised.value.correlation_id == 77


def test_truncated_body_is_malformed_and_names_the_request() -> None:
    frame = _metadata_request(12)

    with pytest.raises(RequestDecodeError, match="malformed MetadataRequest v12") as raised:
        decode_request(frame[:-2], SUPPORTED)

    assert not isinstance(raised.value, UnsupportedVersionError)


def test_truncated_client_id_is_malformed() -> None:
    frame = struct.pack(">hhi", METADATA, 4, 1) + struct.pack(">h", 50) + b"short"

    with pytest.raises(RequestDecodeError, match="malformed"):
        decode_request(frame, SUPPORTED)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=256))
def test_arbitrary_bytes_decode_or_raise_request_decode_error(data: bytes) -> None:
    with contextlib.suppress(RequestDecodeError):
        decode_request(data, SUPPORTED)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(SUPPORTED)).flatmap(
        lambda key: st.tuples(st.just(key), st.integers(SUPPORTED[key][0], SUPPORTED[key][1]))
    ),
    st.integers(-(1 << 31), (1 << 31) - 1),
    st.one_of(st.none(), st.text(max_size=20)),
    st.binary(max_size=200),
)
def test_served_request_header_with_garbage_body_never_escapes_as_another_error(
    api: tuple[int, int], correlation_id: int, client_id: str | None, body: bytes
) -> None:
    api_key, api_version = api
    header = load_request_schema(api_key, api_version).__header_schema__
    buffer = io.BytesIO()
    entity_writer(header)(
        buffer,
        header(
            request_api_key=i16(api_key),
            request_api_version=i16(api_version),
            correlation_id=i32(correlation_id),
            client_id=client_id,
        ),
    )
    try:
        decoded = decode_request(buffer.getvalue() + body, SUPPORTED)
    except RequestDecodeError as error:
        assert not isinstance(error, UnsupportedVersionError)
        return
    assert (decoded.api_key, decoded.api_version) == api
    assert decoded.correlation_id == correlation_id


# -- encoding ------------------------------------------------------------------------------


def test_non_flexible_response_has_size_correlation_id_then_body() -> None:
    response_type = load_response_schema(INIT_PRODUCER_ID, 1)
    response = response_type(
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        producer_id=i64(5),
        producer_epoch=i16(0),
    )
    data = encode_response(31, response)

    size, correlation_id, body = _split_response(data)
    assert (size, correlation_id) == (len(data) - 4, 31)
    assert entity_reader(response_type)(body, 0) == (response, len(body))


def test_flexible_response_uses_header_v1_with_empty_tagged_fields() -> None:
    response_type = load_response_schema(INIT_PRODUCER_ID, 4)
    response = response_type(
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        producer_id=i64(5),
        producer_epoch=i16(0),
    )
    data = encode_response(32, response)

    size, correlation_id, rest = _split_response(data)
    assert (size, correlation_id) == (len(data) - 4, 32)
    assert rest[0] == 0  # header tagged fields
    assert entity_reader(response_type)(rest, 1) == (response, len(rest) - 1)


def test_flexible_api_versions_response_still_uses_header_v0() -> None:
    # A client reads the ApiVersions response before it knows which header versions apply.
    response_type = load_response_schema(API_VERSIONS_KEY, 3)
    module = __import__(response_type.__module__, fromlist=["ApiVersion"])
    response = response_type(
        error_code=ErrorCode.none,
        api_keys=(module.ApiVersion(api_key=i16(18), min_version=i16(0), max_version=i16(4)),),
        throttle_time=datetime.timedelta(0),
    )
    data = encode_response(33, response)

    _, correlation_id, body = _split_response(data)
    assert correlation_id == 33
    assert entity_reader(response_type)(body, 0) == (response, len(body))


def test_too_new_api_versions_is_answered_with_a_v0_unsupported_version_body() -> None:
    data = unsupported_api_versions_response(1234, SUPPORTED)

    size, correlation_id, body = _split_response(data)
    assert (size, correlation_id) == (len(data) - 4, 1234)
    response, consumed = entity_reader(load_response_schema(API_VERSIONS_KEY, 0))(body, 0)
    assert consumed == len(body)
    assert response.error_code == ErrorCode.unsupported_version
    served = {entry.api_key: (entry.min_version, entry.max_version) for entry in response.api_keys}
    # The client retries at the highest ApiVersions version listed here.
    assert served[API_VERSIONS_KEY] == SUPPORTED[API_VERSIONS_KEY]
    assert served == SUPPORTED


# -- the client side: request encoding and response decoding ------------------------------


@pytest.mark.parametrize(("api_key", "api_version"), [(METADATA, 8), (METADATA, 12), (18, 3)])
def test_encoded_request_decodes_on_the_server_side(api_key: int, api_version: int) -> None:
    request_type = load_request_schema(api_key, api_version)
    request = make(
        request_type,
        topics=None,
        allow_auto_topic_creation=False,
        include_cluster_authorized_operations=False,
        include_topic_authorized_operations=False,
        client_software_name="strom",
        client_software_version="1",
    )
    data = encode_request(request, 99, "strom-broker-1")

    assert struct.unpack_from(">i", data)[0] == len(data) - 4
    decoded = decode_request(data[4:], SUPPORTED)
    assert (decoded.api_key, decoded.api_version) == (api_key, api_version)
    assert (decoded.correlation_id, decoded.client_id) == (99, "strom-broker-1")
    assert decoded.body == request


@pytest.mark.parametrize("api_version", [1, 4])
def test_encoded_response_decodes_on_the_client_side(api_version: int) -> None:
    response = load_response_schema(INIT_PRODUCER_ID, api_version)(
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        producer_id=i64(5),
        producer_epoch=i16(0),
    )
    frame = encode_response(41, response)[4:]

    assert response_correlation_id(frame) == 41
    assert decode_response(frame, INIT_PRODUCER_ID, api_version) == response


def test_api_versions_response_decodes_with_header_v0_at_any_version() -> None:
    frame = unsupported_api_versions_response(42, SUPPORTED)[4:]
    assert decode_response(frame, API_VERSIONS_KEY, 0).error_code == ErrorCode.unsupported_version


def test_undecodable_response_raises_response_decode_error() -> None:
    with pytest.raises(ResponseDecodeError, match="InitProducerIdResponse"):
        decode_response(b"\x00\x00\x00\x01\x00", INIT_PRODUCER_ID, 4)
    with pytest.raises(ResponseDecodeError):
        response_correlation_id(b"\x00")
