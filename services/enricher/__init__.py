"""The enricher: who said what about which topic, with the sentence that shows it.

Stages, one module each: ``watchlist`` (configuration) -> ``candidates`` (cheap multi-pattern pass)
-> ``sentences`` (split, quotes) -> ``mentions`` (names, titles, pronouns) -> ``attribution``
(whose clause is it) -> ``stance`` (polarity, negation, hedging, past vs current) -> ``extract``
(the pure ``enrich(article)``, which runs ``cues``, ``holders``/``participants``, ``polarity`` and
``aggregation`` over one per-article ``context``) -> ``__main__`` (the Kafka service). The rules'
word lists and phrase tables are data in ``lexicons/*.yaml``, read by id through
``services.enricher.lexicons``.
"""

#: Bumped whenever a rule or lexicon changes the output, so replays can be compared.
RULES_VERSION = "r11"
