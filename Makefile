# trustmap: `make demo` sets up .venv and scans this environment; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo install test lint bench mutate clean

$(BIN)/trustmap: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/trustmap

install: $(BIN)/trustmap

# Scan the environment trustmap itself is installed in, and write a CycloneDX SBOM beside it.
# The usage dataset's public URL is outside this machine's network: use the bundled snapshot.
demo: export TRUSTMAP_TOP_PACKAGES_URL ?= off
# Nor are the enrichment services (OSV, GitHub, deps.dev): switched off, not waited for.
demo: export TRUSTMAP_OSV_API_URL ?= off
demo: export TRUSTMAP_GITHUB_API_URL ?= off
demo: export TRUSTMAP_DEPSDEV_API_URL ?= off
demo: export TRUSTMAP_SCORECARD_API_URL ?= off
demo: export TRUSTMAP_PYPISTATS_API_URL ?= off
demo: install
	$(BIN)/trustmap scan $(VENV)
	$(BIN)/trustmap scan $(VENV) -f cyclonedx-json -o sbom.cdx.json
	@echo "CycloneDX SBOM written to sbom.cdx.json"

# Coverage is reported, never enforced: a summary to read, not a gate.
test: install
	$(BIN)/python -m pytest -q --cov=scanner --cov-report=term

# Mutation testing of the pure core, one module at a time (2 cores: about ten minutes
# each). `make mutate MUTATE=scanner.risk*` runs one; survivors are explained in
# tests/MUTATION.md or killed by a test.
MUTATE ?= scanner.risk* scanner.graph* scanner.names* scanner.rules* scanner.policy* scanner.condition_types*
mutate: install
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	rm -rf mutants
	for module in $(MUTATE); do $(BIN)/mutmut run --max-children 2 "$$module" || exit 1; done
	$(BIN)/mutmut results

lint: install
	$(BIN)/ruff check scanner tests benchmarks
	$(BIN)/ruff format --check scanner tests benchmarks

# About 14 minutes, plus 3 for building the lab environment and the peers' venvs once.
bench: install
	$(BIN)/python -u benchmarks/run.py
	$(BIN)/python -u benchmarks/peers.py
	$(BIN)/python -u benchmarks/resolve_vs_uv.py
	$(BIN)/python -u benchmarks/rules_5000.py
	$(BIN)/python -u benchmarks/gate.py
	$(BIN)/python -u benchmarks/unreachable_sources.py

clean:
	rm -rf $(VENV) build *.egg-info sbom.cdx.json mutants .coverage
