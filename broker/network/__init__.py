"""Talking to other nodes of the cluster over the Kafka protocol."""
