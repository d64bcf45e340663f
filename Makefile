# NHS Digital Academy evaluation: raw cohort data -> reports/<cohort>/report.html
# Run `make` or `make help` for the list of targets.

.DEFAULT_GOAL := help
SHELL := /bin/bash

COHORT  ?= cohort1
RAW_DIR ?= data/raw
MIN_COUNT ?= 0
ROUND_TO  ?= 0
# PSEUDONYM_KEY: secret for participant pseudonyms; required for real (non-synthetic) data.
# FORCE=1 reruns every step; JOBS=N caps the steps run at once (default: make -j N, else every core).
# NOTEBOOKS_DIR, REPORTS_DIR, PROCESSED_DIR: run another copy of the notebooks, or write elsewhere.
PYTHON_BOOT ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
KERNEL  := nhsda-eval
# Quote a make variable for the shell, so a cohort or path cannot run commands.
q = '$(subst ','\'',$(1))'

# Optional runner settings, each quoted for the shell.
PIPELINE_OPTIONS = $(if $(FORCE),--force) $(if $(JOBS),--jobs $(call q,$(JOBS))) \
  $(if $(NOTEBOOKS_DIR),--notebooks-dir $(call q,$(NOTEBOOKS_DIR))) \
  $(if $(REPORTS_DIR),--reports-dir $(call q,$(REPORTS_DIR))) \
  $(if $(PROCESSED_DIR),--processed-dir $(call q,$(PROCESSED_DIR)))

.PHONY: help report report-all pdf figures bench test hooks lint lab synthetic clean venv browser import

help: ## List the targets
	@echo "Usage: make <target> [COHORT=cohort1|cohort2|all|<name>] [RAW_DIR=data/raw]"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "Creating $(VENV) from requirements.lock (first run only, about a minute)..."
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "NHSDA evaluation (.venv)" >/dev/null
	@touch $@

venv: $(VENV)/.installed ## Create the virtual environment from pinned versions

report: $(VENV)/.installed ## Build or update reports/$(COHORT)/report.html, rerunning only what changed (COHORT=, RAW_DIR=, MIN_COUNT=, ROUND_TO=, PSEUDONYM_KEY=, FORCE=1, JOBS=)
	$(if $(PSEUDONYM_KEY),@export NHSDA_PSEUDONYM_KEY=$(call q,$(PSEUDONYM_KEY)); ,)$(PY) -m helpers.build.pipeline \
	  --cohort $(call q,$(COHORT)) --raw-dir $(call q,$(RAW_DIR)) \
	  --min-count $(call q,$(MIN_COUNT)) --round-to $(call q,$(ROUND_TO)) $(PIPELINE_OPTIONS)

report-all: $(VENV)/.installed ## Build every cohort in RAW_DIR and the pooled 'all', then reports/index.html
	$(if $(PSEUDONYM_KEY),@export NHSDA_PSEUDONYM_KEY=$(call q,$(PSEUDONYM_KEY)); ,)$(PY) -m helpers.report.index \
	  --raw-dir $(call q,$(RAW_DIR)) --min-count $(call q,$(MIN_COUNT)) --round-to $(call q,$(ROUND_TO))

figures: report ## Publication figures (PNG 200 dpi and SVG, 7 in wide) in reports/$(COHORT)/figures/

bench: $(VENV)/.installed ## Measure speed and memory into reports/bench.json (BENCH_SIZES="1000 10000 100000", BENCH_REPEAT=3)
	$(PY) -m helpers.build.bench $(if $(BENCH_SIZES),--sizes $(foreach s,$(BENCH_SIZES),$(call q,$(s)))) \
	  $(if $(BENCH_REPEAT),--repeat $(call q,$(BENCH_REPEAT)))

test: $(VENV)/.installed browser ## Run the test suite (unit tests, end-to-end pipeline, browser checks)
	$(PY) -m pytest

browser: ## Install Debian's chromium for the browser tests, if missing (needs root or sudo)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the report's browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else \
	    echo "ERROR: the browser tests need Chromium: run 'sudo apt-get install chromium' and retry." >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "Installing poppler-utils (pdftoppm, pdftotext) for the PDF checks..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils >/dev/null; }
	@[ -f node_modules/axe-core/axe.min.js ] || { \
	  echo "Installing axe-core (package-lock.json) for the accessibility checks..."; \
	  npm ci --no-audit --no-fund --silent; }

pdf: report browser ## Print reports/$(COHORT)/report.html to reports/$(COHORT)/report.pdf (A4) with headless Chromium
	$(PY) -m helpers.report.pdf $(call q,$(if $(REPORTS_DIR),$(REPORTS_DIR),reports)/$(COHORT)/report.html)

lab: $(VENV)/.installed ## Start JupyterLab with the project's kernel
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR) \
	  $$( [ -n "$$DISPLAY" ] || echo --no-browser ) $$( [ "$$(id -u)" != 0 ] || echo --allow-root )

hooks: $(VENV)/.installed ## Install the git pre-commit hooks (strip notebook outputs, ruff)
	$(PY) -m pip install --quiet --disable-pip-version-check pre-commit==4.7.0
	$(VENV)/bin/pre-commit install

lint: $(VENV)/.installed ## Check the code with ruff
	$(VENV)/bin/ruff check src tests notebooks

synthetic: $(VENV)/.installed ## Regenerate the synthetic cohorts in data/raw (FORCE=1 to replace edited files)
	$(PY) -m helpers.tools.synthetic --out data/raw $(if $(FORCE),--force)

clean: ## Remove built outputs (reports/, data/processed/); keeps data/raw and .venv
	rm -rf reports/*/ reports/.build reports/index.html data/processed/*/

import: $(VENV)/.installed ## Import a survey or coding export into RAW_DIR/COHORT (SRC=, COHORT=, RAW_DIR=, KIND=, FORCE=1, DICTIONARY=, CODEBOOK=, MAPPING=)
	@if [ -z $(call q,$(SRC)) ] || [ "$(origin COHORT)" = file ]; then \
	  echo "Usage: make import SRC=<export file> COHORT=<name> RAW_DIR=<your raw folder> [KIND=...] [FORCE=1]" \
	    "(see docs/bring-your-own-data.md)" >&2; exit 2; fi
	$(PY) -m helpers.importers $(call q,$(SRC)) --cohort $(call q,$(COHORT)) --raw-dir $(call q,$(RAW_DIR)) \
	  $(if $(KIND),--kind $(call q,$(KIND))) $(if $(FORCE),--force) \
	  $(if $(DICTIONARY),--dictionary $(call q,$(DICTIONARY))) $(if $(CODEBOOK),--codebook $(call q,$(CODEBOOK))) \
	  $(if $(MAPPING),--mapping $(call q,$(MAPPING)))
