"""The rules' vocabularies are data (services/enricher/lexicons/*.yaml): each list has an id, a why and examples,
the examples show what the list does, and a broken file is refused with the file and the entry named."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from services.enricher.errors import LexiconError
from services.enricher.extract import Enricher
from services.enricher.lexicons import ID_PATTERN, SHIPPED, Lexicons, load_lexicons, parse_lexicon_file, shipped_files
from services.enricher.mentions import PRONOUN
from services.enricher.stance import CURRENT_MARKERS, MONTH, PAST_MARKERS
from tests.enricher.conftest import enrich

ROOT = Path(__file__).resolve().parents[2]
LEXICON_DIR = ROOT / "services" / "enricher" / "lexicons"
SIGNED = [(lex.id, example) for lex in SHIPPED if lex.sign for example in lex.examples]
STANCE_OF_SIGN = {1: "support", -1: "oppose"}

GOOD = """version: 1
lexicons:
  - id: calm-words
    why: Words that keep things calm.
    examples: ["The envoy stayed calm."]
    words: [calm, quiet]
"""


def _with(entry: str) -> str:
    """A valid file with one more entry appended."""
    return GOOD + entry


def _refusal(text: str, origin: str = "demo.yaml") -> str:
    with pytest.raises(LexiconError) as caught:
        parse_lexicon_file(text, origin)
    return str(caught.value)


# -- the shipped lexicons ---------------------------------------------------------------------------------------


def test_every_lexicon_entry_has_an_id_a_one_line_why_and_an_example():
    entries = list(SHIPPED)
    assert len(entries) >= 70
    for lex in entries:
        assert re.match(ID_PATTERN, lex.id), lex.id
        assert lex.why.strip() and "\n" not in lex.why, lex.id
        assert lex.examples and all(e.strip() for e in lex.examples), lex.id
        assert lex.vocabulary, lex.id


def test_every_lexicon_file_is_a_package_file_that_ships():
    names = [name for name, _ in shipped_files()]
    assert names == sorted(p.name for p in LEXICON_DIR.glob("*.yaml"))
    assert (LEXICON_DIR / "__init__.py").exists()  # a package, so package-data takes its YAML along
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "*.yaml" in package_data["*"]
    assert {lex.file for lex in SHIPPED} == set(names)


def test_every_lexicon_id_is_asked_for_by_the_rules():
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "services" / "enricher").rglob("*.py"))
    unused = [lex.id for lex in SHIPPED if f'"{lex.id}"' not in code and f"'{lex.id}'" not in code]
    assert unused == []


def _shows(example: str, vocabulary: tuple[str, ...], lemmas: set[str]) -> bool:
    low = example.lower()
    for w in vocabulary:
        if re.search(r"(?<![a-z])" + r"\s+".join(map(re.escape, w.split())) + r"(?![a-z])", low):
            return True
        if all(part in lemmas for part in w.split()):  # "backs" for "back", "make the case" for "make case"
            return True
    return False


@pytest.mark.parametrize("lexicon_id", [lex.id for lex in SHIPPED])
def test_every_example_sentence_shows_a_word_of_its_own_list(enricher: Enricher, lexicon_id: str):
    lex = SHIPPED.get(lexicon_id)
    for example in lex.examples:
        doc = enricher.nlp(example)
        lemmas = {t.lemma_.lower() for t in doc} | {t.lower_ for t in doc}
        assert _shows(example, lex.vocabulary, lemmas), f"{lex.file}: {lex.id}: {example!r} shows none of its words"


@pytest.mark.parametrize(("lexicon_id", "example"), SIGNED)
def test_each_example_sentence_of_a_signed_entry_is_judged_with_that_entrys_sign(
    enricher: Enricher, lexicon_id: str, example: str
):
    expected = STANCE_OF_SIGN[SHIPPED.get(lexicon_id).sign]
    observations = enrich(enricher, example).observations
    assert observations, f"{lexicon_id}: no stance read in {example!r}"
    assert {o.stance for o in observations} == {expected}, f"{lexicon_id}: {example!r}"


def test_every_signed_list_has_an_example_of_its_sign():
    signed = {lex.id for lex in SHIPPED if lex.sign}
    assert {"support-words", "oppose-words", "phrasal-support", "phrasal-oppose"} <= signed
    assert {lexicon_id for lexicon_id, _ in SIGNED} == signed


def test_the_time_and_pronoun_patterns_match_every_phrase_of_their_lists():
    for phrase in SHIPPED.ordered("past-markers"):
        assert PAST_MARKERS.search(f"he said {phrase.replace(' ', '  ')} that"), phrase
    for period in SHIPPED.ordered("last-periods"):
        assert PAST_MARKERS.search(f"Last {period} he said so"), period
    for opening in SHIPPED.ordered("period-openings"):
        for period in SHIPPED.ordered("opened-periods"):
            assert PAST_MARKERS.search(f"since the {opening} of this {period}"), (opening, period)
    for phrase in SHIPPED.ordered("current-markers"):
        assert CURRENT_MARKERS.search(f"she {phrase} says"), phrase
    for prep in SHIPPED.ordered("month-preps"):
        assert MONTH.search(f"said {prep} March 3 that").group(1) == "March", prep  # type: ignore[union-attr]
    for pronoun in SHIPPED.ordered("pronouns"):
        assert PRONOUN.search(f"then {pronoun.upper()} said"), pronoun
    assert not PAST_MARKERS.search("the oncoming talks") and not PRONOUN.search("himself")


# -- what the loader refuses ------------------------------------------------------------------------------------


def test_a_valid_file_loads_with_its_words_in_order():
    (lex,) = parse_lexicon_file(GOOD, "demo.yaml")
    assert (lex.id, lex.file, lex.words, lex.sign) == ("calm-words", "demo.yaml", ("calm", "quiet"), 0)


def test_a_duplicate_word_in_a_list_is_refused_with_the_file_and_id_named():
    message = _refusal(
        _with("""  - id: tense-words
    why: Words of tension.
    examples: ["The talks grew tense."]
    words: [tense, strained, tense]
""")
    )
    assert message.startswith("lexicons: demo.yaml: tense-words: words:")
    assert "duplicate word 'tense'" in message


def test_an_unknown_key_is_refused_with_the_file_and_id_named():
    message = _refusal(
        _with("""  - id: tense-words
    why: Words of tension.
    example: ["The talks grew tense."]
    words: [tense]
""")
    )
    assert message == "lexicons: demo.yaml: tense-words: unknown key 'example'"


def test_an_empty_list_is_refused_with_the_file_and_id_named():
    message = _refusal(
        _with("""  - id: tense-words
    why: Words of tension.
    examples: ["The talks grew tense."]
    words: []
""")
    )
    assert message.startswith("lexicons: demo.yaml: tense-words: words:")


def test_a_list_without_an_example_is_refused_with_the_file_and_id_named():
    message = _refusal(
        _with("""  - id: tense-words
    why: Words of tension.
    examples: []
    words: [tense]
""")
    )
    assert message.startswith("lexicons: demo.yaml: tense-words: examples:")


@pytest.mark.parametrize("bad_id", ["Tense_Words", "tense words", "-tense", "tense--words", "9lives"])
def test_a_bad_id_is_refused_with_the_file_and_the_id_named(bad_id: str):
    message = _refusal(
        _with(f"""  - id: "{bad_id}"
    why: Words of tension.
    examples: ["The talks grew tense."]
    words: [tense]
""")
    )
    assert message.startswith(f"lexicons: demo.yaml: {bad_id}: id:")


def test_a_why_of_more_than_one_line_is_refused():
    message = _refusal(
        _with("""  - id: tense-words
    why: "Words of tension.\\nAnd more."
    examples: ["The talks grew tense."]
    words: [tense]
""")
    )
    assert message.startswith("lexicons: demo.yaml: tense-words: why:")


def test_a_word_that_is_not_a_lowercase_word_or_phrase_is_refused():
    message = _refusal(
        _with("""  - id: tense-words
    why: Words of tension.
    examples: ["The talks grew tense."]
    words: [tense, Strained, "two  spaces"]
""")
    )
    assert message.startswith("lexicons: demo.yaml: tense-words: words:")
    assert "'Strained'" in message and "'two  spaces'" in message


def test_a_repeated_key_is_refused_with_the_file_named():
    message = _refusal(
        _with("""  - id: tense-words
    why: Words of tension.
    why: Again.
    examples: ["The talks grew tense."]
    words: [tense]
""")
    )
    assert message.startswith("lexicons: demo.yaml is not valid YAML: repeated key 'why'")


def test_an_id_used_twice_in_one_file_is_refused():
    message = _refusal(GOOD + GOOD.split("lexicons:\n", 1)[1])
    assert message == "lexicons: demo.yaml: calm-words: the id is used twice"


def test_an_id_defined_in_two_files_is_refused_with_both_files_named():
    with pytest.raises(LexiconError) as caught:
        load_lexicons([("first.yaml", GOOD), ("second.yaml", GOOD)])
    assert str(caught.value) == "lexicons: second.yaml: calm-words: the id is already defined in first.yaml"


def test_a_table_of_values_must_hold_whole_numbers():
    message = _refusal(
        _with("""  - id: short-months
    why: Short month names.
    examples: ["They met on Feb. 4."]
    values: {feb: two}
""")
    )
    assert message.startswith("lexicons: demo.yaml: short-months: values.feb:")


def test_yaml_booleans_and_nulls_stay_words():
    (_, lex) = parse_lexicon_file(
        _with("""  - id: short-words
    why: Short words.
    examples: ["No, not on."]
    words: [no, on, off, yes, null]
"""),
        "demo.yaml",
    )
    assert lex.words == ("no", "on", "off", "yes", "null")


def test_a_word_listed_with_both_signs_is_refused_with_both_lists_named():
    lexicons = Lexicons(
        load_lexicons(
            [
                (
                    "signs.yaml",
                    """lexicons:
  - id: warm-words
    why: Warm words.
    sign: support
    examples: ["She welcomed the plan."]
    words: [welcome, cool]
  - id: cold-words
    why: Cold words.
    sign: oppose
    examples: ["She was cool on the plan."]
    words: [cool]
""",
                )
            ]
        )
    )
    assert lexicons.signs("warm-words") == {"welcome": 1, "cool": 1}
    with pytest.raises(LexiconError, match=r"signs\.yaml: cold-words: 'cool' is also in warm-words"):
        lexicons.signs("warm-words", "cold-words")


def test_an_id_no_file_defines_is_an_error_naming_it():
    with pytest.raises(LexiconError, match="no lexicon 'no-such-list'"):
        SHIPPED.words("no-such-list")
    with pytest.raises(LexiconError, match="month-abbreviations: is a table of values"):
        SHIPPED.words("month-abbreviations")
