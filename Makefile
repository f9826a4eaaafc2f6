# Two entry points a newcomer needs: `make serve` and `make test`. Each builds .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test test-slow lint call bench venv clean

$(BIN)/ivrc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(BIN)/ivrc

venv: $(BIN)/ivrc

# `exec`: the shell becomes `ivrc serve`, so stopping make (which passes SIGTERM to its child)
# stops the server instead of leaving it on the port.
# Without real credentials, serve with the public demo key and secret from the Sinch docs'
# signing example, so signed test calls work locally. Never use them in production.
DEMO_KEY := 669E367E-6BBA-48AB-AF15-266871C28135
DEMO_SECRET := BeIukql3pTKJ8RGL5zo0DA==

serve: venv
	@if [ -z "$$SINCH_APPLICATION_KEY" ]; then \
	  echo "make serve: SINCH_APPLICATION_KEY is not set; using the public demo credentials (local use only)"; \
	  exec env SINCH_APPLICATION_KEY=$(DEMO_KEY) SINCH_APPLICATION_SECRET=$(DEMO_SECRET) \
	    $(BIN)/ivrc serve examples --host $(HOST) --port $(PORT); \
	else \
	  exec $(BIN)/ivrc serve examples --host $(HOST) --port $(PORT); \
	fi

# Talk to `make serve` from a second terminal, as a caller: make call TO=+46812345670
TO ?= +46812345670
call: venv
	@if [ -z "$$SINCH_APPLICATION_KEY" ]; then \
	  SINCH_APPLICATION_KEY=$(DEMO_KEY) SINCH_APPLICATION_SECRET=$(DEMO_SECRET) \
	    $(BIN)/ivrc call http://$(HOST):$(PORT)/sinch/callback --to $(TO); \
	else \
	  $(BIN)/ivrc call http://$(HOST):$(PORT)/sinch/callback --to $(TO); \
	fi

bench: venv
	$(BIN)/python bench/run_all.py

lint: venv
	$(BIN)/ivrc lint examples

# The fast suite (slow tests left out, about 3 minutes); `make test-slow` runs the rest. CI runs both.
test: venv
	$(BIN)/python -m pytest

test-slow: venv
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) build *.egg-info
