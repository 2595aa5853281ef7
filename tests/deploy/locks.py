"""Reading the hashed pip locks and pyproject.toml's dependencies, for the supply-chain tests."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT

RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
#: What the locks are written for (the Makefile's `make lock`): CPython 3.11 on x86_64 Linux.
TARGET = default_environment() | {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
#: uv's annotation for a pin that pyproject.toml asks for directly.
DIRECT = "stancewatch (pyproject.toml)"


@dataclass
class Pin:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def read_lock(path: Path) -> dict[str, Pin]:
    """``name==version \\`` lines, their ``--hash=sha256:`` lines and ``# via`` annotations, by canonical name."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if line and not line[0].isspace() and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?", line)
            assert match, f"{path.name}: not an exact pin: {line!r}"
            current = pins.setdefault(canonicalize_name(match[1]), Pin(match[1], match[2]))
        elif current is not None and stripped.startswith("--hash="):
            current.hashes += re.findall(r"--hash=sha256:([0-9a-f]{64})", stripped)
        elif current is not None and stripped.startswith("#"):
            via = stripped.lstrip("#").strip().removeprefix("via").strip()
            if via:
                current.via.append(via)
    return pins


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements(*extras: str) -> list[Requirement]:
    """The project's requirements for the lock's target: the runtime ones plus those of ``extras``."""
    project = pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    wanted = [Requirement(line) for line in lines]
    return [r for r in wanted if r.marker is None or r.marker.evaluate(TARGET | {"extra": ",".join(extras)})]
