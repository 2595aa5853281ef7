"""The labelled sentence sets named in ``data/manifest.yaml``: read, validated, label fixes applied."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from services.enricher.judges.pairs import LABELS

REQUIRED = ("id", "context", "sentence", "actor", "topic", "label")


class CorpusError(ValueError):
    """A labelled line that cannot be used: names the file, the line and the reason."""


def read_sentences(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{n}: not JSON: {exc}") from exc
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise CorpusError(f"{path}:{n}: missing {', '.join(missing)}")
        if row["label"] not in LABELS:
            raise CorpusError(f"{path}:{n}: label {row['label']!r} is not one of {', '.join(LABELS)}")
        row["context"] = row["context"] or ""
        rows.append(row)
    return rows


def manifest(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / "data" / "manifest.yaml").read_text(encoding="utf-8"))


def _fixes(root: Path) -> dict[str, str]:
    path = root / "data" / "corpus" / "fixes.yaml"
    return {f["id"]: f["label"] for f in yaml.safe_load(path.read_text(encoding="utf-8")) or []}


def training_rows(root: Path) -> list[dict[str, Any]]:
    """Every sentence-level line of the sets the manifest marks ``use: training``, fixes applied."""
    fixes = _fixes(root)
    rows: list[dict[str, Any]] = []
    for entry in manifest(root)["sets"]:
        if entry["use"] != "training" or entry["level"] != "sentence":
            continue
        for path in entry["files"]:
            for row in read_sentences(root / path):
                row["label"] = fixes.get(row["id"], row["label"])
                rows.append(row)
    return rows


def in_dev_split(sentence: str, percent: int) -> bool:
    """The training corpus's development split: by sentence, so one sentence never sits on both sides."""
    return int(hashlib.sha256(sentence.encode()).hexdigest()[:8], 16) % 100 < percent


def split_rows(root: Path, percent: int) -> list[dict[str, Any]]:
    """The lines of the training sets that training holds out (``--dev-percent``)."""
    return [r for r in training_rows(root) if in_dev_split(r["sentence"], percent)]
