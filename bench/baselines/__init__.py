"""Baselines measured by the same harness in the same run: machine limits and other systems."""
