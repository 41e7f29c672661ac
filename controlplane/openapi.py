"""The OpenAPI document: errors documented as problem details, and the checked-in snapshot.

FastAPI documents its own validation error shape (`HTTPValidationError`); this API answers
every error as `application/problem+json` instead, so the document is corrected to say so.
`strom controlplane openapi -o docs/controlplane/openapi.json` regenerates the snapshot.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from strom.controlplane.core.errors import PROBLEM_CONTENT_TYPE

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document at /openapi.json (and so in /docs)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _problems_everywhere(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def render_openapi() -> str:
    """The document as the snapshot stores it: stable key order, two-space indent."""
    from strom.controlplane.app import create_app
    from strom.controlplane.core.config import Settings

    # Defaults only: the document must not depend on the environment it is generated in.
    document = create_app(Settings.model_construct()).openapi()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _problems_everywhere(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operation in _operations(document):
        for status, response in operation.get("responses", {}).items():
            if status == "default" or status.startswith(("4", "5")):
                response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}
                if status == "422":
                    response["description"] = "Validation failed (a problem detail)."
    return document


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path in document.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "responses" in operation
    ]
