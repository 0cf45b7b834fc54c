"""The lock files: every dependency pyproject.toml names is pinned, within its range, with hashes.

When this fails after you added or changed a dependency in pyproject.toml, run `bash .ci/lock`
(README, "Reproducible installs") and commit the two lock files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
               "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
               "platform_python_implementation": "CPython", "platform_machine": "x86_64", "extra": ""}


def pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of each ``name==version`` entry of a pip-tools lock file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;]+)", line)
        assert match, f"{path.name}: not a pin: {line[:80]}"
        entries[canonicalize_name(match.group(1))] = (match.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return entries


def needed(groups: list[str]) -> list[Requirement]:
    reqs = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    for group in groups:
        reqs += [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"][group]]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(ENVIRONMENT)]


@pytest.mark.parametrize(("lock", "groups"), [("requirements.lock", []), ("requirements-dev.lock", ["dev"])])
def test_every_dependency_of_pyproject_is_locked_within_its_range_with_hashes(lock, groups):
    locked = pins(ROOT / lock)
    missing, outside = [], []
    for req in needed(groups):
        name = canonicalize_name(req.name)
        if name not in locked:
            missing.append(str(req))
        elif req.specifier and not req.specifier.contains(locked[name][0], prereleases=True):
            outside.append(f"{req} (locked {locked[name][0]})")
    hint = "; run `bash .ci/lock` and commit requirements.lock and requirements-dev.lock"
    assert not missing, f"{lock} lacks {missing}{hint}"
    assert not outside, f"{lock} pins versions outside pyproject's ranges: {outside}{hint}"
    unhashed = [name for name, (_, hashes) in locked.items() if not hashes]
    assert not unhashed, f"{lock}: pins without hashes: {unhashed}"


def test_the_runtime_lock_is_the_dev_lock_without_the_dev_tools():
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    assert set(runtime) <= set(dev)
    assert {name: v for name, (v, _) in runtime.items()} == {name: dev[name][0] for name in runtime}, (
        "the image and CI must run the same versions")
    assert "pytest" in dev and "pytest" not in runtime


def test_ci_and_the_image_install_from_the_locks():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"pip install .*--require-hashes -r requirements-dev\.lock", ci)
    assert re.search(r"pip install .*--no-deps -e \.", ci)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install --require-hashes -r requirements\.lock", dockerfile)
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert "!requirements.lock" in dockerignore
