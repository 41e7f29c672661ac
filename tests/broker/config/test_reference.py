from pathlib import Path

from strom.broker.config.reference import DOC_PATH, render

ROOT = Path(__file__).resolve().parents[3]


def test_committed_configuration_reference_is_current() -> None:
    committed = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert committed == render(), "run: python -m strom.broker.config.reference"
