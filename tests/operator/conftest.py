"""Fixtures of the operator tests: the API emulator with strom's CRDs, a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strom.operator.crds.definitions import CUSTOM_RESOURCES, crd_document
from tests.support.k8s_emulator import EmulatorThread
from tests.support.operator import KubeClient


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    """A Kubernetes API emulator on 127.0.0.1 serving strom's custom resources."""
    thread = EmulatorThread().start()
    for resource in CUSTOM_RESOURCES:
        thread.emulator.register_crd(crd_document(resource))
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture(scope="module")
def kube(emulator: EmulatorThread) -> Iterator[KubeClient]:
    client = KubeClient(emulator.url)
    try:
        yield client
    finally:
        client.close()
