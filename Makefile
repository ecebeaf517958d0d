# lashing: the two entry points are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo audit-demo test lint typecheck check bench clean lock

$(STAMP): requirements.lock pyproject.toml
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

## demo: build a small example image in code and scan it
demo: $(STAMP)
	$(BIN)/python examples/demo_image.py build/demo
	$(BIN)/lashing db import --db build/demo.db src/lashing/vulndb/data/demo
	$(BIN)/lashing scan oci:build/demo:1.0 --db build/demo.db --no-progress

## audit-demo: build a small estate in code (examples/audit_demo.py) and audit it;
## writes build/audit/report.html and prints the table. The example's findings
## reach its gates on purpose, so exit 1 (gate) is success here; 2-4 still fail.
audit-demo: $(STAMP)
	rm -rf build/audit
	$(BIN)/python examples/audit_demo.py build/audit
	$(BIN)/lashing db import --db build/demo.db src/lashing/vulndb/data/demo
	$(BIN)/lashing audit -c build/audit/lashing.toml --db build/demo.db --no-progress \
	  --format html -o build/audit/report.html || test $$? -eq 1
	$(BIN)/lashing audit -c build/audit/lashing.toml --db build/demo.db --no-progress \
	  || test $$? -eq 1

## test: lint, type-check and run the whole test suite
test: $(STAMP)
	./scripts/system-deps.sh --test
	./scripts/build-fixtures.sh
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	$(BIN)/pytest -n auto -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: time lashing against Trivy and Syft on a Debian 12 image
bench: $(STAMP)
	$(BIN)/python bench/bench_scan.py

## lock: re-pin requirements.lock from pyproject.toml
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	  --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
