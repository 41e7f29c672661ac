"""The wheel holds every package: build it, install it into a fresh venv, import it all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "broker": "strom.broker",
    "operator": "strom.operator",
    "controlplane": "strom.controlplane",
    "cli": "strom.cli",
}
TIMEOUT_S = 240


def _source_modules() -> set[str]:
    modules = set()
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            modules.add(".".join([package, *parts]))
    return modules


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_every_module_imports(tmp_path: Path) -> None:
    # Build from a copy: setuptools reuses an in-tree build/ directory, which would carry
    # modules that no longer exist.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".venv-quix",
            ".git",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".strom",
            ".*_cache",
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        timeout=TIMEOUT_S,
        cwd=tmp_path,
    )
    wheel = next((tmp_path / "dist").glob("strom-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    wheel_modules = {
        name[:-3].replace("/", ".").removesuffix(".__init__")
        for name in names
        if name.startswith("strom/") and name.endswith(".py")
    }
    assert wheel_modules == _source_modules()

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, timeout=TIMEOUT_S, cwd=tmp_path
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=TIMEOUT_S,
        cwd=tmp_path,
    )
    # Dependencies come from this environment's site-packages (a path entry, so its .pth
    # files, including the editable strom install, are not processed).
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    module = importlib.import_module(name)\n"
        "    assert 'site-packages' in (module.__file__ or ''), module.__file__\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [str(python), "-c", script, *sorted(wheel_modules)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    console = subprocess.run(
        [str(venv / "bin" / "strom"), "--help"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=tmp_path,
        env=env,
    )
    assert console.returncode == 0 and "broker" in console.stdout
    # The control plane's Alembic scripts (env.py, script.py.mako, versions/) are in the wheel.
    migrate = subprocess.run(
        [
            str(venv / "bin" / "strom"),
            "controlplane",
            "migrate",
            "--database-url",
            f"sqlite:///{tmp_path / 'controlplane.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=tmp_path,
        env=env,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "strom/controlplane/migrations/script.py.mako" in names
