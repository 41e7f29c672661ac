"""`python -m strom.cli` runs the `strom` command (tests use it to avoid PATH lookups)."""

from strom.cli.main import main

main()
