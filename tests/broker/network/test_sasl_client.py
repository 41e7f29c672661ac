"""SASL logins of the broker's own client (`broker/network/sasl_client.py`): the SCRAM
exchange against the broker's SCRAM server, then PLAIN and SCRAM logins on a real broker's
SASL_PLAINTEXT and SASL_SSL listeners."""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from kio.schema.alter_user_scram_credentials.v0 import request as scram_request
from kio.schema.errors import ErrorCode
from kio.schema.metadata.v12.request import MetadataRequest

from strom.broker.handlers.response_builder import make
from strom.broker.network.client_connection import KafkaConnection
from strom.broker.network.node_connections import NodeConnections, NodeNotAvailableError
from strom.broker.network.sasl_client import (
    SaslAuthenticationError,
    SaslCredentials,
    ScramClient,
)
from strom.broker.security.errors import AuthenticationFailedError
from strom.broker.security.scram import (
    MECHANISM_IDS,
    ScramServer,
    make_credential,
    salted_password,
)
from tests.support.broker import BrokerProcess
from tests.support.ports import free_port
from tests.support.tls import TestPki, make_pki

TIMEOUT_S = 10.0
SCRAM_USER, SCRAM_PASSWORD = "alice", "alice-pw"


class SaslListeners:
    def __init__(self, process: BrokerProcess, sasl_port: int, sasl_ssl_port: int, pki: TestPki):
        self.process = process
        self.sasl_port = sasl_port
        self.sasl_ssl_port = sasl_ssl_port
        self.pki = pki


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslListeners]:
    directory = tmp_path_factory.mktemp("sasl")
    pki = make_pki(directory / "pki")
    sasl_port, sasl_ssl_port = free_port(), free_port()
    process = BrokerProcess(directory / "broker")
    process.overrides = {
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{process.port},SASL_PLAINTEXT://127.0.0.1:{sasl_port},"
            f"SASL_SSL://127.0.0.1:{sasl_ssl_port}"
        ),
        "strom.sasl.plain.users": "admin:admin-secret",
        "ssl.certificate.location": str(pki.server_cert),
        "ssl.key.location": str(pki.server_key),
    }
    process.start()
    try:
        asyncio.run(_create_scram_user(process.port))
        yield SaslListeners(process, sasl_port, sasl_ssl_port, pki)
    finally:
        process.stop()


def metadata() -> Any:
    return make(
        MetadataRequest,
        topics=None,
        allow_auto_topic_creation=False,
        include_topic_authorized_operations=False,
    )


# -- the SCRAM exchange itself, against the broker's server side -------------------------


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_scram_client_and_server_agree_on_proofs(mechanism: str) -> None:
    credential = make_credential(mechanism, b"secret")
    server = ScramServer(mechanism, lambda user: credential if user == "a,b=c" else None)
    client = ScramClient(mechanism, "a,b=c", "secret")

    server_first, _ = server.evaluate(client.client_first())
    server_final, done = server.evaluate(client.client_final(server_first))

    assert done and server.username == "a,b=c"
    client.verify_server_final(server_final)


def test_a_wrong_password_fails_the_scram_proof() -> None:
    credential = make_credential("SCRAM-SHA-256", b"secret")
    server = ScramServer("SCRAM-SHA-256", lambda user: credential)
    client = ScramClient("SCRAM-SHA-256", "alice", "guess")

    server_first, _ = server.evaluate(client.client_first())
    with pytest.raises(AuthenticationFailedError):
        server.evaluate(client.client_final(server_first))


def test_a_server_that_cannot_prove_the_password_is_refused() -> None:
    client = ScramClient("SCRAM-SHA-256", "alice", "secret", nonce="abc")
    client.client_first()
    salt = base64.b64encode(os.urandom(16)).decode()
    client.client_final(f"r=abcdef,s={salt},i=4096".encode())
    forged = base64.b64encode(os.urandom(32)).decode()

    with pytest.raises(SaslAuthenticationError, match="does not verify"):
        client.verify_server_final(f"v={forged}".encode())


@pytest.mark.parametrize(
    "server_first",
    [b"r=other,s=c2FsdA==,i=4096", b"r=abc,s=c2FsdA==,i=4096", b"r=abcdef,s=c2FsdA==,i=1"],
)
def test_a_server_first_message_with_a_foreign_nonce_or_weak_iterations_is_refused(
    server_first: bytes,
) -> None:
    client = ScramClient("SCRAM-SHA-256", "alice", "secret", nonce="abc")
    client.client_first()
    with pytest.raises(SaslAuthenticationError):
        client.client_final(server_first)


def test_unknown_mechanisms_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="GSSAPI"):
        SaslCredentials("GSSAPI", "alice", "x")
    assert "secret" not in repr(SaslCredentials("PLAIN", "alice", "secret"))


# -- logins on a real broker --------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        SaslCredentials("PLAIN", "admin", "admin-secret"),
        SaslCredentials("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD),
        SaslCredentials("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD),
    ],
    ids=lambda c: c.mechanism,
)
def test_login_on_a_sasl_plaintext_listener(
    broker: SaslListeners, credentials: SaslCredentials
) -> None:
    async def scenario() -> Any:
        connection = await KafkaConnection.open(
            "127.0.0.1", broker.sasl_port, "strom-test", TIMEOUT_S, sasl=credentials
        )
        try:
            return await connection.send(metadata(), TIMEOUT_S)
        finally:
            await connection.close()

    assert [b.node_id for b in asyncio.run(scenario()).brokers] == [1]


def test_scram_login_on_a_sasl_ssl_listener(broker: SaslListeners) -> None:
    context = ssl.create_default_context(cafile=str(broker.pki.ca))
    credentials = SaslCredentials("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD)

    async def scenario() -> Any:
        connection = await KafkaConnection.open(
            "127.0.0.1", broker.sasl_ssl_port, "strom-test", TIMEOUT_S, context, sasl=credentials
        )
        try:
            return await connection.send(metadata(), TIMEOUT_S)
        finally:
            await connection.close()

    assert [b.node_id for b in asyncio.run(scenario()).brokers] == [1]


@pytest.mark.parametrize(
    "credentials",
    [
        SaslCredentials("PLAIN", "admin", "wrong"),
        SaslCredentials("SCRAM-SHA-256", SCRAM_USER, "wrong"),
        SaslCredentials("SCRAM-SHA-512", "nobody", SCRAM_PASSWORD),
    ],
    ids=lambda c: f"{c.mechanism}-{c.username}",
)
def test_bad_credentials_fail_the_login(
    broker: SaslListeners, credentials: SaslCredentials
) -> None:
    async def scenario() -> None:
        with pytest.raises(SaslAuthenticationError, match="refused"):
            await KafkaConnection.open(
                "127.0.0.1", broker.sasl_port, "strom-test", TIMEOUT_S, sasl=credentials
            )

    asyncio.run(scenario())


def test_node_connections_log_in_and_back_off_after_a_refused_login(
    broker: SaslListeners,
) -> None:
    async def scenario() -> None:
        good = NodeConnections("strom-test", sasl=SaslCredentials("PLAIN", "admin", "admin-secret"))
        bad = NodeConnections("strom-test", sasl=SaslCredentials("PLAIN", "admin", "wrong"))
        for nodes in (good, bad):
            nodes.update_nodes({1: ("127.0.0.1", broker.sasl_port)})
        try:
            async with asyncio.timeout(TIMEOUT_S):
                reply = await good.send(1, metadata(), 5_000)
                assert [b.node_id for b in reply.brokers] == [1]
                with pytest.raises(SaslAuthenticationError):
                    await bad.send(1, metadata(), 5_000)
                with pytest.raises(NodeNotAvailableError, match="backoff"):
                    await bad.send(1, metadata(), 5_000)
        finally:
            await good.close()
            await bad.close()

    asyncio.run(scenario())


async def _create_scram_user(port: int) -> None:
    """Both SCRAM credentials of SCRAM_USER, through AlterUserScramCredentials (answered
    once the credentials are in the broker's metadata)."""
    upsertions = []
    for mechanism, mechanism_id in MECHANISM_IDS.items():
        salt = os.urandom(16)
        upsertions.append(
            scram_request.ScramCredentialUpsertion(
                name=SCRAM_USER,
                mechanism=mechanism_id,
                iterations=4096,
                salt=salt,
                salted_password=salted_password(mechanism, SCRAM_PASSWORD.encode(), salt, 4096),
            )
        )
    connection = await KafkaConnection.open("127.0.0.1", port, "strom-test", TIMEOUT_S)
    try:
        response = await connection.send(
            scram_request.AlterUserScramCredentialsRequest(
                deletions=(), upsertions=tuple(upsertions)
            ),
            TIMEOUT_S,
        )
    finally:
        await connection.close()
    assert all(result.error_code == ErrorCode.none for result in response.results)
