# NHS Digital Academy evaluation: raw cohort data -> reports/<cohort>/report.html
# Run `make` or `make help` for the list of targets.

.DEFAULT_GOAL := help
SHELL := /bin/bash

COHORT  ?= cohort1
RAW_DIR ?= data/raw
MIN_COUNT ?= 0
ROUND_TO  ?= 0
# PSEUDONYM_KEY: secret for participant pseudonyms; required for real (non-synthetic) data.
# COMPARE_TEST=1: Table 1 also tests the difference between cohorts (default: the SMD only).
# FORCE=1 reruns every step; JOBS=N caps the steps run at once (default: make -j N, else every core).
# NOTEBOOKS_DIR, REPORTS_DIR, PROCESSED_DIR: run another copy of the notebooks, or write elsewhere.
PYTHON_BOOT ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
KERNEL  := nhsda-eval
# Parameters reach the programs exactly as typed: each is read with $(value ...), which make
# does not expand, so `$(shell ...)` in a value is text, not a command, and a key with `$` in
# it keeps every `$`. They are not exported either: make would expand them to put them in the
# environment. The programs then refuse values they cannot use (newlines, shell characters).
PARAMETERS := COHORT RAW_DIR MIN_COUNT ROUND_TO PSEUDONYM_KEY FORCE JOBS NOTEBOOKS_DIR REPORTS_DIR PROCESSED_DIR \
  SRC KIND DICTIONARY CODEBOOK MAPPING SOURCES_DIR BENCH_SIZES BENCH_REPEAT UPGRADE COMPARE_TEST
unexport $(PARAMETERS)
# A parameter, unexpanded and quoted for the shell: v = value, o = option with its value if set.
v = '$(subst ','\'',$(value $(1)))'
o = $(if $(value $(2)),$(1) $(call v,$(2)))
# A newline would split a recipe line into two commands: refused before anything runs.
define newline


endef
$(foreach p,$(PARAMETERS),$(if $(findstring $(newline),$(value $(p))),\
  $(error ERROR: $(p) contains a newline; refusing it. Check the value and the command's quoting)))
# The key goes to the programs in the environment only, never on a command line.
ifneq ($(value PSEUDONYM_KEY),)
export NHSDA_PSEUDONYM_KEY = $(value PSEUDONYM_KEY)
endif

# Optional runner settings, each quoted for the shell. RAW_DIR goes to the runner only when
# given (on the command line or in the environment): left out, the runner uses the folder the
# published report was built from, else data/raw.
given = $(filter-out file default undefined,$(origin $(1)))
PIPELINE_OPTIONS = $(if $(value FORCE),--force) $(if $(value COMPARE_TEST),--compare-test) $(call o,--jobs,JOBS) $(call o,--notebooks-dir,NOTEBOOKS_DIR) \
  $(call o,--reports-dir,REPORTS_DIR) $(call o,--processed-dir,PROCESSED_DIR) \
  $(if $(call given,RAW_DIR),--raw-dir $(call v,RAW_DIR))
# The runner, for COHORT at MIN_COUNT and ROUND_TO (the report folder is named by all three).
RUN = $(PY) -m helpers.runner.pipeline --cohort $(call v,COHORT) \
  --min-count $(call v,MIN_COUNT) --round-to $(call v,ROUND_TO) $(PIPELINE_OPTIONS)

.PHONY: validate lock help report report-all watch pdf figures manuscript bench test test-fast hooks lint lab synthetic clean venv browser import

help: ## List the targets
	@echo "Usage: make <target> [COHORT=cohort1|cohort2|all|<name>] [RAW_DIR=data/raw]"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

# The environment is installed by uv (a fast installer, itself installed by pip from
# requirements-uv.lock with hashes) and synced to requirements.lock exactly: what the lock
# drops is removed. Every file must match a hash in the lock, or the install stops. If uv
# cannot be installed (no wheel for this platform), plain pip installs the same lock, with
# the same hashes required, into a new .venv. Both write the packages' bytecode at install
# (pip does by default): with PYTHONDONTWRITEBYTECODE set, as on shared machines, Python would
# otherwise compile pandas and matplotlib from source in every kernel, every run.
UV_VERSION := 0.13.9
UV      := $(VENV)/uv/bin/uv
PIP     := $(PY) -m pip --quiet --disable-pip-version-check
# Shell: make sure .venv and uv at UV_VERSION exist. uv goes into .venv/uv, outside the synced
# packages; pip comes from the lock like everything else, so the venv starts without it
# (seconds faster), and pip is borrowed from Python itself only if the boot Python has none.
GET_UV   = { [ -x $(PY) ] || $(PYTHON_BOOT) -m venv --without-pip $(VENV); } && \
  { $(UV) --version 2>/dev/null | grep -q '^uv $(subst .,\.,$(UV_VERSION))\b' || { rm -rf $(VENV)/uv && \
    { $(PYTHON_BOOT) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null; } && \
    $$( $(PYTHON_BOOT) -m pip --version >/dev/null 2>&1 && echo $(PYTHON_BOOT) || echo $(PY) ) -m pip --quiet \
      --disable-pip-version-check install --root-user-action=ignore --require-hashes --target $(VENV)/uv -r requirements-uv.lock; }; }
$(VENV)/.installed: requirements.lock requirements-uv.lock pyproject.toml
	@echo "Setting up $(VENV) from requirements.lock (hashes checked)..."
	@if $(GET_UV); then \
	  $(UV) pip sync --quiet --python $(PY) --require-hashes --compile-bytecode requirements.lock && \
	  $(UV) pip install --quiet --python $(PY) --no-deps -e . ; \
	else \
	  echo "uv could not be installed: installing with pip instead (a few minutes)..."; \
	  rm -rf $(VENV) && $(PYTHON_BOOT) -m venv $(VENV) && \
	  $(PIP) install --require-hashes -r requirements.lock && \
	  $(PIP) install --no-deps -e . ; \
	fi
	@$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "NHSDA evaluation (.venv)" >/dev/null
	@touch $@

venv: $(VENV)/.installed ## Create or sync .venv to requirements.lock (pinned versions, hashes required)

lock: ## Regenerate requirements.lock and requirements-uv.lock from pyproject.toml, with hashes (UPGRADE=1: newest versions)
	@$(GET_UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes \
	  --output-file requirements.lock $(if $(value UPGRADE),--upgrade)
	echo "uv==$(UV_VERSION)" | $(UV) pip compile --quiet - --universal --python-version 3.11 --generate-hashes \
	  --no-header --output-file requirements-uv.lock
	@echo "Review the change with 'git diff requirements.lock'; 'make venv' installs it."

report: $(VENV)/.installed ## Build or update reports/$(COHORT)/report.html (with MIN_COUNT/ROUND_TO: reports/$(COHORT)-min<N>-round<N>/), rerunning only what changed (COHORT=, RAW_DIR=, PSEUDONYM_KEY=, FORCE=1, JOBS=, COMPARE_TEST=1)
	$(RUN)

report-all: $(VENV)/.installed ## Build every cohort in RAW_DIR and the pooled 'all', then reports/index.html (RAW_DIR=, MIN_COUNT=, ROUND_TO=, PSEUDONYM_KEY=, FORCE=1, JOBS=)
	$(PY) -m helpers.runner.pipeline --all \
	  --min-count $(call v,MIN_COUNT) --round-to $(call v,ROUND_TO) $(PIPELINE_OPTIONS)

watch: $(VENV)/.installed ## Rebuild the report on every save of a notebook, helper or raw file, with kernels kept ready for the figures and the report (COHORT=, RAW_DIR=, MIN_COUNT=, ROUND_TO=)
	$(PY) -m helpers.runner.watch --cohort $(call v,COHORT) --min-count $(call v,MIN_COUNT) --round-to $(call v,ROUND_TO) \
	  $(if $(call given,RAW_DIR),--raw-dir $(call v,RAW_DIR)) $(call o,--notebooks-dir,NOTEBOOKS_DIR) \
	  $(call o,--reports-dir,REPORTS_DIR) $(call o,--processed-dir,PROCESSED_DIR)

figures: report ## Publication figures (PNG 200 dpi and SVG, 7 in wide) in reports/$(COHORT)/figures/

manuscript: $(VENV)/.installed ## The report, plus Word tables, journal figures (TIFF, PDF), COREQ draft and numbers.json in its manuscript/ folder, kept up to date by later builds
	$(RUN) --with manuscript

bench: $(VENV)/.installed ## Measure speed and memory into reports/bench.json (BENCH_SIZES="1000 10000 100000", BENCH_REPEAT=3)
	$(PY) -m helpers.runner.bench $(if $(value BENCH_SIZES),--sizes $(foreach s,$(value BENCH_SIZES),'$(subst ','\'',$(s))')) \
	  $(call o,--repeat,BENCH_REPEAT)

# Test workers: two by default (kernels spend much of their time starting, so two overlap well on 2 cores).
TEST_JOBS ?= 2

test: $(VENV)/.installed browser ## Run the whole test suite: unit tests, end-to-end runs with Jupyter kernels, browser checks
	$(PY) -m pytest -n $(TEST_JOBS)

test-fast: $(VENV)/.installed ## The quick loop while you work (about 40 s on 2 cores): every test that starts no kernel and no browser, but the few marked slow
	$(PY) -m pytest -n $(TEST_JOBS) -m "not e2e and not browser and not slow" -q

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

pdf: $(VENV)/.installed browser ## The report, plus report.pdf beside it (A4, headless Chromium), kept up to date by later builds
	$(RUN) --with pdf

lab: $(VENV)/.installed ## Start JupyterLab with the project's kernel
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR) \
	  $$( [ -n "$$DISPLAY" ] || echo --no-browser ) $$( [ "$$(id -u)" != 0 ] || echo --allow-root )

hooks: $(VENV)/.installed ## Install the git pre-commit hooks (strip notebook outputs, ruff)
	$(VENV)/bin/pre-commit install

lint: $(VENV)/.installed ## Check the code with ruff and the package's import layers with import-linter
	$(VENV)/bin/ruff check src tests notebooks
	cd $(CURDIR) && $(VENV)/bin/lint-imports --no-cache

synthetic: $(VENV)/.installed ## Regenerate the synthetic cohorts in data/raw (FORCE=1 to replace edited files)
	$(PY) -m helpers.tools.synthetic --out data/raw $(if $(value FORCE),--force)

clean: ## Remove built outputs (reports/, data/processed/); keeps data/raw and .venv
	@# Published cohorts are symbolic links into reports/.build: remove the links, not through them.
	rm -rf reports/.build reports/index.html
	find reports data/processed -mindepth 1 -maxdepth 1 \( -type d -o -type l \) -exec rm -rf {} +

validate: $(VENV)/.installed ## Check a raw folder against the raw-data contract (data/datapackage.json) with the pipeline's own checks (RAW_DIR=, COHORT=)
	$(PY) -m helpers.data.raw_package --check $(call v,RAW_DIR) --cohort $(call v,COHORT)

import: $(VENV)/.installed ## Import a survey or coding export into RAW_DIR/COHORT (SRC=, COHORT=, RAW_DIR=, KIND=, FORCE=1, DICTIONARY=, CODEBOOK=, MAPPING=, SOURCES_DIR=)
	@if [ -z $(call v,SRC) ] || [ "$(origin COHORT)" = file ]; then \
	  echo "Usage: make import SRC=<export file> COHORT=<name> RAW_DIR=<your raw folder> [KIND=...] [FORCE=1]" \
	    "(see docs/bring-your-own-data.md)" >&2; exit 2; fi
	$(PY) -m helpers.importers $(call v,SRC) --cohort $(call v,COHORT) --raw-dir $(call v,RAW_DIR) \
	  $(call o,--kind,KIND) $(if $(value FORCE),--force) $(call o,--dictionary,DICTIONARY) \
	  $(call o,--codebook,CODEBOOK) $(call o,--mapping,MAPPING) $(call o,--sources-dir,SOURCES_DIR)
