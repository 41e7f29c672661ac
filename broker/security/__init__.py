"""Authentication (TLS, SASL PLAIN and SCRAM) and authorization (Kafka ACLs)."""
