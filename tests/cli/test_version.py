"""``stancewatch --version``: the package version and the judge versions, without loading a model."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from services.enricher import RULES_VERSION
from services.enricher.judges.combined import VERSION as COMBINED_VERSION
from tests.support import ROOT, clean_env, stancewatch


async def test_version_names_the_package_and_the_judge_versions() -> None:
    done = await stancewatch("--version")
    assert done.status == 0, done.err
    judges = f"judges rules-{RULES_VERSION}, combined-{COMBINED_VERSION}"
    assert done.out.strip() == f"stancewatch {metadata.version('stancewatch')} ({judges})"


def test_version_loads_neither_a_model_nor_the_nlp_stack() -> None:
    probe = (
        "import sys; from services.cli import main; main(['--version']); "
        "heavy = [m for m in ('numpy', 'onnxruntime', 'spacy', 'tokenizers') if m in sys.modules]; "
        "sys.exit(f'loaded {heavy}' if heavy else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


async def test_the_usage_lists_every_command_and_the_version_flag() -> None:
    done = await stancewatch("--help")
    assert done.status == 0
    assert "--version" in done.out
    for command in ("healthcheck", "alerter", "topics"):
        assert f"  {command} " in done.out
