"""Partition logs on disk: segments of record batches, indexes, checkpoints (Kafka's layout)."""
