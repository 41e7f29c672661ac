"""confluent-kafka over SASL_PLAINTEXT (SCRAM-SHA-256/512, PLAIN), SSL and SASL_SSL."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from tests.support.broker import BrokerProcess
from tests.support.ports import free_port
from tests.support.tls import TestPki, make_pki

TIMEOUT_S = 10.0
ADMIN = {"sasl.username": "admin", "sasl.password": "admin-secret"}


class SecureBroker:
    def __init__(
        self,
        process: BrokerProcess,
        sasl_port: int,
        ssl_port: int,
        sasl_ssl_port: int,
        pki: TestPki,
    ) -> None:
        self.process = process
        self.sasl = f"127.0.0.1:{sasl_port}"
        self.ssl = f"127.0.0.1:{ssl_port}"
        self.sasl_ssl = f"127.0.0.1:{sasl_ssl_port}"
        self.pki = pki


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    directory = tmp_path_factory.mktemp("secure")
    pki = make_pki(directory / "pki")
    ports = [free_port() for _ in range(3)]
    process = BrokerProcess(directory / "broker")
    process.overrides = {
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{process.port},SASL_PLAINTEXT://127.0.0.1:{ports[0]},"
            f"SSL://127.0.0.1:{ports[1]},SASL_SSL://127.0.0.1:{ports[2]}"
        ),
        "strom.sasl.plain.users": "admin:admin-secret",
        "ssl.certificate.location": str(pki.server_cert),
        "ssl.key.location": str(pki.server_key),
        "ssl.truststore.location": str(pki.ca),
        "ssl.client.auth": "requested",
    }
    process.start()
    broker = SecureBroker(process, *ports, pki)
    admin = AdminClient(_sasl(broker.sasl, "PLAIN", **ADMIN))
    upsert = [
        UserScramCredentialUpsertion(
            "alice", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), b"alice-pw"
        ),
        UserScramCredentialUpsertion(
            "alice", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"alice-pw"
        ),
    ]
    for future in admin.alter_user_scram_credentials(upsert).values():
        future.result(TIMEOUT_S)
    try:
        yield broker
    finally:
        process.stop()


def _sasl(bootstrap: str, mechanism: str, **credentials: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        **credentials,
    }


def _round_trip(settings: dict[str, Any]) -> list[bytes]:
    """Create a topic, produce three records and read them back with `settings`."""
    topic = f"sec-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(settings)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(TIMEOUT_S)
    producer = Producer(settings)
    for value in (b"a", b"b", b"c"):
        producer.produce(topic, value)
    assert producer.flush(TIMEOUT_S) == 0
    consumer = Consumer({**settings, "group.id": "sec", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while len(values) < 3 and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                values.append(message.value())
    finally:
        consumer.close()
    return values


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
def test_sasl_plaintext_logins_produce_and_consume(secure: SecureBroker, mechanism: str) -> None:
    settings = _sasl(
        secure.sasl, mechanism, **{"sasl.username": "alice", "sasl.password": "alice-pw"}
    )
    assert _round_trip(settings) == [b"a", b"b", b"c"]


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_wrong_password_fails_authentication_and_produces_nothing(
    secure: SecureBroker, mechanism: str
) -> None:
    errors: list[KafkaError] = []
    settings = _sasl(
        secure.sasl,
        mechanism,
        **{"sasl.username": "alice", "sasl.password": "wrong"},
        error_cb=errors.append,
    )
    topic = f"sec-denied-{uuid.uuid4().hex[:6]}"
    producer = Producer({**settings, "message.timeout.ms": 3000})
    delivered: list[Any] = []
    producer.produce(topic, b"x", on_delivery=lambda e, m: delivered.append(e))
    producer.flush(TIMEOUT_S)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors)
    assert delivered and delivered[0] is not None
    plain = AdminClient({"bootstrap.servers": secure.process.bootstrap})
    assert topic not in plain.list_topics(timeout=TIMEOUT_S).topics


def test_unknown_user_fails_like_a_wrong_password(secure: SecureBroker) -> None:
    errors: list[KafkaError] = []
    settings = _sasl(
        secure.sasl,
        "SCRAM-SHA-512",
        **{"sasl.username": "mallory", "sasl.password": "x"},
        error_cb=errors.append,
    )
    producer = Producer({**settings, "message.timeout.ms": 2000})
    producer.produce("anything", b"x")
    producer.flush(5)
    assert any("Authentication failed" in e.str() for e in errors)


def test_ssl_with_a_client_certificate(secure: SecureBroker) -> None:
    settings = {
        "bootstrap.servers": secure.ssl,
        "security.protocol": "SSL",
        "ssl.ca.location": str(secure.pki.ca),
        "ssl.certificate.location": str(secure.pki.client_cert),
        "ssl.key.location": str(secure.pki.client_key),
    }
    assert _round_trip(settings) == [b"a", b"b", b"c"]


def test_sasl_ssl_with_scram(secure: SecureBroker) -> None:
    settings = {
        **_sasl(
            secure.sasl_ssl,
            "SCRAM-SHA-512",
            **{"sasl.username": "alice", "sasl.password": "alice-pw"},
        ),
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(secure.pki.ca),
    }
    assert _round_trip(settings) == [b"a", b"b", b"c"]


def test_scram_credentials_are_described_and_deleted(secure: SecureBroker) -> None:
    admin = AdminClient(_sasl(secure.sasl, "PLAIN", **ADMIN))
    upsert = UserScramCredentialUpsertion(
        "bob", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"bob-pw"
    )
    admin.alter_user_scram_credentials([upsert])["bob"].result(TIMEOUT_S)
    described = admin.describe_user_scram_credentials(["bob"])["bob"].result(TIMEOUT_S)
    assert [(i.mechanism, i.iterations) for i in described.scram_credential_infos] == [
        (ScramMechanism.SCRAM_SHA_256, 4096)
    ]
    deletion = UserScramCredentialDeletion("bob", ScramMechanism.SCRAM_SHA_256)
    admin.alter_user_scram_credentials([deletion])["bob"].result(TIMEOUT_S)
    with pytest.raises(Exception) as missing:
        admin.describe_user_scram_credentials(["bob"])["bob"].result(TIMEOUT_S)
    assert missing.value.args[0].code() == KafkaError.RESOURCE_NOT_FOUND


def test_too_few_scram_iterations_are_rejected(secure: SecureBroker) -> None:
    admin = AdminClient(_sasl(secure.sasl, "PLAIN", **ADMIN))
    weak = UserScramCredentialUpsertion(
        "weak", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 1000), b"pw"
    )
    with pytest.raises(Exception) as rejected:
        admin.alter_user_scram_credentials([weak])["weak"].result(TIMEOUT_S)
    assert rejected.value.args[0].code() == KafkaError.UNACCEPTABLE_CREDENTIAL


def test_bad_pem_path_refuses_to_start_naming_the_file(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "strom.cli",
            "broker",
            "start",
            "--override",
            f"listeners=SSL://127.0.0.1:{port}",
            "--override",
            f"log.dirs={tmp_path / 'logs'}",
            "--override",
            f"ssl.certificate.location={tmp_path / 'missing.pem'}",
            "--override",
            f"ssl.key.location={tmp_path / 'missing.key'}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "missing.pem" in result.stderr and "ssl.certificate.location" in result.stderr


def test_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    port = free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "strom.cli",
            "broker",
            "start",
            "--override",
            f"listeners=SSL://127.0.0.1:{port}",
            "--override",
            f"log.dirs={tmp_path / 'logs'}",
            "--override",
            f"ssl.certificate.location={pki.server_cert}",
            "--override",
            f"ssl.key.location={pki.client_key}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "client.key" in result.stderr


def test_client_certificate_subject_is_the_principal_acls_apply_to(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", client_cn="writer")
    ssl_port = free_port()
    process = BrokerProcess(tmp_path / "broker")
    process.overrides = {
        "listeners": f"PLAINTEXT://127.0.0.1:{process.port},SSL://127.0.0.1:{ssl_port}",
        "ssl.certificate.location": str(pki.server_cert),
        "ssl.key.location": str(pki.server_key),
        "ssl.truststore.location": str(pki.ca),
        "ssl.client.auth": "required",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:ANONYMOUS",  # the PLAINTEXT listener administers
    }
    process.start()
    try:
        admin = AdminClient({"bootstrap.servers": process.bootstrap})
        admin.create_topics([NewTopic("certified", 1, 1)])["certified"].result(TIMEOUT_S)
        binding = AclBinding(
            ResourceType.TOPIC,
            "certified",
            ResourcePatternType.LITERAL,
            "User:CN=writer,O=acme",
            "*",
            AclOperation.WRITE,
            AclPermissionType.ALLOW,
        )
        for future in admin.create_acls([binding]).values():
            future.result(TIMEOUT_S)
        settings = {
            "bootstrap.servers": f"127.0.0.1:{ssl_port}",
            "security.protocol": "SSL",
            "ssl.ca.location": str(pki.ca),
            "ssl.certificate.location": str(pki.client_cert),
            "ssl.key.location": str(pki.client_key),
            "enable.idempotence": False,
            "retries": 0,
        }
        outcomes: dict[str, Any] = {}
        producer = Producer(settings)
        for topic in ("certified", "uncertified"):
            producer.produce(
                topic, b"x", on_delivery=lambda e, m, t=topic: outcomes.setdefault(t, e)
            )
        producer.flush(TIMEOUT_S)
        assert outcomes["certified"] is None  # ACL for User:CN=writer,O=acme
        assert outcomes["uncertified"].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    finally:
        process.stop()
