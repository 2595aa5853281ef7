"""Repeated warnings and errors become one line per interval with a count; nothing else is held back."""

from __future__ import annotations

import logging

from shared.observability import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, level: int = logging.ERROR, *args: object) -> logging.LogRecord:
    return logging.LogRecord("stancewatch.bus", level, __file__, 1, msg, args, None)


def test_a_storm_of_one_error_is_one_line_per_interval_and_the_next_line_counts_the_rest() -> None:
    clock = Clock()
    f = RepeatFilter(interval_s=10, clock=clock)
    passed = [f.filter(record("fetch failed from %s", logging.ERROR, f"node {n}")) for n in range(1000)]
    assert passed.count(True) == 1
    clock.now = 10.5
    later = record("fetch failed from %s", logging.ERROR, "node 1")
    assert f.filter(later)
    assert later.getMessage() == "fetch failed from node 1 (and 999 more like it in the last 10s)"


def test_info_lines_and_different_errors_are_not_held_back() -> None:
    f = RepeatFilter(interval_s=10, clock=Clock())
    assert all(f.filter(record("consumed batch", logging.INFO)) for _ in range(50))
    assert f.filter(record("first failure")) and f.filter(record("second failure"))
    assert f.filter(record("first failure", logging.WARNING))  # another level is another line
