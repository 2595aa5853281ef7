"""Rules and model together: the rules decide unless the model is sure, and the model fills their silences.

Measured on the development sets, each judge is good where the other is poor: the rules attribute
precisely (who holds the view, in which clause) but read open vocabulary badly ("would be reckless",
"can forget about"); the model reads polarity well (0.93 on the corpus split against 0.79) but, asked
about every figure in a sentence, it finds views that are not there. So:

* the rules read a stance, the model agrees or is unsure: the rules' stance (the model's probability when
  it agrees and is higher);
* the rules read a stance, the model reads the opposite with at least ``overrule``: the model's stance;
* the rules attributed the clause but read no stance: the model's stance if it reaches ``fill``.

Figures the rules did not attribute the clause to are not put to the model at all: on the development sets
asking about them (and keeping only verdicts of 0.95 and up) added nothing measurable and a third of the cost.

A topic with no words for what "support" means (a user's quick watchlist entry) gives the model nothing to
read polarity against, and a reported earlier view ("who once said …") is a clause the model, trained on
the stance a sentence gives now, cannot read on its own: there the rules decide alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.enricher.judges.base import Query, StanceJudge, Verdict

OPPOSITE = {"support": "oppose", "oppose": "support"}
#: Bumped whenever the way the two are combined changes, so a blind score names what it measured.
VERSION = "c5"
#: The versions that can still be chosen (``STANCEWATCH_JUDGE=combined-c4``): c4 has no carried holders.
VERSIONS = ("c4", "c5")
#: A stance only the model read is less certain than the model says: the rules did not confirm it.
UNCONFIRMED_PENALTY = 0.1
#: c5: a holder carried over from an earlier sentence counts only when the model reads a stance this sure.
CARRY_FLOOR = 0.7
#: ... or this sure when the rules' reading of the clause agrees; when it reads the opposite, never.
CARRY_AGREE_FLOOR = 0.5


class CombinedJudge:
    reads_open_holders = False

    def __init__(
        self,
        model: StanceJudge,
        rules: StanceJudge,
        *,
        overrule: float = 0.9,
        fill: float = 0.8,
        version: str = VERSION,
        carry: float = CARRY_FLOOR,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"judge: unknown combined version {version!r} (one of {', '.join(VERSIONS)})")
        self.model = model
        self.rules = rules
        self.overrule = overrule
        self.fill = fill
        self.carry = carry
        self.version = version
        #: c5 is asked about clauses whose holder the discourse stage carried over (``Query.rules.path``).
        self.reads_carried_holders = version != "c4"
        self.id = f"combined-{version}-{model.id}+{rules.id}"

    def judge(self, queries: Sequence[Query]) -> list[Verdict]:
        read = [n for n, q in enumerate(queries) if q.topic_support.strip() and not q.past]
        model = dict(zip(read, self.model.judge([queries[n] for n in read]), strict=True))
        rules = self.rules.judge(queries)
        return [self._decide(q, r, model.get(n)) for n, (q, r) in enumerate(zip(queries, rules, strict=True))]

    def _decide(self, q: Query, r: Verdict, m: Verdict | None) -> Verdict:
        if m is None and q.rules is not None and q.rules.path == "carried":
            return Verdict(None, r.probability, self.id, (*r.reasons, "carried holder: the model must confirm"))
        if m is None:
            why = "an earlier view: rules only" if q.past else "topic has no definition: rules only"
            return Verdict(r.stance, r.probability, self.id, (*r.reasons, why))
        reasons = (*r.reasons, *m.reasons)
        if q.rules is not None and q.rules.path == "carried":
            # The holder is only a candidate: the model must read that figure's stance in the sentence.
            floor = self.carry if r.stance is None else (CARRY_AGREE_FLOOR if m.stance == r.stance else 1.01)
            if m.stance is not None and m.probability >= floor:
                p = round(m.probability - UNCONFIRMED_PENALTY, 3)
                return Verdict(m.stance, p, self.id, (*reasons, "model reads the carried holder's stance"))
            return Verdict(None, m.probability, self.id, (*reasons, "carried holder not confirmed"))
        if r.stance is not None:
            if m.stance == OPPOSITE.get(r.stance) and m.probability >= self.overrule:
                return Verdict(m.stance, m.probability, self.id, (*reasons, "model overrules the rules"))
            if m.stance == r.stance:
                return Verdict(r.stance, max(r.probability, m.probability), self.id, (*reasons, "both agree"))
            return Verdict(r.stance, r.probability, self.id, (*reasons, "rules stand"))
        if m.stance is not None and m.probability >= self.fill:
            p = round(m.probability - UNCONFIRMED_PENALTY, 3)
            return Verdict(m.stance, p, self.id, (*reasons, "model fills a silence of the rules"))
        return Verdict(None, m.probability, self.id, (*reasons, "no stance either way"))
