"""The protocol edge: frames, request headers, kio decoding and response encoding."""
