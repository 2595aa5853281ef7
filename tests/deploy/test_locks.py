"""The hashed locks agree with pyproject.toml and with each other; `make install` follows them.

No network: these read the files. A dependency added to (or removed from) pyproject.toml without
`make lock` fails here, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.deploy.locks import DEV_LOCK, DIRECT, RUNTIME_LOCK, read_lock, requirements
from tests.support import ROOT

RUN_MAKE_LOCK = "run `make lock` after editing dependencies in pyproject.toml"
LOCKS = {RUNTIME_LOCK.name: (RUNTIME_LOCK, ()), DEV_LOCK.name: (DEV_LOCK, ("dev",))}


@pytest.mark.parametrize("lock_name", LOCKS)
def test_every_dependency_pyproject_names_is_pinned_in_the_lock_at_a_version_it_allows(lock_name: str) -> None:
    path, extras = LOCKS[lock_name]
    pins = read_lock(path)
    missing = [str(r) for r in requirements(*extras) if canonicalize_name(r.name) not in pins]
    assert not missing, f"{lock_name} lacks {missing}: {RUN_MAKE_LOCK}"
    outside = [
        f"{r} (locked {pins[canonicalize_name(r.name)].version})"
        for r in requirements(*extras)
        if not r.specifier.contains(pins[canonicalize_name(r.name)].version, prereleases=True)
    ]
    assert not outside, f"{lock_name} pins versions pyproject.toml no longer allows: {outside}: {RUN_MAKE_LOCK}"


@pytest.mark.parametrize("lock_name", LOCKS)
def test_no_pin_is_kept_for_a_dependency_pyproject_no_longer_names(lock_name: str) -> None:
    path, extras = LOCKS[lock_name]
    named = {canonicalize_name(r.name) for r in requirements(*extras)}
    stale = [pin.name for key, pin in read_lock(path).items() if DIRECT in pin.via and key not in named]
    assert not stale, f"{lock_name} still pins {stale} for pyproject.toml: {RUN_MAKE_LOCK}"


def test_the_dev_lock_pins_every_runtime_package_at_the_same_version_and_hashes() -> None:
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    differ = [
        f"{pin.name}: {pin.version} vs {dev[key].version if key in dev else 'absent'}"
        for key, pin in runtime.items()
        if key not in dev or (dev[key].version, sorted(dev[key].hashes)) != (pin.version, sorted(pin.hashes))
    ]
    assert not differ, f"the dev lock differs from the runtime lock: {differ}: {RUN_MAKE_LOCK}"


@pytest.mark.parametrize("lock_name", LOCKS)
def test_every_pin_carries_sha256_hashes(lock_name: str) -> None:
    pins = read_lock(LOCKS[lock_name][0])
    assert pins
    assert not [pin.name for pin in pins.values() if not pin.hashes]


def test_the_training_extra_stays_out_of_both_locks() -> None:
    shipped = {canonicalize_name(r.name) for r in requirements("dev")}
    training = {canonicalize_name(r.name) for r in requirements("train")} - shipped
    assert training
    for path, _ in LOCKS.values():
        assert not training & read_lock(path).keys(), path.name


def make_copy(tmp_path: Path) -> Path:
    """The Makefile with the files its install stamp may depend on, in a directory of its own."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in ("pyproject.toml", RUNTIME_LOCK.name, DEV_LOCK.name, "requirements-model.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".installed").write_text("")
    return tmp_path


def up_to_date(workdir: Path) -> bool:
    done = subprocess.run(["make", "-q", "install"], cwd=workdir, capture_output=True, text=True, timeout=30)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on PATH")
@pytest.mark.parametrize("lock_name", LOCKS)
def test_editing_a_lock_makes_the_install_out_of_date(tmp_path: Path, lock_name: str) -> None:
    workdir = make_copy(tmp_path)
    stamp = workdir / ".venv" / ".installed"
    os.utime(stamp, (stamp.stat().st_mtime + 10,) * 2)
    assert up_to_date(workdir)
    os.utime(workdir / lock_name, (stamp.stat().st_mtime + 10,) * 2)
    assert not up_to_date(workdir)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on PATH")
def test_make_install_installs_the_dev_lock_by_hash_then_the_project_without_dependencies(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-n", "-B", "install"], cwd=make_copy(tmp_path), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    installs = [line for line in done.stdout.splitlines() if " pip install " in line]
    assert "--require-hashes" in installs[0].split() and f"-r {DEV_LOCK.name}" in installs[0]
    assert {"--no-deps", "-e", "."} <= set(installs[1].split())
    assert all("--require-hashes" in line.split() or "--no-deps" in line.split() for line in installs)
