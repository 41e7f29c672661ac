"""Hostile bytes against one real broker: malformed frames, random request headers with garbage
bodies and clients vanishing mid-request only ever cost the offending connection. The broker
stays up, keeps serving real clients and keeps its log data intact."""

from __future__ import annotations

import datetime
import io
import socket
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kio.index import load_request_schema
from kio.serial import entity_writer
from kio.static.primitive import i16, i32

from strom.broker.handlers.response_builder import make
from strom.broker.log.batch_builder import RecordToWrite, build_batch
from tests.support.broker import BrokerProcess, running_broker

MAX_REQUEST_BYTES = 1 << 20
TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 1.0
CANARY_RECORDS = 50
HEALTH_EVERY = 200  # examples between full producer/consumer round trips
API_VERSIONS = 18
UNSUPPORTED_VERSION = 35

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@dataclass
class FuzzTarget:
    """The broker under fire, with what it must still hold when the fuzzing is over."""

    broker: BrokerProcess
    canary: str
    sink: str
    canary_values: list[bytes]
    served: dict[int, tuple[int, int]]
    valid_requests: list[bytes] = field(default_factory=list)
    examples: int = 0
    round_trips: list[float] = field(default_factory=list)

    def check_alive(self) -> None:
        """Cheap after every example; a full client round trip every HEALTH_EVERY."""
        assert self.broker.is_running(), f"broker died:\n{self.broker.log_text()[-3000:]}"
        self.examples += 1
        if self.examples % HEALTH_EVERY == 0:
            started = time.monotonic()
            _round_trip(self.broker, self.sink)
            self.round_trips.append(time.monotonic() - started)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    overrides = {"socket.request.max.bytes": str(MAX_REQUEST_BYTES)}
    with running_broker(tmp_path_factory.mktemp("fuzz"), overrides) as broker:
        suffix = uuid.uuid4().hex[:6]
        canary, sink = f"fuzz-canary-{suffix}", f"fuzz-sink-{suffix}"
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for future in admin.create_topics([NewTopic(canary, 2, 1), NewTopic(sink, 1, 1)]).values():
            future.result(TIMEOUT_S)
        values = [f"canary-{index}".encode() for index in range(CANARY_RECORDS)]
        _produce(broker, canary, values)
        fuzz_target = FuzzTarget(broker, canary, sink, values, _served_versions(broker))
        fuzz_target.valid_requests = _valid_requests(fuzz_target)
        yield fuzz_target
        # The last word: alive, serving, and the data written before the fuzzing intact.
        fuzz_target.check_alive()
        _round_trip(broker, sink)
        assert sorted(_read_topic(broker, canary, 2)) == sorted(values)
        # Garbage that decodes must be answered or refused at the edge, never crash a handler.
        assert "Traceback" not in broker.log_text()


# -- (a) malformed frames ------------------------------------------------------------------


size_prefixes = st.one_of(
    st.integers(-(1 << 31), -1),  # negative
    st.integers(MAX_REQUEST_BYTES + 1, (1 << 31) - 1),  # above socket.request.max.bytes
    st.integers(0, 64),  # small: often longer than the bytes that follow (truncated)
    st.integers(65, MAX_REQUEST_BYTES),  # announced, never delivered
)


@pytest.mark.slow
@settings(FUZZ, max_examples=3000)
@given(
    prefix=size_prefixes,
    body=st.binary(max_size=96),
    trailing=st.binary(max_size=16),
    raw=st.booleans(),
    abort=st.booleans(),
)
def test_malformed_frames_close_only_their_connection(
    target: FuzzTarget, prefix: int, body: bytes, trailing: bytes, raw: bool, abort: bool
) -> None:
    data = body + trailing if raw else struct.pack(">i", prefix) + body + trailing
    received = _exchange(target.broker.port, data, abort=abort)
    if received is not None:
        _split_frames(received)  # whatever came back is whole response frames
    target.check_alive()


# -- (b) random request headers with garbage bodies ----------------------------------------


@st.composite
def request_headers(draw: st.DrawFn, served: dict[int, tuple[int, int]]) -> tuple[int, bytes]:
    """(correlation id, header bytes): a served API and version half the time, otherwise
    anything in Kafka's key space, in the header layout the version implies or a wrong one."""
    if draw(st.booleans()):
        api_key = draw(st.sampled_from(sorted(served)))
        low, high = served[api_key]
        api_version = draw(st.integers(low, high))
    else:
        api_key = draw(st.integers(0, 80))
        api_version = draw(st.integers(-1, 20))
    correlation_id = draw(st.integers(-(1 << 31), (1 << 31) - 1))
    client_id = draw(st.one_of(st.none(), st.text(max_size=24)))
    header = struct.pack(">hhi", api_key, api_version, correlation_id)
    if client_id is None:
        header += struct.pack(">h", -1)
    else:
        encoded = client_id.encode()
        header += struct.pack(">h", len(encoded)) + encoded
    # Flexible versions carry header tagged fields; send none, empty or random ones.
    header += draw(st.sampled_from([b"", b"\x00", b"\x01\x00\x00"]) | st.binary(max_size=6))
    return correlation_id, header


@pytest.mark.slow
@settings(FUZZ, max_examples=2000)
@given(data=st.data(), body=st.binary(max_size=256), abort=st.booleans())
def test_random_headers_with_garbage_bodies_get_an_answer_or_a_close(
    target: FuzzTarget, data: st.DataObject, body: bytes, abort: bool
) -> None:
    correlation_id, header = data.draw(request_headers(target.served))
    received = _exchange(target.broker.port, _frame(header + body), abort=abort)
    if received:
        for response in _split_frames(received):
            (answered,) = struct.unpack_from(">i", response)
            assert answered == correlation_id
    target.check_alive()


# -- (c) clients vanishing mid-request -----------------------------------------------------


@settings(FUZZ, max_examples=300)
@given(which=st.integers(0, 3), cut=st.floats(0.0, 1.0), abort=st.booleans())
def test_client_vanishing_mid_request_leaves_the_broker_serving(
    target: FuzzTarget, which: int, cut: float, abort: bool
) -> None:
    frame = target.valid_requests[which]
    partial = frame[: int(len(frame) * cut)]
    _exchange(target.broker.port, partial, abort=abort, read=False)
    target.check_alive()


def test_client_leaving_without_reading_its_responses(target: FuzzTarget) -> None:
    frames = target.valid_requests
    for _ in range(50):
        for frame in frames:
            _exchange(target.broker.port, frame * 3, abort=True, read=False)
    target.check_alive()
    _round_trip(target.broker, target.sink)


def test_client_leaving_while_its_fetch_is_parked(target: FuzzTarget) -> None:
    parked = [_open(target.broker.port) for _ in range(20)]
    for sock in parked:
        sock.sendall(_long_poll_fetch(target))
    time.sleep(0.2)
    for sock in parked:
        _abort(sock)
    # The append wakes fetches whose clients are gone; the broker must shrug that off.
    _round_trip(target.broker, target.sink)
    target.check_alive()


def test_many_connections_abandoned_at_once(target: FuzzTarget) -> None:
    frame = target.valid_requests[0]
    sockets = [_open(target.broker.port) for _ in range(200)]
    for index, sock in enumerate(sockets):
        sock.sendall(frame[: 1 + index % (len(frame) - 1)])
    for sock in sockets:
        _abort(sock)
    target.check_alive()
    _round_trip(target.broker, target.sink)


# -- deterministic protocol edge cases -----------------------------------------------------


def test_too_new_api_versions_gets_a_v0_unsupported_version_answer_and_the_connection_stays(
    target: FuzzTarget,
) -> None:
    with _open(target.broker.port) as sock:
        sock.sendall(_frame(struct.pack(">hhih", API_VERSIONS, 999, 41, 1) + b"c\x00\x00"))
        error_code, versions = _parse_api_versions_v0(_read_frame(sock), 41)
        assert error_code == UNSUPPORTED_VERSION
        assert versions[API_VERSIONS] == target.served[API_VERSIONS]

        # Kafka's downgrade: the client retries at a version the answer listed.
        sock.sendall(_api_versions_v0(correlation_id=42))
        error_code, versions = _parse_api_versions_v0(_read_frame(sock), 42)
        assert error_code == 0
        assert versions == target.served


@pytest.mark.parametrize("api_key", [17, 80, 999, -1])
def test_unknown_api_key_closes_the_connection_without_an_answer(
    target: FuzzTarget, api_key: int
) -> None:
    header = struct.pack(">hhih", api_key, 0, 7, 1) + b"c"
    assert _exchange(target.broker.port, _frame(header + b"\x00" * 16), half_close=False) == b""
    target.check_alive()


@pytest.mark.parametrize("size", [-1, MAX_REQUEST_BYTES + 1])
def test_bad_frame_size_closes_the_connection_without_an_answer(
    target: FuzzTarget, size: int
) -> None:
    data = struct.pack(">i", size) + _api_versions_v0(1)
    assert _exchange(target.broker.port, data, half_close=False) == b""
    target.check_alive()


def test_array_count_beyond_the_frame_closes_only_that_connection(target: FuzzTarget) -> None:
    # Metadata v12 claiming 2**32 - 2 topics in a 25-byte request: unchecked, the decoder
    # tries to preallocate them all and the allocation failure aborts the process.
    header = struct.pack(">hhih", 3, 12, 9, 1) + b"c" + b"\x00"
    frame = _frame(header + b"\xff\xff\xff\xff\x0f" + b"\x00" * 8)
    assert _exchange(target.broker.port, frame, half_close=False) == b""
    target.check_alive()
    _round_trip(target.broker, target.sink)


# -- raw sockets ---------------------------------------------------------------------------


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
    sock.settimeout(READ_TIMEOUT_S)
    return sock


def _abort(sock: socket.socket) -> None:
    """Close with a reset rather than an orderly FIN, as a crashed client would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _exchange(
    port: int, data: bytes, *, abort: bool = False, half_close: bool = True, read: bool = True
) -> bytes | None:
    """Send `data` on a fresh connection, then (unless `read` is off) collect everything the
    broker sends until it closes. None when it neither answered nor closed in time."""
    sock = _open(port)
    try:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the broker may close before taking all of it (an oversized frame)
        if not read:
            return b""
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            return None
        except ConnectionResetError:
            pass
        return bytes(received)
    finally:
        if abort:
            _abort(sock)
        else:
            sock.close()


def _read_frame(sock: socket.socket) -> bytes:
    def exactly(count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            assert chunk, "connection closed before a whole response"
            data += chunk
        return bytes(data)

    (size,) = struct.unpack(">i", exactly(4))
    return exactly(size)


def _split_frames(data: bytes) -> list[bytes]:
    frames: list[bytes] = []
    position = 0
    while position < len(data):
        assert len(data) - position >= 8, f"a torn response: {data[position:]!r}"
        (size,) = struct.unpack_from(">i", data, position)
        assert 4 <= size <= len(data) - position - 4, f"a torn response of size {size}"
        frames.append(data[position + 4 : position + 4 + size])
        position += 4 + size
    return frames


def _frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


# -- requests ------------------------------------------------------------------------------


def _request(api_key: int, api_version: int, correlation_id: int, **body: object) -> bytes:
    request_type = load_request_schema(api_key, api_version)
    header_type = request_type.__header_schema__
    buffer = io.BytesIO()
    entity_writer(header_type)(
        buffer,
        header_type(
            request_api_key=i16(api_key),
            request_api_version=i16(api_version),
            correlation_id=i32(correlation_id),
            client_id="fuzz",
        ),
    )
    entity_writer(request_type)(buffer, make(request_type, **body))
    return _frame(buffer.getvalue())


def _api_versions_v0(correlation_id: int) -> bytes:
    return _request(API_VERSIONS, 0, correlation_id)


def _parse_api_versions_v0(
    response: bytes, correlation_id: int
) -> tuple[int, dict[int, tuple[int, int]]]:
    answered, error_code, count = struct.unpack_from(">ihi", response)
    assert answered == correlation_id
    entries = [struct.unpack_from(">hhh", response, 10 + 6 * i) for i in range(count)]
    assert 10 + 6 * count == len(response)
    return error_code, {key: (low, high) for key, low, high in entries}


def _served_versions(broker: BrokerProcess) -> dict[int, tuple[int, int]]:
    with _open(broker.port) as sock:
        sock.sendall(_api_versions_v0(1))
        error_code, versions = _parse_api_versions_v0(_read_frame(sock), 1)
    assert error_code == 0
    return versions


def _valid_requests(target: FuzzTarget) -> list[bytes]:
    """Well-formed requests a client might be cut off in the middle of."""
    produce = load_request_schema(0, 9)
    module = __import__(produce.__module__, fromlist=["TopicProduceData"])
    batch = build_batch(
        [RecordToWrite(None, b"cut-off" * 20, int(time.time() * 1000)) for _ in range(5)]
    )
    partition = make(module.PartitionProduceData, index=i32(0), records=batch)
    return [
        _api_versions_v0(1),
        _request(
            3,
            12,
            2,
            topics=None,
            allow_auto_topic_creation=False,
            include_topic_authorized_operations=False,
        ),
        _request(
            0,
            9,
            3,
            transactional_id=None,
            acks=i16(-1),
            timeout=datetime.timedelta(seconds=5),
            topic_data=(
                make(module.TopicProduceData, name=target.sink, partition_data=(partition,)),
            ),
        ),
        _long_poll_fetch(target),
    ]


def _long_poll_fetch(target: FuzzTarget) -> bytes:
    """A Fetch at the sink's end that parks for up to five seconds."""
    fetch = load_request_schema(1, 11)
    module = __import__(fetch.__module__, fromlist=["FetchTopic"])
    partition = make(
        module.FetchPartition,
        partition=i32(0),
        current_leader_epoch=i32(-1),
        fetch_offset=_log_end(target),
        log_start_offset=-1,
        partition_max_bytes=i32(1 << 20),
    )
    return _request(
        1,
        11,
        4,
        replica_id=i32(-1),
        max_wait=datetime.timedelta(seconds=5),
        min_bytes=i32(1),
        max_bytes=i32(1 << 20),
        isolation_level=0,
        session_id=i32(0),
        session_epoch=i32(-1),
        topics=(make(module.FetchTopic, topic=target.sink, partitions=(partition,)),),
        forgotten_topics_data=(),
        rack_id="",
    )


# -- real clients --------------------------------------------------------------------------


def _produce(broker: BrokerProcess, topic: str, values: list[bytes]) -> list[tuple[int, int]]:
    acked: list[tuple[int, int]] = []
    errors: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)
        else:
            acked.append((message.partition(), message.offset()))

    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1})
    for value in values:
        producer.produce(topic, value=value, on_delivery=on_delivery)
    assert producer.flush(TIMEOUT_S) == 0
    assert not errors, errors
    return acked


def _round_trip(broker: BrokerProcess, topic: str) -> None:
    """A real producer and consumer still work: one record there and back."""
    value = f"round-trip-{uuid.uuid4().hex}".encode()
    [(partition, offset)] = _produce(broker, topic, [value])
    consumer = _consumer(broker)
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            assert message.error() is None, message.error()
            assert (message.offset(), message.value()) == (offset, value)
            return
    finally:
        consumer.close()
    raise AssertionError(f"the round-trip record did not come back within {TIMEOUT_S}s")


def _read_topic(broker: BrokerProcess, topic: str, partitions: int) -> list[bytes]:
    consumer = _consumer(broker)
    values: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        deadline = time.monotonic() + TIMEOUT_S
        while len(values) < CANARY_RECORDS and time.monotonic() < deadline:
            for message in consumer.consume(100, 0.2):
                assert message.error() is None, message.error()
                values.append(message.value() or b"")
    finally:
        consumer.close()
    return values


def _consumer(broker: BrokerProcess) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"fuzz-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "error",
            "check.crcs": True,
        }
    )


def _log_end(target: FuzzTarget) -> int:
    consumer = _consumer(target.broker)
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(target.sink, 0), TIMEOUT_S)
    finally:
        consumer.close()
    return int(high)
