# trustmap: `make demo` sets up .venv and scans this environment; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo install test lint bench clean

$(BIN)/trustmap: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/trustmap

install: $(BIN)/trustmap

# Scan the environment trustmap itself is installed in, and write a CycloneDX SBOM beside it.
# The usage dataset's public URL is outside this machine's network: use the bundled snapshot.
demo: export TRUSTMAP_TOP_PACKAGES_URL ?= off
demo: install
	$(BIN)/trustmap scan $(VENV)
	$(BIN)/trustmap scan $(VENV) -f cyclonedx-json -o sbom.cdx.json
	@echo "CycloneDX SBOM written to sbom.cdx.json"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check scanner tests benchmarks
	$(BIN)/ruff format --check scanner tests benchmarks

# About 12 minutes, plus 3 for building the lab environment and the peers' venvs once.
bench: install
	$(BIN)/python -u benchmarks/run.py
	$(BIN)/python -u benchmarks/peers.py
	$(BIN)/python -u benchmarks/resolve_vs_uv.py
	$(BIN)/python -u benchmarks/rules_5000.py

clean:
	rm -rf $(VENV) build *.egg-info sbom.cdx.json
