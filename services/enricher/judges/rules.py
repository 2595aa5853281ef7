"""The hand-written rules as a judge: the polarity the rule paths read from the parsed clause.

The paths themselves (the governing-verb walk in ``stance.judge``, the possessed stance noun of
``nominal.possessor_stance``, the yes/no answer after a question, the rhetorical-question flip) run while the
extractor attributes the clause, because they read the same parse; this judge turns their reading into a
verdict. Its probability per path comes from ``PATH_PROBABILITY``.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.enricher import RULES_VERSION
from services.enricher.judges.base import Query, Verdict

#: How often each rule path was right on the development sets (see README, "Evaluation"), by
#: (path, explicit): an attitude word that decided it is surer than the cue's own meaning.
PATH_PROBABILITY: dict[tuple[str, bool], float] = {
    ("clause", True): 0.75,
    ("clause", False): 0.65,
    ("answer", True): 0.75,
    ("rhetorical", True): 0.75,
    ("rhetorical", False): 0.65,
    ("possessor", True): 0.7,
    ("possessor", False): 0.7,
}
UNDECIDED_PROBABILITY = 0.6


class RuleJudge:
    """Today's rules (``RULES_VERSION``) behind the judge seam."""

    id = f"rules-{RULES_VERSION}"

    def judge(self, queries: Sequence[Query]) -> list[Verdict]:
        out = []
        for q in queries:
            r = q.rules
            if r is None or r.stance is None:
                out.append(Verdict(None, 0.0, self.id, ("rules: no stance read",)))
                continue
            if r.stance == "undecided":
                p = UNDECIDED_PROBABILITY
            else:
                p = PATH_PROBABILITY.get((r.path, r.explicit), 0.65)
            out.append(Verdict(r.stance, p, self.id, (f"rules:{r.path}", "explicit" if r.explicit else "cue")))
        return out
