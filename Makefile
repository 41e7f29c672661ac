# Two entry points: `make run` starts the platform on this machine, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .strom

.PHONY: run test test-quarantined lint bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/strom broker start \
		--override node.id=1 \
		--override listeners=PLAINTEXT://127.0.0.1:9092 \
		--override log.dirs=$(DATA_DIR)/broker-1

# Quix Streams pins an older confluent-kafka, so it lives in a venv of its own; the tests
# that run a Quix application skip with a message when it could not be installed.
QUIX_STAMP := .venv-quix/.installed
$(QUIX_STAMP):
	test -x .venv-quix/bin/python || $(PYTHON) -m venv .venv-quix
	.venv-quix/bin/pip install --quiet 'quixstreams>=3.28' \
		&& touch $(QUIX_STAMP) || echo "warning: Quix Streams not installed; its tests will skip" >&2

test: $(STAMP) $(QUIX_STAMP)
	$(BIN)/python -m pytest -q -m "not quarantined"

# Tests with a known intermittent failure, kept runnable while it is investigated.
test-quarantined: $(STAMP)
	$(BIN)/python -m pytest -q -m quarantined

lint: $(STAMP)
	$(BIN)/ruff check broker operator controlplane cli tests bench

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.suite $(BENCH_ARGS)

# The deterministic Raft simulation over many seeds (the test suite runs 1,000 of them);
# a failing seed prints the command that replays it.
SEEDS ?= 100000
.PHONY: raft-sim
raft-sim: $(STAMP)
	$(BIN)/python tests/support/raft_simulation.py --seeds $(SEEDS)

clean:
	rm -rf $(VENV) .venv-quix build dist *.egg-info .pytest_cache
