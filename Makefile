# Every target builds .venv itself, so a fresh clone needs nothing but python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Some images set PYTHONDONTWRITEBYTECODE (this workplace's do). The suite starts hundreds of Python
# processes, and without a bytecode cache each compiles the package anew and each pytest worker
# rewrites every test module again: collecting took 9.3 s of CPU a worker, 5.7 s with the cache.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test lint typecheck unit bench serve soak clean fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## demo: the mock and the reference operator on embedded defaults: verification, the scenario
## library and every event sample, then the dashboard stays up at the printed URL (Ctrl-C stops).
demo: $(STAMP)
	$(BIN)/mock-ft demo

## serve: run the mock on 127.0.0.1:8765.
serve: $(STAMP)
	$(BIN)/mock-ft serve

## test: lint, type-check and run the whole suite with the branch-coverage gate. Tests marked
## xdist_group(NAME) share one worker, in file order (tests/test_wheel.py's venv, tests/ui's browser,
## the Schemathesis cases that share one app).
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One worker more than the cores, up to 8: the tests wait on sockets, brokers and child processes
# a good part of their time, and a worker a core left a 2-core machine a third idle (make test
# 565 s at -n 2, 518 s at -n 3, same commit and machine, 2026-12-07).
WORKERS ?= $(shell n=$$(nproc); echo $$(( n < 8 ? n + 1 : 8 )))
unit: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup --cov --cov-branch --cov-report=term $(PYTEST_ARGS)

## soak: the whole suite SOAK_RUNS times (3) in a row under a CPU hog on every core; one line per
## run, exit 1 if any failed. Proves the suite does not need a quiet machine.
SOAK_RUNS ?= 3
soak: $(STAMP)
	WORKERS=$(WORKERS) bash scripts/soak $(SOAK_RUNS)

## fuzz: Schemathesis against the mock's own OpenAPI (positive, then negative; control API
## included, callback rules pointed at loopback) and a coverage-guided fuzz (atheris) of decode,
## validate, journal and read back: FUZZ_SECONDS in all (600). Reports in .mock-ft/fuzz/.
FUZZ_SECONDS ?= 600
$(VENV)/.fuzz-stamp: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[fuzz]"
	touch $@

fuzz: $(VENV)/.fuzz-stamp
	$(BIN)/python -m fuzz.run --seconds $(FUZZ_SECONDS)

## bench: REST ingest against a bare ASGI app side by side; REST ingest on SQLite vs PostgreSQL with
## one and two instances; broker ingest (RabbitMQ, Kafka) against bare consumers; then the wall
## time of `mock-ft verify`.
bench: $(STAMP)
	bash bench/ensure-tools
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)
	$(BIN)/python -m bench.instances $(BENCH_ARGS)
	$(BIN)/python -m bench.brokers $(BENCH_ARGS)
	$(BIN)/python -m bench.verify

clean:
	rm -rf $(VENV) .mock-ft .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
