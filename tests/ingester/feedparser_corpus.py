"""feedparser's own test feeds, fetched once from its source distribution on the package index.

They are not ours to commit (BSD-licensed, about 2,100 files), so the test set-up downloads the sdist of
the feedparser version installed here (``pip download --no-binary :all:``) and unpacks its feed folders
into ``.cache/``. Later runs reuse the cache; a machine without the index gets a clear failure.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: The folders of feedparser's ``tests/`` that hold feeds (the rest are Python or HTTP fixtures).
FOLDERS = ("wellformed", "illformed", "encoding", "entities")


class CorpusUnavailable(RuntimeError):
    """The feed corpus could not be fetched; the message says what to run by hand."""


def feedparser_corpus(cache: Path = REPO / ".cache") -> Path:
    """The unpacked feed folders for the installed feedparser, downloading them if needed."""
    version = importlib.metadata.version("feedparser")
    root = cache / f"feedparser-{version}-tests"
    if (root / ".complete").exists():
        return root
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps"]
        cmd += ["-d", tmp, f"feedparser=={version}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        sdists = sorted(Path(tmp).glob("feedparser-*.tar.gz"))
        if done.returncode != 0 or not sdists:
            raise CorpusUnavailable(f"feed corpus: `{' '.join(cmd)}` failed: {done.stderr.strip()[-500:]}")
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdists[0]) as sdist:
            for member in sdist.getmembers():
                parts = Path(member.name).parts
                if len(parts) > 3 and parts[1] == "tests" and parts[2] in FOLDERS and member.isfile():
                    member.name = str(Path(*parts[2:]))
                    sdist.extract(member, root, filter="data")
    (root / ".complete").write_text(version + "\n", encoding="utf-8")
    return root
