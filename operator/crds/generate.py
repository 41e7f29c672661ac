"""Write manifests/crds/*.yaml from the models: `strom operator crds` (or run this module).

The YAML is committed for `kubectl apply -f manifests/crds/`; a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from strom.operator.crds.definitions import (
    CUSTOM_RESOURCES,
    crd_document,
    kopf_peering_definitions,
)

HEADER = "# Generated from strom.operator.crds by `strom operator crds`; do not edit.\n"


def render_all() -> dict[str, str]:
    """File name → YAML text of every CRD file."""
    files = {
        f"{resource.plural}.yaml": render([crd_document(resource)]) for resource in CUSTOM_RESOURCES
    }
    files["kopf-peering.yaml"] = render(kopf_peering_definitions())
    return files


def render(documents: list[dict[str, Any]]) -> str:
    body = "---\n".join(
        yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)
        for document in documents
    )
    return HEADER + body


def write_all(directory: Path) -> list[Path]:
    """Write every CRD file into `directory`; returns the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in render_all().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def stale_files(directory: Path) -> list[str]:
    """Names of the CRD files in `directory` that differ from the models (or are missing)."""
    stale = []
    for name, text in render_all().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("manifests/crds"))
    parser.add_argument("--check", action="store_true", help="Fail if the files are stale.")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.output)
        for name in stale:
            print(f"stale: {args.output / name}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(args.output):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
