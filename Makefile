# Quick start: `make demo` then `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Shared libraries WeasyPrint needs that a fresh Debian lacks, plus fonts and
# poppler-utils (pdftotext, pdftoppm, pdffonts) for the PDF page checks; Java for the local
# Spark the engine parity tests start (roistory[spark]); chromium and its driver for the HTML
# report's browser test (tests/test_html_browser.py).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk
APT_TEST_PACKAGES := poppler-utils postgresql openjdk-17-jre-headless chromium chromium-driver

# Some sandboxes set PYTHONDONTWRITEBYTECODE: then every roistory process the tests and
# benchmarks start compiles the package from source again (about 0.5 s each). Installed
# packages keep their bytecode; ours should too.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test install install-test system-deps system-test-deps lint bench pictures mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python system-deps
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python system-deps system-test-deps
	$(BIN)/pip install --quiet -e '.[test]'

demo: install
	$(BIN)/roistory demo --out out

# --dist loadscope: a module's tests stay on one worker, so a module-scoped render (the
# example in four locales, the PDF variants) is made once, not once per worker.
test: install-test
	$(BIN)/python -m pytest -q -n 2 --dist loadscope

lint: install-test
	$(BIN)/ruff check core plugins tests benchmarks
	$(BIN)/ruff format --check core plugins tests benchmarks
	$(BIN)/cog --check docs/cli.md

# The README's page images, from the current example (pdftoppm from poppler-utils).
pictures: install system-test-deps
	rm -rf build/pictures
	$(BIN)/roistory demo --out build/pictures
	for page in 1 2; do \
	  pdftoppm -png -r 60 -f $$page -l $$page -singlefile build/pictures/*.pdf docs/images/report-page-$$page; \
	done

# Mutation testing (docs/testing.md), niced, mutants swapped in memory; not part of `make test`.
# MODULES=periods goals formulas sources.fx sandbox safety resources pdf attribution
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
