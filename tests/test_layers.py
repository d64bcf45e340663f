"""The package's layers point one way (import-linter's contracts in pyproject.toml), and the
figures step's kernel imports no validation library."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from importlinter import api

from helpers.data import paths


def test_import_contracts_are_kept():
    contracts = api.read_configuration(str(paths.PROJECT_ROOT / "pyproject.toml"))["contracts_options"]
    assert any(c["type"] == "layers" for c in contracts)
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                            cwd=paths.PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(contracts)} kept, 0 broken" in result.stdout


def test_figures_import_neither_pandera_nor_the_build_engine():
    code = "import helpers.notebook, helpers.report.figures"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "helpers.report.figures" in imported
    assert not {name for name in imported if name.split(".")[0] == "pandera"}
    assert not {name for name in imported if name.startswith(("helpers.runner", "helpers.tools", "helpers.data.load"))}


def test_the_data_layer_knows_nothing_of_the_runner_s_snapshots():
    """The data layer prints paths as given; naming the runner's copy of raw_dir as the analyst's
    own folder is the runner's business (helpers.runner.pipeline.named_as_raw)."""
    data = Path(paths.__file__).parent
    mentions = [f"{source.name}:{number}" for source in sorted(data.rglob("*.py"))
                for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
                if "snapshot" in line.lower()]
    assert not mentions
