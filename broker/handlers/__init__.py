"""One module per Kafka API family: typed request in, domain call, typed response out."""
