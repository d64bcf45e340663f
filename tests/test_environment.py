"""The environment is the lock, exactly: every package pinned with hashes, installed with
hashes required, nothing extra left behind (`make venv`, `make lock`)."""
import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.data import paths

LOCKS = ["requirements.lock", "requirements-uv.lock"]


def locked(lock: str) -> dict[str, tuple[str, str, list[str]]]:
    """Each requirement of a lock file: name -> (version, marker text, hashes)."""
    text = (paths.PROJECT_ROOT / lock).read_text()
    entries = {}
    # A requirement is one logical line: `name==version ; marker \` followed by `--hash=...` lines.
    for block in re.split(r"\n(?=[A-Za-z0-9])", re.sub(r"(?m)^\s*#.*\n?", "", text)):
        if not block.strip():
            continue
        head, *rest = block.replace("\\\n", " ").split("--hash=")
        name, _, spec = head.strip().partition("==")
        version, _, marker = spec.partition(";")
        entries[canonicalize_name(name)] = (version.strip(), marker.strip(), [h.strip() for h in rest])
    return entries


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_to_one_version_with_hashes(lock):
    entries = locked(lock)
    assert entries, f"{lock} holds no requirement"
    for name, (version, _, hashes) in entries.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), f"{lock}: {name} is not pinned to one version"
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), \
            f"{lock}: {name}=={version} has no sha256 hash: run make lock"


def test_the_lock_holds_every_declared_dependency():
    """A dependency added to pyproject.toml without `make lock` would be missing from .venv."""
    project = tomllib.loads((paths.PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    entries = locked("requirements.lock")
    missing = [d for d in declared if canonicalize_name(Requirement(d).name) not in entries]
    assert not missing, f"declared in pyproject.toml but not in requirements.lock: {missing}: run make lock"
    for d in map(Requirement, declared):
        version = entries[canonicalize_name(d.name)][0]
        assert d.specifier.contains(version, prereleases=True), \
            f"pyproject.toml asks for {d}, the lock pins {version}: run make lock"


def test_the_environment_holds_exactly_the_lock():
    """`uv pip sync`: every package the lock pins for this platform, at its version, and nothing else."""
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop("nhsda-eval", None)  # the project itself, installed editable beside the lock
    for seed in ("setuptools", "wheel"):  # a venv made by conda or pip may seed these; uv's sync keeps them
        if seed not in locked("requirements.lock"):
            installed.pop(seed, None)
    wanted = {name: version for name, (version, marker, _) in locked("requirements.lock").items()
              if not marker or Marker(marker).evaluate()}
    wrong = {n: (installed.get(n), v) for n, v in wanted.items() if installed.get(n) != v}
    extra = sorted(set(installed) - set(wanted))
    assert not wrong, f"installed vs locked versions differ (installed, locked): {wrong}: run make venv"
    assert not extra, f"installed but not in requirements.lock: {extra}: run make venv"


def probe_wheel(folder: Path, value: bytes = b"as published") -> tuple[Path, str]:
    """A tiny, well-formed pure-Python wheel and its sha256, as a lock line would name it."""
    wheel = folder / "hash_probe-1.0-py3-none-any.whl"
    files = {"hash_probe/__init__.py": b"VALUE = '" + value + b"'\n",
             "hash_probe-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: hash-probe\nVersion: 1.0\n",
             "hash_probe-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                               b"Tag: py3-none-any\n"}

    def record_line(name, data):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"{name},sha256={digest},{len(data)}\n"
    record = "".join(record_line(n, d) for n, d in files.items()) + "hash_probe-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("hash_probe-1.0.dist-info/RECORD", record)
    return wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()


def installers() -> dict[str, list[str]]:
    uv = paths.PROJECT_ROOT / ".venv" / "uv" / "bin" / "uv"
    uv = str(uv) if uv.is_file() else shutil.which("uv")
    assert uv, "uv is missing: `make venv` installs it into .venv/uv"
    return {"uv": [uv, "pip", "install", "--no-cache", "--python", sys.executable],
            "pip": [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check"]}


# pip is the fallback installer (and conda's): checked on the case only a hash can catch.
@pytest.mark.parametrize("installer, change", [("uv", "byte flipped in place"), ("uv", "rebuilt with one byte changed"),
                                               ("pip", "rebuilt with one byte changed")])
def test_one_changed_byte_in_a_wheel_stops_the_install(tmp_path, installer, change):
    """What `make venv` does with requirements.lock (hashes required), on a wheel it can change.

    A byte flipped in place may already break the archive's checksums; a wheel rebuilt around
    the changed byte is well formed, and only the lock's hash tells it from the published one."""
    wheels, target = tmp_path / "wheels", tmp_path / "target"
    wheels.mkdir()
    wheel, digest = probe_wheel(wheels)
    lock = tmp_path / "probe.lock"
    lock.write_text(f"hash-probe==1.0 \\\n    --hash=sha256:{digest}\n")
    command = installers()[installer] + ["--require-hashes", "--no-index", "--find-links", str(wheels),
                                         "--target", str(target), "-r", str(lock)]
    first = subprocess.run(command, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert (target / "hash_probe" / "__init__.py").read_text() == "VALUE = 'as published'\n"

    shutil.rmtree(target)
    if change == "byte flipped in place":
        data = bytearray(wheel.read_bytes())
        data[data.index(b"as published")] = ord("A")  # one byte, in the code the package would run
        wheel.write_bytes(bytes(data))
    else:
        probe_wheel(wheels, b"As published")
    second = subprocess.run(command, capture_output=True, text=True)
    assert second.returncode != 0, f"the changed wheel was installed:\n{second.stdout}{second.stderr}"
    assert not (target / "hash_probe").exists()
    if change == "rebuilt with one byte changed":
        assert re.search(r"hash", second.stderr, re.I) and digest in second.stderr, \
            f"the message does not name the expected hash:\n{second.stderr}"
