# Two entry points a newcomer needs: `make serve` and `make test`. Each builds .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test lint venv clean

$(BIN)/ivrc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(BIN)/ivrc

venv: $(BIN)/ivrc

serve: venv
	$(BIN)/ivrc serve examples --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ivrc lint examples

test: venv
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
