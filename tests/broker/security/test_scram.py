"""SCRAM as RFC 5802/7677 define it, checked against the RFC 7677 example and a client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strom.broker.security.errors import AuthenticationFailedError
from strom.broker.security.scram import (
    ScramServer,
    credential_from_salted_password,
    make_credential,
    salted_password,
    verify_password,
)

SHA256 = "SCRAM-SHA-256"


def test_rfc7677_example_server_signature() -> None:
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    salted = salted_password(SHA256, b"pencil", salt, 4096)
    credential = credential_from_salted_password(SHA256, salted, salt, 4096)
    auth_message = (
        b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    server_signature = hmac.new(credential.server_key, auth_message, "sha256").digest()
    assert base64.b64encode(server_signature) == b"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    proof = bytes(
        a ^ b
        for a, b in zip(
            client_key,
            hmac.new(credential.stored_key, auth_message, "sha256").digest(),
            strict=True,
        )
    )
    assert base64.b64encode(proof) == b"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="


def _client_exchange(server: ScramServer, user: str, password: bytes, mechanism: str) -> bytes:
    """Run a full exchange as an RFC 5802 client; returns the server-final message."""
    digest = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}[mechanism]
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    server_first, done = server.evaluate(f"n,,{first_bare}".encode())
    assert not done
    fields = dict(item.split("=", 1) for item in server_first.decode().split(","))
    assert fields["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac(digest, password, base64.b64decode(fields["s"]), int(fields["i"]))
    without_proof = f"c=biws,r={fields['r']}"
    auth = f"{first_bare},{server_first.decode()},{without_proof}".encode()
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored = hashlib.new(digest, client_key).digest()
    signature = hmac.new(stored, auth, digest).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True)))
    final, done = server.evaluate(f"{without_proof},p={proof.decode()}".encode())
    assert done
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    expected = base64.b64encode(hmac.new(server_key, auth, digest).digest())
    assert final == b"v=" + expected
    return final


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_a_correct_password_completes_the_exchange(mechanism: str) -> None:
    credential = make_credential(mechanism, b"secret", 4096)
    server = ScramServer(mechanism, lambda user: credential if user == "alice" else None)
    _client_exchange(server, "alice", b"secret", mechanism)
    assert server.username == "alice"


@pytest.mark.parametrize(("user", "password"), [("alice", b"wrong"), ("nobody", b"secret")])
def test_wrong_password_and_unknown_user_fail_the_same_way(user: str, password: bytes) -> None:
    credential = make_credential(SHA256, b"secret", 4096)
    server = ScramServer(SHA256, lambda name: credential if name == "alice" else None)
    with pytest.raises(AuthenticationFailedError, match="invalid credentials"):
        _client_exchange(server, user, password, SHA256)


def test_plain_passwords_are_checked_against_scram_credentials() -> None:
    credential = make_credential("SCRAM-SHA-512", b"secret", 4096)
    assert verify_password("SCRAM-SHA-512", credential, b"secret")
    assert not verify_password("SCRAM-SHA-512", credential, b"Secret")


@settings(max_examples=300, deadline=None)
@given(first=st.binary(max_size=200), final=st.binary(max_size=200))
def test_random_messages_never_authenticate(first: bytes, final: bytes) -> None:
    credential = make_credential(SHA256, b"secret", 4096)
    server = ScramServer(SHA256, lambda name: credential)
    try:
        server.evaluate(first)
        server.evaluate(final)
    except AuthenticationFailedError:
        return
    pytest.fail("a random exchange authenticated")
