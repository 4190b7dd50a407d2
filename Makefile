# Two commands: `make run` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench fuzz lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/unionhall migrate
	$(BIN)/unionhall demo --if-empty
	UNIONHALL_DEMO=$${UNIONHALL_DEMO:-1} $(BIN)/unionhall run

test: $(STAMP)
	$(BIN)/ruff check service tasks tests
	$(BIN)/python tests/run_suite.py

bench: $(STAMP)
	$(BIN)/python -m pytest tests/bench -p no:cacheprovider -s

# Schemathesis as every role, with many more examples an operation than `make test`.
fuzz: $(STAMP)
	UNIONHALL_FUZZ_EXAMPLES=$${UNIONHALL_FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest \
		tests/reliability/test_schemathesis.py -p no:cacheprovider -s

lint: $(STAMP)
	$(BIN)/ruff check service tasks tests

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
