"""A deterministic simulation of the Raft quorum: seeded virtual clock and network,
crashes, partitions, message loss and reordering, and Raft's safety checks."""
