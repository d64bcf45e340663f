"""Every parameter the Makefile reads reaches the programs as typed: it is listed in PARAMETERS
(unexported, so make never expands it to put it in a recipe's environment) and `$(shell ...)`
in its value is never run."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from helpers.data import paths

MAKEFILE = paths.PROJECT_ROOT / "Makefile"


def makefile_text() -> str:
    """The Makefile with its continued lines joined."""
    return re.sub(r"\\\n", " ", MAKEFILE.read_text())


def declared_parameters() -> set[str]:
    match = re.search(r"^PARAMETERS := (.*)$", makefile_text(), re.MULTILINE)
    assert match, "the Makefile has no PARAMETERS list"
    return set(match.group(1).split())


def read_parameters() -> set[str]:
    """Every variable the Makefile reads unexpanded: $(value X), and X given to the helpers that
    read with $(value ...) (v, o, given)."""
    text = makefile_text()
    names = set(re.findall(r"\$\(value ([A-Za-z_][A-Za-z0-9_]*)\)", text))
    names |= set(re.findall(r"\$\(call (?:v|given),([A-Za-z_][A-Za-z0-9_]*)\)", text))
    names |= set(re.findall(r"\$\(call o,[^,()]+,([A-Za-z_][A-Za-z0-9_]*)\)", text))
    return names


def test_every_parameter_the_makefile_reads_is_listed_as_a_parameter():
    read = read_parameters()
    # The parse finds what it should: the import's options and the runner's.
    assert {"SOURCES_DIR", "SRC", "COHORT", "RAW_DIR", "JOBS", "BENCH_SIZES", "UPGRADE"} <= read, sorted(read)
    assert read - declared_parameters() == set(), "read by the Makefile but not listed in PARAMETERS"


@pytest.mark.parametrize("variable", sorted(read_parameters()))
def test_make_never_runs_a_shell_function_given_in_any_parameter(variable, tmp_path):
    """Any recipe is enough: make expands an exported variable to build a recipe's environment
    (`make help` runs one, instantly)."""
    marker = tmp_path / "PWNED"
    result = subprocess.run(["make", "-s", "help", f"{variable}=$(shell touch {marker})"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), f"{variable}: make ran the shell function in its value"


def test_make_import_never_runs_a_shell_function_in_sources_dir(tmp_path):
    marker = tmp_path / "PWNED"
    result = subprocess.run(["make", "-s", "import", "SRC=tests/fixtures/refi_codebook.qdc", "COHORT=x",
                             f"RAW_DIR={tmp_path / 'raw'}", f"SOURCES_DIR=$(shell touch {marker})"],
                            cwd=paths.PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert not marker.exists()
    # The importer ran (and stopped, as a first import does, for its mapping to be checked).
    assert "Wrote a starting mapping" in result.stderr, result.stdout + result.stderr
