"""Pydantic model → structural OpenAPI v3 schema, as a CustomResourceDefinition needs it.

Pydantic emits JSON Schema; Kubernetes wants a *structural* subset: no `$ref`, no `null`
types, no `title`, no `additionalProperties` beside `properties`, types on every node. This
module rewrites one into the other so the models stay the only source of the CRD schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# Keywords copied as they are; anything else pydantic emits is dropped.
_KEPT = frozenset(
    {
        "type",
        "description",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "maxProperties",
        "pattern",
        "required",
        "anyOf",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-validations",
    }
)


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural schema of `model`, its fields by their camelCase names."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    return _convert(raw, definitions)


def _convert(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    node = _resolve(node, definitions)
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            result[key] = {name: _convert(child, definitions) for name, child in value.items()}
        elif key == "items":
            result[key] = _convert(value, definitions)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                result[key] = _convert(value, definitions)
        elif key == "default":
            if value not in (None, [], {}):
                result[key] = value
        elif key == "const":
            result["enum"] = [value]
        elif key in _KEPT:
            result[key] = value
    if result.get("required") == []:
        del result["required"]
    return result


def _resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Inline `$ref`s and unwrap `X | None` (an optional field is simply not required)."""
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return _resolve({**target, **siblings}, definitions)
    branches = node.get("anyOf")
    if branches is not None:
        kept = [branch for branch in branches if branch.get("type") != "null"]
        if len(kept) == 1:
            rest = {key: value for key, value in node.items() if key != "anyOf"}
            return _resolve({**kept[0], **rest}, definitions)
    return node
