# Two entry points: `make run` starts the platform on this machine, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .strom

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/strom broker start \
		--override node.id=1 \
		--override listeners=PLAINTEXT://127.0.0.1:9092 \
		--override log.dirs=$(DATA_DIR)/broker-1

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check broker operator controlplane cli tests bench

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.throughput

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
