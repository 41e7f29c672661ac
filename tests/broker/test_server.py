"""The broker process's HTTP side listener: probes and metrics a real broker serves."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from confluent_kafka import Producer

from tests.support.broker import running_broker
from tests.support.ports import free_port

TIMEOUT_S = 10


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_http_side_listener_serves_probes_and_metrics(tmp_path: Path) -> None:
    http_port = free_port()
    overrides = {"strom.http.listener": f"127.0.0.1:{http_port}"}
    with running_broker(tmp_path, overrides) as broker:
        base = f"http://127.0.0.1:{http_port}"
        status, body = _get(f"{base}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = _get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"

        producer = Producer({"bootstrap.servers": broker.bootstrap})
        for _ in range(5):
            producer.produce("metered", value=b"12345")
        assert producer.flush(TIMEOUT_S) == 0

        status, body = _get(f"{base}/metrics")
        assert status == 200
        assert 'kafka_server_brokertopicmetrics_messages_in_total{topic="metered"} 5.0' in body
        assert 'kafka_log_log_end_offset{partition="0",topic="metered"} 5.0' in body
        assert 'kafka_network_requests_total{request="Produce"' in body
        assert _get(f"{base}/nope")[0] == 404
