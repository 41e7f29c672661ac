"""The `strom` command line (strom.cli)."""
