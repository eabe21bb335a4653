# Every target installs what it needs first (Debian packages, the venvs), then acts.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UNO_VENV := .venv-uno
PORT ?= 8000
UNOSERVER_VERSION := 3.7
# What every docgen host needs, shared with deploy/Dockerfile; then what development and the tests
# add: PDF tools (previews, tests), Redis (tests, `make up`), Debian's docker-compose (the compose
# file's test, tests/unit/test_deploy.py), Chromium and its driver (the download page's browser
# test drives Debian's build through Playwright: no browser download).
APT_LIST := deploy/apt-packages.txt
APT_PACKAGES := $(shell grep -o '^[a-z0-9][a-z0-9.+-]*' $(APT_LIST)) poppler-utils redis-server \
	docker-compose chromium chromium-driver
FONTS_DIR := deploy/fontconfig/fonts

.PHONY: run preview test test-all slow faults up lint format bench templates deps clean

deps: .stamps/apt $(VENV)/.installed $(UNO_VENV)/.installed $(FONTS_DIR)/.extracted

# Installed only when a package is missing: `dpkg -s` is fast, apt-get is not.
.stamps/apt: Makefile $(APT_LIST)
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "installing Debian packages: $(APT_PACKAGES)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(APT_PACKAGES); \
	fi
	@mkdir -p .stamps && touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $@

# unoserver's server half must run under Debian's python3, the only one with `uno` (DESIGN §3).
$(UNO_VENV)/.installed: .stamps/apt
	/usr/bin/python3 -m venv --system-site-packages $(UNO_VENV)
	$(UNO_VENV)/bin/pip install -q unoserver==$(UNOSERVER_VERSION)
	$(UNO_VENV)/bin/python -c 'import uno'
	@touch $@

# Standalone SC faces of Noto CJK for LibreOffice (why: deploy/fontconfig/extract_sc_faces.py).
$(FONTS_DIR)/.extracted: .stamps/apt deploy/fontconfig/extract_sc_faces.py
	$(PYTHON) deploy/fontconfig/extract_sc_faces.py $(FONTS_DIR)
	@touch $@

run: deps
	$(VENV)/bin/docgen render samples/community.example.json --out out

# Every page of the five PDFs as PNG, for a person to look at (out/ is never committed).
preview: run
	rm -rf out/preview && mkdir -p out/preview
	for pdf in out/*.pdf; do pdftoppm -r 80 -png "$$pdf" "out/preview/$$(basename "$$pdf" .pdf)"; done
	@echo "pages: $$(ls out/preview | wc -l) PNG files in out/preview/"

test: lint
	$(VENV)/bin/pytest -m "not slow"

slow: deps
	$(VENV)/bin/pytest -m slow

# The fault-injection suite of issue 9 (tests/faults/, ≈15 min here), printing its figures
# (docs/RELIABILITY.md); scenarios 2, 6 and 8 also run in `make test`.
faults: deps
	$(VENV)/bin/pytest -m faults -s

test-all: deps
	$(VENV)/bin/pytest

up: deps
	$(VENV)/bin/docgen up --port $(PORT)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint deploy/Dockerfile

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

templates: deps
	$(VENV)/bin/python -m doc_templates.build

# All six benchmarks of issue 6 (≈10 min); one or some, or fewer rounds:
#   make bench BENCH="carbone memory"   make bench BENCH=--quick
bench: deps
	$(VENV)/bin/python -m bench $(BENCH)

clean:
	rm -rf out .run .stamps .pytest_cache .mypy_cache .ruff_cache $(FONTS_DIR)
