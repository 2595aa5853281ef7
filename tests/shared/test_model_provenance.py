"""The installed spaCy model is checked, file by file, against the checked-in manifest of the locked wheel.

The tampering cases work on a copy of the installed package, changed one way each; the derivation cases
build a wheel from the installed files, as pip would have unpacked it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.model_provenance import (
    DEFAULT_PACKAGE,
    ProvenanceError,
    check_installed,
    compare,
    load_manifest,
    locked_hashes,
    manifest_from_wheel,
    package_dir,
)
from tests.support import ROOT, clean_env

MANIFEST = load_manifest(DEFAULT_PACKAGE)
DATA = f"{MANIFEST.package}-{MANIFEST.version}"


@pytest.fixture(scope="module")
def installed() -> Path:
    return package_dir(MANIFEST.package)


def test_the_installed_model_matches_its_manifest(installed: Path) -> None:
    assert check_installed(MANIFEST) == []
    assert MANIFEST.files and f"{DATA}/tok2vec/model" in MANIFEST.files and "__init__.py" in MANIFEST.files


def test_the_check_run_by_make_install_reports_success_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared.model_provenance"], cwd=ROOT, env=clean_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(MANIFEST.files)} files match" in done.stdout


def test_the_manifest_comes_from_the_wheel_the_runtime_lock_pins() -> None:
    assert MANIFEST.wheel["sha256"] in locked_hashes(ROOT / "requirements.lock", MANIFEST.distribution)
    assert MANIFEST.wheel["filename"].startswith(f"{MANIFEST.package}-{MANIFEST.version}-")


def flip_a_byte(root: Path) -> None:
    path = root / DATA / "tok2vec" / "model"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def edit_meta_version(root: Path) -> None:
    meta = json.loads((root / "meta.json").read_text())
    (root / "meta.json").write_text(json.dumps(meta | {"version": "3.8.1"}))


def add_code(root: Path) -> None:
    init = root / "__init__.py"
    init.write_text(init.read_text() + "\nimport os  # changed\n")


TAMPERING: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "one byte of the weights changed": (flip_a_byte, [f"file {DATA}/tok2vec/model: sha256"]),
    "a file dropped": (lambda root: (root / DATA / "ner" / "moves").unlink(), [f"missing file {DATA}/ner/moves"]),
    "a file added": (
        lambda root: (root / DATA / "ner" / "extra.bin").write_bytes(b"\0"),
        [f"unexpected file {DATA}/ner/extra.bin"],
    ),
    "the version in meta.json edited": (edit_meta_version, ["meta.json version is '3.8.1'", "file meta.json: sha256"]),
    "the package's code edited": (add_code, ["file __init__.py: sha256"]),
}


@pytest.mark.parametrize("change", TAMPERING.values(), ids=TAMPERING.keys())
def test_a_changed_copy_is_reported_naming_what_changed(
    installed: Path, tmp_path: Path, change: tuple[Callable[[Path], None], list[str]]
) -> None:
    copy = tmp_path / MANIFEST.package
    shutil.copytree(installed, copy)
    assert check_installed(MANIFEST, copy) == []
    tamper, expected = change
    tamper(copy)
    problems = check_installed(MANIFEST, copy)
    for start in expected:
        assert any(p.startswith(start) for p in problems), problems
    assert len(problems) == len(expected), problems


def test_byte_code_next_to_the_package_is_not_a_difference(installed: Path, tmp_path: Path) -> None:
    copy = tmp_path / MANIFEST.package
    shutil.copytree(installed, copy)
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"compiled")
    assert check_installed(MANIFEST, copy) == []


def test_another_distribution_version_or_an_incompatible_spacy_is_reported() -> None:
    meta = dict(MANIFEST.meta)
    assert compare(MANIFEST, MANIFEST.files, meta, MANIFEST.version, "3.8.7") == []
    assert compare(MANIFEST, MANIFEST.files, meta, "3.7.1", "3.8.7") == [
        f"distribution {MANIFEST.distribution} is '3.7.1', expected '{MANIFEST.version}'"
    ]
    [problem] = compare(MANIFEST, MANIFEST.files, meta, MANIFEST.version, "3.9.0")
    assert problem.startswith("installed spaCy 3.9.0 is outside the model's spacy_version")


def test_a_model_without_a_manifest_is_refused_with_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared.model_provenance", "--package", "en_core_web_sm"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "no manifest for 'en_core_web_sm'" in done.stderr


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(installed: Path, directory: Path, corrupt_record: bool = False) -> Path:
    """A wheel of the installed package's files with a RECORD, named as the PyPI wheel is."""
    wheel = directory / MANIFEST.wheel["filename"]
    dist_info = f"{MANIFEST.package}-{MANIFEST.version}.dist-info"
    records = []
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in sorted(p for p in installed.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            name = f"{MANIFEST.package}/{path.relative_to(installed).as_posix()}"
            archive.write(path, name)
            records.append(record_line(name, path.read_bytes() + (b"x" if corrupt_record else b"")))
        archive.writestr(f"{dist_info}/METADATA", f"Name: {MANIFEST.package}\nVersion: {MANIFEST.version}\n")
        archive.writestr(f"{dist_info}/RECORD", "\n".join([*records, f"{dist_info}/RECORD,,"]) + "\n")
    return wheel


def lock_pinning(wheel: Path, directory: Path) -> Path:
    lock = directory / "requirements.lock"
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock.write_text(f"other==1.0 \\\n    --hash=sha256:{'0' * 64}\n{MANIFEST.distribution}==3.8.0 \\\n")
    lock.write_text(lock.read_text() + f"    --hash=sha256:{sha}\n    # via stancewatch (pyproject.toml)\n")
    return lock


def test_a_manifest_derived_from_a_pinned_wheel_of_these_files_is_the_checked_in_one(
    installed: Path, tmp_path: Path
) -> None:
    wheel = build_wheel(installed, tmp_path)
    derived = manifest_from_wheel(wheel, lock_pinning(wheel, tmp_path))
    assert (derived.package, derived.distribution, derived.version) == (
        MANIFEST.package,
        MANIFEST.distribution,
        MANIFEST.version,
    )
    assert derived.files == MANIFEST.files and derived.meta == MANIFEST.meta


def test_a_wheel_the_lock_does_not_pin_is_refused(installed: Path, tmp_path: Path) -> None:
    wheel = build_wheel(installed, tmp_path)
    with pytest.raises(ProvenanceError, match=r"is not a hash requirements\.lock pins"):
        manifest_from_wheel(wheel, ROOT / "requirements.lock")


def test_a_wheel_whose_record_disagrees_with_its_files_is_refused(installed: Path, tmp_path: Path) -> None:
    wheel = build_wheel(installed, tmp_path, corrupt_record=True)
    with pytest.raises(ProvenanceError, match="does not match the wheel's RECORD"):
        manifest_from_wheel(wheel, lock_pinning(wheel, tmp_path))


def test_a_lock_line_pinning_a_wheel_by_url_is_read_by_its_name(tmp_path: Path) -> None:
    lock = tmp_path / "official.txt"
    url = "https://example.org/en_core_web_sm-3.8.0-py3-none-any.whl"
    lock.write_text(f"en_core_web_sm @ {url} --hash=sha256:{'ab' * 32}\nother==1 --hash=sha256:{'cd' * 32}\n")
    assert locked_hashes(lock, "en-core-web-sm") == {"ab" * 32}
