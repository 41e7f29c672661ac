"""The per-connection SASL state machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strom.broker.security.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    UnsupportedSaslMechanismError,
)
from strom.broker.security.sasl import SaslAuthenticator, SaslSettings, SaslState
from strom.broker.security.scram import make_credential

SETTINGS = SaslSettings(("PLAIN", "SCRAM-SHA-512"), {"ops": "ops-pw"})
ALICE = make_credential("SCRAM-SHA-512", b"alice-pw", 4096)


def _authenticator() -> SaslAuthenticator:
    return SaslAuthenticator(
        SETTINGS,
        lambda user, mechanism: ALICE if (user, mechanism) == ("alice", "SCRAM-SHA-512") else None,
    )


@pytest.mark.parametrize(
    ("token", "principal"),
    [
        (b"\0ops\0ops-pw", "User:ops"),
        (b"\0alice\0alice-pw", "User:alice"),
        (b"alice\0alice\0alice-pw", "User:alice"),
    ],
)
def test_plain_accepts_config_users_and_scram_credentials(token: bytes, principal: str) -> None:
    authenticator = _authenticator()
    authenticator.handshake("PLAIN")
    assert authenticator.authenticate(token) == b""
    assert authenticator.principal == principal and authenticator.state is SaslState.COMPLETE


@pytest.mark.parametrize(
    "token",
    [b"\0ops\0wrong", b"\0nobody\0x", b"ops-pw", b"\0\0", b"bob\0ops\0ops-pw", b"\0\xff\0x"],
)
def test_plain_refuses_bad_logins_and_stays_failed(token: bytes) -> None:
    authenticator = _authenticator()
    authenticator.handshake("PLAIN")
    with pytest.raises(AuthenticationFailedError):
        authenticator.authenticate(token)
    assert authenticator.failed and authenticator.principal is None
    with pytest.raises(IllegalSaslStateError):
        authenticator.authenticate(b"\0ops\0ops-pw")


def test_unsupported_mechanism_and_repeated_handshake() -> None:
    authenticator = _authenticator()
    with pytest.raises(UnsupportedSaslMechanismError):
        authenticator.handshake("GSSAPI")
    authenticator.handshake("SCRAM-SHA-512")
    with pytest.raises(IllegalSaslStateError):
        authenticator.handshake("PLAIN")


def test_authenticate_before_handshake_is_illegal() -> None:
    with pytest.raises(IllegalSaslStateError):
        _authenticator().authenticate(b"\0ops\0ops-pw")


@settings(max_examples=500, deadline=None)
@given(
    mechanism=st.sampled_from(["PLAIN", "SCRAM-SHA-512"]),
    tokens=st.lists(st.binary(max_size=120), max_size=3),
)
def test_random_tokens_never_log_in(mechanism: str, tokens: list[bytes]) -> None:
    authenticator = _authenticator()
    authenticator.handshake(mechanism)
    for token in tokens:
        try:
            authenticator.authenticate(token)
        except (AuthenticationFailedError, IllegalSaslStateError):
            break
    assert authenticator.principal is None
