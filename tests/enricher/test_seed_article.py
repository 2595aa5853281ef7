"""The seed article: Trump backs away from Tomahawks and from winning back land; the summit is off."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.enricher.conftest import article

# The article the project started from, carried in the repository (data/seed/).
SEED = Path(__file__).resolve().parents[2] / "data" / "seed" / "000_dbee41912bf1d351.txt"


@pytest.fixture(scope="module")
def seed_observations(enricher):
    if not SEED.exists():
        pytest.fail(f"seed article missing: {SEED}")
    result = enricher.enrich(article(SEED.read_text(encoding="utf-8"), published=datetime(2025, 10, 24, tzinfo=UTC)))
    return {(o.actor, o.topic): o for o in result.observations}


def test_seed_tomahawks_is_oppose_with_past_support(seed_observations):
    obs = seed_observations[("trump", "tomahawks")]
    assert obs.stance == "oppose"
    assert obs.past is not None and obs.past.stance == "support"
    assert any("rather have them not need" in e.text for e in obs.evidence)


def test_seed_territory_is_oppose_with_past_support(seed_observations):
    obs = seed_observations[("trump", "ukraine-territory")]
    assert obs.stance == "oppose"
    assert obs.past is not None and obs.past.stance == "support"
    assert any("battle line" in e.text for e in obs.evidence)


def test_seed_putin_summit_is_oppose(seed_observations):
    assert seed_observations[("trump", "putin-summit")].stance == "oppose"


def test_seed_moscow_is_not_putin(seed_observations):
    assert ("putin", "ukraine-nato") not in seed_observations
