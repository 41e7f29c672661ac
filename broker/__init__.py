"""The strom broker: a Kafka-wire-compatible broker (strom.broker)."""
