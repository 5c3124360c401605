# wavejax: every target creates .venv when missing and installs the package into it.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
DOCS_STAMP := $(VENV)/.installed-docs
export XLA_PYTHON_CLIENT_PREALLOCATE := false

.PHONY: test reproduce bench results-table lint docs notebooks notebook-outputs venv clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	touch $(BENCH_STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,docs]"
	touch $(DOCS_STAMP)

venv: $(STAMP)

# The suite runs in 2 pytest-xdist worker processes (one per core of the 2-core development machine; TEST_WORKERS=N
# for another count), each test file whole on one worker (--dist loadfile: its module fixtures and compiled programs
# are shared as in a serial run). One process compiling the whole suite's ~900 XLA programs crashed once (a segfault
# inside XLA:CPU's compiler, jax 0.10.1, late in the run) where each part alone passed; each worker compiles about
# half of them, and a crashed worker fails the run. -x stops at the first failure.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -x -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=10 tests
	$(BIN)/python -m pytest -q --doctest-modules wavejax   # every module's >>> examples

reproduce: $(STAMP)
	$(BIN)/wavejax reproduce   # writes runs/<timestamp>/report.md (+ .html); runs/latest points to it

bench: $(BENCH_STAMP)
	$(BIN)/wavejax bench --update-readme   # full run recorded in benchmarks/results/ and README.md

results-table: $(STAMP)   # README's "What reproduces" table from the committed docs/results/ files
	$(BIN)/python -m wavejax.report._readme_table README.md docs/results

lint: $(STAMP)
	$(BIN)/ruff check wavejax tests benchmarks

docs: $(DOCS_STAMP)   # the documentation site in site/ (strict: a broken link or reference fails the build)
	$(BIN)/python -m mkdocs build --strict

notebooks: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_notebooks.py

notebook-outputs: $(STAMP)   # re-execute the notebooks (small CPU scale) and store their outputs in the .ipynb files
	$(BIN)/python notebooks/store_outputs.py

clean:
	rm -rf $(VENV) runs site
