"""Sentence and quotation boundaries with character offsets into the article text.

A cheap rule-based splitter (abbreviations, initials, quotes, paragraphs) instead of the parser,
so that only candidate sentences ever reach spaCy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.enricher.lexicons import words

#: Tokens after which a full stop does not end a sentence.
ABBREVIATIONS = words("abbreviations")
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
#: "KYIV, Jan 8 (Wire) — ", "WASHINGTON (Reuters) - ": a place and agency, not part of the first sentence.
_DATELINE = re.compile(
    r"[A-Z][A-Z .,'’/-]{1,40}?(?:,\s*[A-Z][A-Za-z]{2,9}\.?(?:\s+\d{1,2})?)?\s*(?:\([^()\n]{1,60}\))?\s*[—–-]{1,2}\s+"
)
#: Live-blog entry stamps at the start of any paragraph: "11:10 — ", "09:05 GMT: ", "2.15pm - ".
_TIMESTAMP = re.compile(r"\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*(?:[A-Z]{2,4}\s*)?(?:[—–-]{1,2}|:)\s+", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,300}>")
_OPEN_QUOTES = "“"
_CLOSE_QUOTES = "”"


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    paragraph: int
    text: str


def mask_markup(text: str) -> str:
    """Blank out HTML tags left by extraction, keeping every offset valid."""
    if "<" not in text:
        return text
    return _TAG.sub(lambda m: " " * len(m.group(0)), text)


def _ends_with_abbreviation(chunk: str) -> bool:
    word = re.search(r"([A-Za-z.]+)[.!?]*[\"'”’)\]]*$", chunk)
    if not word:
        return False
    token = word.group(1).rstrip(".").lower()
    if len(token) == 1:  # an initial: "Donald J. Trump"
        return True
    return token in ABBREVIATIONS


def split_sentences(text: str, max_chars: int = 1000) -> list[Sentence]:
    """Sentences in order; each stays inside one paragraph. Over-long runs are cut at ``max_chars``."""
    out: list[Sentence] = []
    para_start = 0
    paragraphs: list[tuple[int, int]] = []
    for m in _PARAGRAPH.finditer(text):
        paragraphs.append((para_start, m.start()))
        para_start = m.end()
    paragraphs.append((para_start, len(text)))
    for p_index, (p_start, p_end) in enumerate(paragraphs):
        start = p_start
        dateline = _DATELINE.match(text, p_start, p_end)
        if dateline and p_index < 2:
            start = dateline.end()
        stamp = _TIMESTAMP.match(text, start, p_end)
        if stamp:
            start = stamp.end()
        for m in _BOUNDARY.finditer(text, p_start, p_end):
            if _ends_with_abbreviation(text[start : m.end()]):
                continue
            _emit(out, text, start, m.end(), p_index, max_chars)
            start = m.end()
        _emit(out, text, start, p_end, p_index, max_chars)
    return out


def _emit(out: list[Sentence], text: str, start: int, end: int, paragraph: int, max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:  # no punctuation: bound the work, never one giant "sentence"
        cut = text.rfind(" ", start, start + max_chars)
        cut = cut if cut > start else start + max_chars
        out.append(Sentence(len(out), start, cut, paragraph, text[start:cut]))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append(Sentence(len(out), start, end, paragraph, text[start:end]))


def quote_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each quotation (curly quotes, or straight quotes paired per paragraph)."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        seg, base = para.group(0), para.start()
        opened: int | None = None
        for i, ch in enumerate(seg):
            if ch in _OPEN_QUOTES or (ch == '"' and opened is None):
                if opened is None:
                    opened = i
            elif (ch in _CLOSE_QUOTES or ch == '"') and opened is not None:
                spans.append((base + opened, base + i + 1))
                opened = None
    return spans


def inside(spans: list[tuple[int, int]], pos: int) -> tuple[int, int] | None:
    for s, e in spans:
        if s <= pos < e:
            return (s, e)
    return None
