"""A broker process with a SASL_PLAINTEXT listener and static PLAIN users, for the
authentication and authorization tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.broker import BrokerProcess
from tests.support.kafka_wire import KafkaWireClient
from tests.support.ports import free_port

SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36


class SaslBroker:
    """Logs in `passwords`' users with PLAIN (`strom.sasl.plain.users`); the PLAINTEXT
    listener stays on `process.port`, where BrokerProcess waits for the broker to listen."""

    def __init__(
        self,
        directory: Path,
        passwords: Mapping[str, str],
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.passwords = dict(passwords)
        self.sasl_port = free_port()
        self.process = BrokerProcess(directory)
        self.process.overrides = {
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.process.port},"
                f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}"
            ),
            "strom.sasl.plain.users": ",".join(f"{u}:{p}" for u, p in self.passwords.items()),
            **(overrides or {}),
        }

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

    def start(self) -> SaslBroker:
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop()

    def settings(
        self, user: str, mechanism: str = "PLAIN", password: str | None = None
    ) -> dict[str, Any]:
        """confluent-kafka settings that log in as `user` (a SCRAM user names its password)."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism,
            "sasl.username": user,
            "sasl.password": password if password is not None else self.passwords[user],
        }

    def wire(self, user: str) -> KafkaWireClient:
        """A raw kio client logged in as `user` with SASL/PLAIN."""
        client = KafkaWireClient(self.bootstrap)
        assert client.request(SASL_HANDSHAKE, 1, mechanism="PLAIN").error_code == 0
        token = f"\0{user}\0{self.passwords[user]}".encode()
        assert client.request(SASL_AUTHENTICATE, 2, auth_bytes=token).error_code == 0
        return client
