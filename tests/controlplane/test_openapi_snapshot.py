"""The checked-in OpenAPI document matches the code (one command regenerates it)."""

from __future__ import annotations

from pathlib import Path

from strom.controlplane.openapi import render_openapi

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "controlplane" / "openapi.json"
REGENERATE = "strom controlplane openapi -o docs/controlplane/openapi.json"


def test_the_openapi_snapshot_is_current() -> None:
    assert SNAPSHOT.exists(), f"missing {SNAPSHOT}; run `{REGENERATE}`"
    assert SNAPSHOT.read_text(encoding="utf-8") == render_openapi(), (
        f"the API changed; run `{REGENERATE}` and commit the result"
    )


def test_errors_are_documented_as_problem_details() -> None:
    import json

    document = json.loads(render_openapi())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            default = operation["responses"]["default"]
            assert list(default["content"]) == ["application/problem+json"], (method, path)
