"""Shared pieces of the benchmark suite: broker process, wire client, results, machine facts."""
