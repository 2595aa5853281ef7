"""Stance judges behind one seam (``base.StanceJudge``), and the factory that picks one by name."""

from __future__ import annotations

from services.enricher.judges.base import Query, RuleReading, StanceJudge, Verdict

#: ``combined`` is the current combined version; ``combined-c4`` the one before it (no carried holders).
JUDGES = ("rules", "model", "combined", "combined-c4")

__all__ = ["JUDGES", "Query", "RuleReading", "StanceJudge", "Verdict", "make_judge"]


def make_judge(name: str, *, min_probability: float = 0.5, int8: bool = True) -> StanceJudge:
    """``rules`` (hand-written, r11), ``model`` (fine-tuned encoder), ``combined`` (c5) or ``combined-c4``."""
    from services.enricher.judges.rules import RuleJudge

    if name == "rules":
        return RuleJudge()
    from services.enricher.judges.model import ModelJudge

    model = ModelJudge(min_probability=min_probability, int8=int8)
    if name == "model":
        return model
    if name in ("combined", "combined-c4"):
        from services.enricher.judges.combined import VERSION, CombinedJudge

        return CombinedJudge(model, RuleJudge(), version="c4" if name == "combined-c4" else VERSION)
    raise ValueError(f"judge: unknown judge {name!r} (one of {', '.join(JUDGES)})")
