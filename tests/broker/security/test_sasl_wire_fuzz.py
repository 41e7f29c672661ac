"""Random, mutated and truncated SASL exchanges against a live broker never log in: a
Metadata request after them is refused by closing the connection, the broker keeps
serving, and a real client still logs in afterwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import (
    AdminClient,
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tests.support.kafka_wire import decode_response, encode_request
from tests.support.sasl_broker import SaslBroker

pytestmark = pytest.mark.slow

METADATA, SASL_HANDSHAKE, API_VERSIONS, SASL_AUTHENTICATE = 3, 17, 18, 36
PRE_AUTHENTICATION_APIS = (SASL_HANDSHAKE, API_VERSIONS, SASL_AUTHENTICATE)
TIMEOUT_S = 5.0
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
DIGESTS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
# admin is a static PLAIN user; alice has SCRAM credentials, which PLAIN also accepts.
LOGINS = {"admin": b"admin-secret", "alice": b"alice-pw"}
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SIZE = struct.Struct(">i")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    started = SaslBroker(
        tmp_path_factory.mktemp("sasl-fuzz"),
        {"admin": LOGINS["admin"].decode()},
        # Failed logins answer at once, so many examples fit in the time budget.
        {"connection.failed.authentication.delay.ms": "0"},
    ).start()
    admin = AdminClient(started.settings("admin"))
    upserts = [
        UserScramCredentialUpsertion("alice", ScramCredentialInfo(mechanism, 4096), b"alice-pw")
        for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)
    ]
    for future in admin.alter_user_scram_credentials(upserts).values():
        future.result(TIMEOUT_S)
    try:
        yield started
    finally:
        started.stop()


class RawConnection:
    """One unauthenticated connection that tolerates the broker closing it at any time."""

    def __init__(self, bootstrap: str) -> None:
        host, port = bootstrap.rsplit(":", 1)
        self._socket = socket.create_connection((host, int(port)), timeout=TIMEOUT_S)
        self._correlation_id = 0
        self.closed = False

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()

    def next_frame(self, api_key: int, api_version: int, **body: Any) -> bytes:
        self._correlation_id += 1
        return encode_request(api_key, api_version, self._correlation_id, **body)

    def request(self, api_key: int, api_version: int, **body: Any) -> Any | None:
        """The response, or None once the broker has closed the connection."""
        return self.exchange(self.next_frame(api_key, api_version, **body), api_key, api_version)

    def exchange(self, frame: bytes, api_key: int, api_version: int) -> Any | None:
        if not self.send(frame):
            return None
        response = self._read_frame()
        if response is None:
            return None
        correlation_id, body = decode_response(response, api_key, api_version)
        assert correlation_id == self._correlation_id
        return body

    def send(self, data: bytes) -> bool:
        if self.closed:
            return False
        try:
            self._socket.sendall(data)
        except OSError:  # broken pipe, reset: the broker hung up
            self.closed = True
        return not self.closed

    def send_and_hang_up(self, data: bytes) -> None:
        """Send an incomplete frame and end the stream: the broker must just close."""
        if not self.send(data):
            return
        try:
            self._socket.shutdown(socket.SHUT_WR)
        except OSError:  # the broker closed first, after an earlier failed login
            self.closed = True
            return
        assert self._read_frame() is None

    def _read_frame(self) -> bytes | None:
        header = self._read_exactly(4)
        if header is None:
            return None
        (size,) = _SIZE.unpack(header)
        return self._read_exactly(size)

    def _read_exactly(self, count: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < count:
            try:
                chunk = self._socket.recv(count - len(chunks))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            chunks += chunk
        return bytes(chunks)


def assert_not_authenticated(connection: RawConnection) -> None:
    """A Metadata request on a connection that did not log in closes it unanswered."""
    answer = connection.request(
        METADATA,
        12,
        topics=None,
        allow_auto_topic_creation=False,
        include_topic_authorized_operations=False,
    )
    assert answer is None and connection.closed


def assert_broker_alive(broker: SaslBroker) -> None:
    assert broker.process.is_running(), broker.process.log_text()[-4000:]


# -- strategies -------------------------------------------------------------------------------


mechanisms = st.one_of(
    st.sampled_from(
        (*MECHANISMS, "plain", "GSSAPI", "OAUTHBEARER", "SCRAM-SHA-1", "", "PLAIN\0", " PLAIN")
    ),
    st.text(max_size=40),
)
names = st.one_of(st.sampled_from(("", "admin", "alice", "Admin", "alice\0")), st.text(max_size=20))
secrets = st.one_of(
    st.sampled_from((b"", b"admin-secret ", b"alice-pw\0", b"ALICE-PW", b"admin")),
    st.binary(max_size=40),
)


@st.composite
def plain_tokens(draw: st.DrawFn) -> bytes:
    """authzid NUL user NUL password with random fields, and sometimes extra fields."""
    fields = [draw(names).encode(), draw(names).encode(), draw(secrets)]
    if draw(st.booleans()):
        fields.insert(draw(st.integers(0, 3)), draw(st.binary(max_size=10)))
    token = b"\0".join(fields)
    assume(not _valid_plain(token))
    return token


def _valid_plain(token: bytes) -> bool:
    parts = token.split(b"\0")
    if len(parts) != 3:
        return False
    authzid, user, password = parts
    known = LOGINS.get(user.decode(errors="replace"))
    return known == password and authzid in (b"", user)


scram_like = st.builds(
    lambda parts: ",".join(parts).encode(),
    st.lists(
        st.one_of(
            st.sampled_from(("n", "y", "p=tls", "", "n=alice", "r=abc", "c=biws", "p=AAAA", "m=x")),
            st.text(max_size=12),
        ),
        max_size=6,
    ),
)
auth_bytes = st.one_of(st.binary(max_size=200), plain_tokens(), scram_like)


@st.composite
def steps(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(("handshake", "authenticate", "truncated", "garbage")))
    if kind == "handshake":
        return kind, (draw(st.integers(0, 1)), draw(mechanisms))
    if kind == "authenticate":
        return kind, (draw(st.integers(0, 2)), draw(auth_bytes))
    if kind == "truncated":
        return kind, (draw(st.booleans()), draw(auth_bytes), draw(st.floats(0, 1)))
    garbage = draw(st.binary(min_size=2, max_size=100))
    assume(struct.unpack(">h", garbage[:2])[0] not in PRE_AUTHENTICATION_APIS)
    return kind, garbage


# -- random exchanges -------------------------------------------------------------------------


@FUZZ
@given(
    mechanism=st.one_of(st.none(), st.sampled_from(MECHANISMS)),
    script=st.lists(steps(), min_size=1, max_size=4),
)
def test_random_sasl_exchanges_never_authenticate(
    broker: SaslBroker, mechanism: str | None, script: list[tuple[str, Any]]
) -> None:
    with RawConnection(broker.bootstrap) as connection:
        if mechanism is not None:
            handshake = connection.request(SASL_HANDSHAKE, 1, mechanism=mechanism)
            assert handshake is not None and handshake.error_code == 0
        for kind, argument in script:
            if connection.closed:
                break
            _play(connection, kind, argument)
            event(f"{kind}: {'connection closed' if connection.closed else 'answered'}")
        if not connection.closed:
            assert_not_authenticated(connection)
    assert_broker_alive(broker)


def _play(connection: RawConnection, kind: str, argument: Any) -> None:
    if kind == "handshake":
        version, mechanism = argument
        connection.request(SASL_HANDSHAKE, version, mechanism=mechanism)
    elif kind == "authenticate":
        version, token = argument
        connection.request(SASL_AUTHENTICATE, version, auth_bytes=token)
    elif kind == "truncated":
        consistent, token, fraction = argument
        frame = connection.next_frame(SASL_AUTHENTICATE, 2, auth_bytes=token)
        cut = 4 + int((len(frame) - 5) * fraction)  # keep the size, lose at least one byte
        if consistent:
            # The size prefix agrees with the shortened body: the request cannot decode.
            body = frame[4:cut]
            connection.exchange(_SIZE.pack(len(body)) + body, SASL_AUTHENTICATE, 2)
        else:
            connection.send_and_hang_up(frame[:cut])
    else:
        connection.send(_SIZE.pack(len(argument)) + argument)
        assert connection.exchange(b"", METADATA, 12) is None


@FUZZ
@given(token=plain_tokens())
def test_plain_tokens_with_random_fields_never_authenticate(
    broker: SaslBroker, token: bytes
) -> None:
    with RawConnection(broker.bootstrap) as connection:
        handshake = connection.request(SASL_HANDSHAKE, 1, mechanism="PLAIN")
        assert handshake is not None and handshake.error_code == 0
        answer = connection.request(SASL_AUTHENTICATE, 2, auth_bytes=token)
        assert answer is None or answer.error_code != 0
        if not connection.closed:
            assert_not_authenticated(connection)
    assert_broker_alive(broker)


# -- mutated SCRAM exchanges ------------------------------------------------------------------


@st.composite
def mutations(draw: st.DrawFn, message: bytes) -> bytes:
    """A changed copy of `message`: a flipped byte, a cut, an insertion or a splice."""
    how = draw(st.sampled_from(("flip", "cut", "insert", "replace")))
    at = draw(st.integers(0, len(message) - 1))
    if how == "flip":
        return message[:at] + bytes([message[at] ^ draw(st.integers(1, 255))]) + message[at + 1 :]
    if how == "cut":
        return message[:at]
    extra = draw(st.binary(min_size=1, max_size=12))
    if how == "insert":
        return message[:at] + extra + message[at:]
    return message[:at] + extra + message[at + len(extra) :]


@FUZZ
@given(
    mechanism=st.sampled_from(tuple(DIGESTS)),
    nonce=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=24),
    target=st.sampled_from(("first", "final", "password")),
    data=st.data(),
)
def test_mutated_scram_messages_never_authenticate(
    broker: SaslBroker, mechanism: str, nonce: str, target: str, data: st.DataObject
) -> None:
    first_bare = f"n=alice,r={nonce}"
    first = f"n,,{first_bare}".encode()
    sent_first = data.draw(mutations(first)) if target == "first" else first
    assume(sent_first != first or target != "first")
    with RawConnection(broker.bootstrap) as connection:
        handshake = connection.request(SASL_HANDSHAKE, 1, mechanism=mechanism)
        assert handshake is not None and handshake.error_code == 0
        server_first = connection.request(SASL_AUTHENTICATE, 2, auth_bytes=sent_first)
        answered = server_first is not None and server_first.error_code == 0
        event(f"{target}: the client-first message was {'answered' if answered else 'refused'}")
        if answered:
            password = b"alice-pw" if target != "password" else data.draw(secrets)
            # HMAC pads short keys with NULs, so trailing NULs spell the same password.
            assume(password.rstrip(b"\0") != b"alice-pw" or target != "password")
            final = _client_final(mechanism, password, first_bare, bytes(server_first.auth_bytes))
            if target == "final":
                mutated = data.draw(mutations(final))
                assume(not _same_final(mutated, final))
                final = mutated
            answer = connection.request(SASL_AUTHENTICATE, 2, auth_bytes=final)
            assert answer is None or answer.error_code != 0
        if not connection.closed:
            assert_not_authenticated(connection)
    assert_broker_alive(broker)


def _client_final(mechanism: str, password: bytes, first_bare: str, server_first: bytes) -> bytes:
    """RFC 5802's client-final message for `password`."""
    digest = DIGESTS[mechanism]
    fields = dict(item.split("=", 1) for item in server_first.decode().split(","))
    salted = hashlib.pbkdf2_hmac(digest, password, base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first.decode()},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, digest).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def _same_final(mutated: bytes, original: bytes) -> bool:
    """Whether a mutation left the message meaning the same (base64 has spare bits)."""
    if mutated == original:
        return True
    head, _, proof = mutated.rpartition(b",p=")
    original_head, _, original_proof = original.rpartition(b",p=")
    try:
        return head == original_head and base64.b64decode(proof) == base64.b64decode(original_proof)
    except ValueError:
        return False


# -- afterwards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mechanism", "user"),
    [("SCRAM-SHA-512", "alice"), ("SCRAM-SHA-256", "alice"), ("PLAIN", "admin")],
)
def test_real_clients_still_log_in_after_the_fuzzing(
    broker: SaslBroker, mechanism: str, user: str
) -> None:
    assert_broker_alive(broker)
    settings = broker.settings(user, mechanism, LOGINS[user].decode())
    topic = f"after-fuzz-{mechanism.lower()}"
    admin = AdminClient(settings)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(TIMEOUT_S)
    producer = Producer(settings)
    reports: list[Any] = []
    producer.produce(topic, b"still here", on_delivery=lambda error, _: reports.append(error))
    assert producer.flush(TIMEOUT_S * 2) == 0
    assert reports == [None]


def test_the_broker_logged_no_handler_failure(broker: SaslBroker) -> None:
    log = broker.process.log_text()
    assert "Traceback" not in log
    assert "failed; closing" not in log
    assert "alice-pw" not in log and "admin-secret" not in log
