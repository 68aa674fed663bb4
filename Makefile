# Quick start: `make demo` then `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Shared libraries WeasyPrint needs that a fresh Debian lacks, plus fonts and
# poppler-utils (pdftotext, pdftoppm, pdffonts) for the PDF page checks; Java for the local
# Spark the engine parity tests start (roistory[spark]).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk
APT_TEST_PACKAGES := poppler-utils postgresql openjdk-17-jre-headless

.PHONY: demo test install install-test system-deps system-test-deps lint bench mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python system-deps
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python system-deps system-test-deps
	$(BIN)/pip install --quiet -e '.[test]'

demo: install
	$(BIN)/roistory demo --out out

test: install-test
	$(BIN)/python -m pytest -q -n 2

lint: install-test
	$(BIN)/ruff check core plugins tests
	$(BIN)/cog --check docs/cli.md

# Mutation testing (docs/testing.md), niced, in a staged copy; not part of `make test`.
# MODULES=periods goals metrics sandbox
mutation: install-test
	scripts/mutation $(MODULES)

bench: install-test
	$(BIN)/python benchmarks/bench_report.py

# Installs with apt-get when we are root (or have sudo); otherwise prints the line and goes on.
system-deps:
	@scripts/ensure-apt-packages $(APT_PACKAGES)

system-test-deps:
	@scripts/ensure-apt-packages $(APT_TEST_PACKAGES)

clean:
	rm -rf out build *.egg-info .pytest_cache
