"""The metadata quorum: the replicated log of cluster metadata records."""
