"""The HTTP API: dependencies, the route class, and one router per resource."""
