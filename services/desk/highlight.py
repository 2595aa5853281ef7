"""The quote inside its sentence: HTML-escaped evidence with the quoted words marked."""

from __future__ import annotations

import html
import re

#: A quoted span: typographic double quotes, straight double quotes, guillemets.
_QUOTE = re.compile(r"“[^”]{1,2000}”|\"[^\"]{1,2000}\"|«[^»]{1,2000}»")


def quote_spans(sentence: str) -> list[tuple[int, int]]:
    """Where the quotes are in ``sentence`` ([start, end), quote marks included)."""
    return [m.span() for m in _QUOTE.finditer(sentence)]


def highlight(sentence: str) -> str:
    """Escaped HTML of ``sentence`` with each quote in ``<mark>``; with no quote the whole sentence is the claim."""
    spans = quote_spans(sentence)
    if not spans:
        return f'<mark class="claim">{html.escape(sentence)}</mark>'
    out, last = [], 0
    for start, end in spans:
        out.append(html.escape(sentence[last:start]))
        out.append(f"<mark>{html.escape(sentence[start:end])}</mark>")
        last = end
    out.append(html.escape(sentence[last:]))
    return "".join(out)
