# Two entry points a newcomer needs: `make serve` and `make test`. Each builds .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test test-slow check lint call bench venv clean studio browser system-tools

$(BIN)/ivrc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel  # the packaging tests build a wheel offline
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(BIN)/ivrc

# The tools the tests check ivrc's output with that come from npm (the YAML language server
# editors use), at the versions in tests/tools/package-lock.json. Needs Node.js and npm.
TOOLS := tests/tools/node_modules/.package-lock.json
$(TOOLS): tests/tools/package.json tests/tools/package-lock.json | system-tools
	npm ci --prefix tests/tools --no-audit --no-fund --loglevel=error
	@touch $(TOOLS)

# The system tools the tests run ivrc's output through: Node.js and npm (the YAML language server)
# and git (pre-commit's scratch repositories). As root (CI, containers) this installs Debian's
# packages; otherwise it says what to run, and `make test` stops.
system-tools:
	@missing=""; \
	for tool in node:nodejs npm:npm git:git; do \
	  command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	  else echo "make: the tests need$$missing: sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	fi

venv: $(BIN)/ivrc $(TOOLS)

# `exec`: the shell becomes `ivrc serve`, so stopping make (which passes SIGTERM to its child)
# stops the server instead of leaving it on the port.
# Without real credentials, serve with the public demo key and secret from the Sinch docs'
# signing example, so signed test calls work locally. Never use them in production.
DEMO_KEY := 669E367E-6BBA-48AB-AF15-266871C28135
DEMO_SECRET := BeIukql3pTKJ8RGL5zo0DA==

# The voicemail examples store messages with credentials from VOICEMAIL_S3_CREDENTIALS; locally a
# stand-in lets every example run (nothing is uploaded: no real Sinch call reaches `make serve`).
DEMO_S3_CREDENTIALS := AKIAEXAMPLE:example-secret:eu-north-1
serve: export VOICEMAIL_S3_CREDENTIALS ?= $(DEMO_S3_CREDENTIALS)

# The account and order examples ask a stand-in bank and order desk (examples/backend.py), which
# `make serve` starts on 127.0.0.1:8091 and stops with the server; its bearer token is a stand-in too.
DEMO_BANK_TOKEN := demo-bank-token
serve: export BANK_API_TOKEN ?= $(DEMO_BANK_TOKEN)
# Call state in Sinch's cookies is sealed with IVRC_STATE_KEY; locally a stand-in key will do.
DEMO_STATE_KEY := make-serve-local-state-key-not-for-production
serve: export IVRC_STATE_KEY ?= $(DEMO_STATE_KEY)

serve: $(BIN)/ivrc
	@if [ "$$VOICEMAIL_S3_CREDENTIALS" = "$(DEMO_S3_CREDENTIALS)" ]; then \
	  echo "make serve: VOICEMAIL_S3_CREDENTIALS is not set; using a stand-in (local use only)"; \
	fi
	@if [ -z "$$SINCH_APPLICATION_KEY" ]; then \
	  echo "make serve: SINCH_APPLICATION_KEY is not set; using the public demo credentials (local use only)"; \
	  export SINCH_APPLICATION_KEY=$(DEMO_KEY) SINCH_APPLICATION_SECRET=$(DEMO_SECRET); \
	fi; \
	echo "make serve: the example backend answers on http://127.0.0.1:8091 (examples/backend.py)"; \
	$(BIN)/python examples/backend.py --exit-with $$$$ & \
	exec $(BIN)/ivrc serve examples --host $(HOST) --port $(PORT)

# Talk to `make serve` from a second terminal, as a caller: make call TO=+46812345670
TO ?= +46812345670
call: $(BIN)/ivrc
	@if [ -z "$$SINCH_APPLICATION_KEY" ]; then \
	  SINCH_APPLICATION_KEY=$(DEMO_KEY) SINCH_APPLICATION_SECRET=$(DEMO_SECRET) \
	    $(BIN)/ivrc call http://$(HOST):$(PORT)/sinch/callback --to $(TO); \
	else \
	  $(BIN)/ivrc call http://$(HOST):$(PORT)/sinch/callback --to $(TO); \
	fi

bench: $(BIN)/ivrc
	$(BIN)/python bench/run_all.py

lint: $(BIN)/ivrc
	$(BIN)/ivrc lint examples

# The studio's browser tests drive Debian's chromium (with Playwright, installed by .[test]).
# As root (CI, containers) this installs it; otherwise it says what to run, and `make test` stops.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "make browser: $(CHROMIUM) is missing; install Debian's chromium package: sudo apt-get install -y chromium" >&2; exit 1; fi; \
	fi

# See the example flows, call them from the browser: http://127.0.0.1:$(STUDIO_PORT)/
STUDIO_PORT ?= 8090
studio: $(BIN)/ivrc
	$(BIN)/ivrc studio examples --host $(HOST) --port $(STUDIO_PORT) --open

# The fast suite (slow tests left out, about 3 minutes); `make test-slow` runs the rest. CI runs both.
test: venv browser
	$(BIN)/python -m pytest

test-slow: venv
	$(BIN)/python -m pytest -m slow

# What CI checks besides the tests: ruff, and mypy over the package as installed.
check: venv
	$(BIN)/ruff check .
	$(BIN)/python scripts/typecheck.py

clean:
	rm -rf $(VENV) build *.egg-info
