"""Binder (repo2docker) builds a working Lab: binder/'s steps, run in a fresh virtual environment,
install the locked packages and the project, and register the kernel that imports `helpers`."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.data import paths

pytestmark = pytest.mark.e2e
BINDER = paths.PROJECT_ROOT / "binder"
UV = paths.PROJECT_ROOT / ".venv" / "uv" / "bin" / "uv"

# Run by the registered kernel: where `helpers` comes from.
ASK_THE_KERNEL = """
import sys
from jupyter_client.manager import start_new_kernel
manager, client = start_new_kernel(kernel_name="nhsda-eval")
try:
    said = []
    client.execute_interactive("import helpers; print(helpers.__file__)", timeout=60,
                               output_hook=lambda m: said.append(m["content"].get("text", "")))
    print("".join(said).strip())
finally:
    client.stop_channels()
    manager.shutdown_kernel(now=True)
"""


def test_binder_uses_the_hashed_lock_and_repo2dockers_files():
    assert (BINDER / "requirements.txt").read_text().splitlines()[-1] == "-r ../requirements.lock"
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"  # the lock is resolved for 3.11
    assert os.access(BINDER / "postBuild", os.X_OK)
    assert not (paths.PROJECT_ROOT / "binder" / "environment.yml").exists()  # repo2docker would take it instead


@pytest.mark.skipif(not UV.is_file(), reason="needs uv in .venv/uv (make venv)")
def test_binder_steps_in_a_fresh_environment_give_a_kernel_that_imports_helpers(tmp_path):
    # A clean copy of the repository's tracked files, as repo2docker sees a clone.
    repo = tmp_path / "repo"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=paths.PROJECT_ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = paths.PROJECT_ROOT / name
        if source.is_file() and not name.startswith(("data/raw/", "tests/")):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    env_dir = tmp_path / "env"
    clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH",
                                                              "PIP_REQUIRE_VIRTUALENV")}
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(env_dir)], check=True, env=clean)
    env = {**clean, "VIRTUAL_ENV": str(env_dir), "PATH": f"{env_dir / 'bin'}{os.pathsep}{clean['PATH']}"}
    # repo2docker: `pip install -r binder/requirements.txt` (here through uv, for its cache), then postBuild.
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(env_dir / "bin" / "python"),
                    "-r", "binder/requirements.txt"], cwd=repo, check=True, env=env)
    subprocess.run(["bash", "binder/postBuild"], cwd=repo, check=True, env=env)
    spec = json.loads((env_dir / "share" / "jupyter" / "kernels" / "nhsda-eval" / "kernel.json").read_text())
    assert Path(spec["argv"][0]).parent == env_dir / "bin"
    answer = subprocess.run([str(env_dir / "bin" / "python"), "-c", ASK_THE_KERNEL], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip().splitlines()[-1] == str(repo / "src" / "helpers" / "__init__.py")
