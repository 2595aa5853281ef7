"""How a (figure, topic, sentence in context) query is written for the cross-encoder.

One function, used by training and at run time, so the model always reads the same format: the
figure and the topic with its definition of "support" as the first segment; the sentence, then its
context, as the second (truncation cuts the context first).
"""

from __future__ import annotations

LABELS = ("support", "oppose", "undecided", "none")


def first_segment(figure_name: str, topic_label: str, topic_support: str) -> str:
    support = f" Support: {topic_support}" if topic_support else ""
    return f"{figure_name}. {topic_label}.{support}"


def second_segment(sentence: str, context: str) -> str:
    return f"{sentence} [SEP] {context}" if context else sentence
