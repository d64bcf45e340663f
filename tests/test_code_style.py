"""The code passes the same ruff check as the pre-commit hook."""
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.data import paths


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is missing from the environment: run make venv"
    result = subprocess.run([ruff, "check", "src", "tests", "notebooks"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
