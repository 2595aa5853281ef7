"""The image: an exactly pinned base, dependencies from the runtime lock by hash, OCI labels, non-root.

There is no Docker engine on the test machine: these read the Dockerfile as Docker does (instructions,
line continuations, ARG defaults) and check what it would build from.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.deploy.locks import DEV_LOCK, RUNTIME_LOCK, pyproject
from tests.support import ROOT

LABELS = ("title", "description", "source", "licenses", "version", "revision", "created")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    lines, joined, pending = (ROOT / "Dockerfile").read_text().splitlines(), [], ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def args_before_from() -> dict[str, str]:
    defaults = {}
    for name, value in instructions():
        if name == "FROM":
            break
        if name == "ARG" and "=" in value:
            key, _, default = value.partition("=")
            defaults[key] = default.strip('"')
    return defaults


def base_images() -> list[str]:
    defaults = args_before_from()
    images = []
    for name, value in instructions():
        if name == "FROM":
            image = value.split()[0]
            images.append(re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), image))
    return images


def pip_installs() -> list[list[str]]:
    commands = []
    for name, value in instructions():
        if name == "RUN":
            for part in re.split(r"&&|;", value):
                words = shlex.split(part)
                if words[:2] == ["pip", "install"] or words[1:4] == ["-m", "pip", "install"]:
                    commands.append(words)
    return commands


def test_every_base_image_is_pinned_to_an_exact_python_patch_release() -> None:
    images = base_images()
    assert images
    for image in images:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image
        assert "latest" not in image


def test_the_base_matches_the_python_the_locks_are_made_for() -> None:
    """The locks target CPython 3.11 (`make lock`); the image's patch release is the one they are tested on."""
    assert re.search(r"--python-version 3\.11\b", (ROOT / "Makefile").read_text())
    for image in base_images():
        assert image.startswith("python:3.11."), image


def test_dependencies_come_from_the_runtime_lock_by_hash_and_wheels_only() -> None:
    from_lock = [w for w in pip_installs() if "-r" in w and w[w.index("-r") + 1] == RUNTIME_LOCK.name]
    assert len(from_lock) == 1, pip_installs()
    assert {"--require-hashes", "--only-binary"} <= set(from_lock[0])
    copied = " ".join(value for name, value in instructions() if name == "COPY")
    assert RUNTIME_LOCK.name in copied.split()
    assert DEV_LOCK.name not in copied


def test_nothing_is_installed_unhashed_and_the_project_adds_no_dependencies() -> None:
    installs = pip_installs()
    assert installs
    for words in installs:
        assert "--require-hashes" in words or "--no-deps" in words, words
    project = [words for words in installs if "." in words]
    assert project and all({"--no-deps", "--no-build-isolation"} <= set(words) for words in project)


def test_the_installed_model_is_checked_against_its_manifest_during_the_build() -> None:
    runs = " ".join(value for name, value in instructions() if name == "RUN")
    assert "python -m shared.model_provenance" in runs


def label_values() -> dict[str, str]:
    labels = {}
    for name, value in instructions():
        if name == "LABEL":
            for key, val in re.findall(r'(\S+?)=("[^"]*"|\S+)', value):
                labels[key] = val.strip('"')
    return labels


@pytest.mark.parametrize("label", LABELS)
def test_the_image_carries_the_oci_label(label: str) -> None:
    value = label_values().get(f"org.opencontainers.image.{label}")
    assert value, f"org.opencontainers.image.{label}"


def test_build_facts_come_from_build_args_with_the_project_version_by_default() -> None:
    labels = label_values()
    args = {v.partition("=")[0]: v.partition("=")[2] for n, v in instructions() if n == "ARG"}
    for label in ("version", "revision", "created", "source"):
        match = re.fullmatch(r"\$\{(\w+)\}", labels[f"org.opencontainers.image.{label}"])
        assert match and match[1] in args, label
    assert args["VERSION"] == pyproject()["project"]["version"]
    assert labels["org.opencontainers.image.licenses"] == pyproject()["project"]["license"]


def test_the_services_run_as_a_non_root_user() -> None:
    names = [name for name, _ in instructions()]
    assert "USER" in names
    last = len(names) - 1 - names[::-1].index("USER")
    assert instructions()[last][1].split(":")[0] not in ("root", "0")
    assert "RUN" not in names[last:], "nothing runs after the switch to the unprivileged user"
