"""The controller tests' fixture: a real Controller over a metadata log in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker.controller.controllers import ControllerHarness, make_controller


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[ControllerHarness]:
    made = make_controller(tmp_path)
    yield made
    made.metadata_log.close()
