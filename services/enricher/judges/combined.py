"""Rules and model together: the model decides polarity; a strong disagreement with the rules abstains.

The rules are good at *who* and *when* (they ran before the judge) and poor at open vocabulary; the model is
the reverse. So the model's label is the verdict, except when the rules read the opposite polarity and the
model is not sure enough to overrule them (``overrule``): then nobody is trusted and the judge abstains.
A topic with no words for what "support" means (a user's quick watchlist entry) gives the model nothing to
read polarity against, so there the rules decide alone. So do reported earlier views ("Trump, who once said
Ukraine could win back its land, now says …"): the model was trained on the stance a sentence gives now,
and reads the whole sentence, so only the rules can read the earlier clause on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.enricher.judges.base import Query, StanceJudge, Verdict

OPPOSITE = {"support": "oppose", "oppose": "support"}
#: Bumped whenever the way the two are combined changes, so a blind score names what it measured.
VERSION = "c2"


class CombinedJudge:
    def __init__(self, model: StanceJudge, rules: StanceJudge, *, overrule: float = 0.9) -> None:
        self.model = model
        self.rules = rules
        self.overrule = overrule
        self.id = f"combined-{VERSION}-{model.id}+{rules.id}"

    def judge(self, queries: Sequence[Query]) -> list[Verdict]:
        out = []
        read = [n for n, q in enumerate(queries) if q.topic_support.strip() and not q.past]
        model = dict(zip(read, self.model.judge([queries[n] for n in read]), strict=True))
        for n, r in enumerate(self.rules.judge(queries)):
            if n not in model:
                why = "an earlier view" if queries[n].past else "topic has no definition"
                out.append(Verdict(r.stance, r.probability, self.id, (*r.reasons, why)))
                continue
            m = model[n]
            reasons = (*m.reasons, *r.reasons)
            if m.stance is not None and r.stance == OPPOSITE.get(m.stance) and m.probability < self.overrule:
                out.append(Verdict(None, m.probability, self.id, (*reasons, "rules and model disagree")))
            else:
                out.append(Verdict(m.stance, m.probability, self.id, reasons))
        return out
