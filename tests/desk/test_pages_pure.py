"""The pieces pages are made of: quotes marked in their sentence, safe links, redirects and export cells."""

from __future__ import annotations

import pytest

from services.desk.export import cell
from services.desk.highlight import highlight
from services.desk.render import safe_link
from services.desk.web import safe_return


@pytest.mark.parametrize(
    ("sentence", "html"),
    [
        ("She said “no bridge” twice.", "She said <mark>“no bridge”</mark> twice."),
        ('He said "yes" and "maybe".', "He said <mark>&quot;yes&quot;</mark> and <mark>&quot;maybe&quot;</mark>."),
        ("No quote <here>.", '<mark class="claim">No quote &lt;here&gt;.</mark>'),
        ("«Jamais» dit-elle.", "<mark>«Jamais»</mark> dit-elle."),
    ],
)
def test_the_quote_is_marked_inside_its_escaped_sentence(sentence: str, html: str) -> None:
    assert highlight(sentence) == html


def test_only_web_addresses_become_links() -> None:
    assert safe_link("javascript:alert(1)", "x") == "x"
    assert safe_link("https://a.example/?q=<b>", "<i>").startswith('<a href="https://a.example/?q=&lt;b&gt;"')


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/alerts?x=1", "/alerts?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil", "/"),
        (None, "/"),
        ("alerts", "/"),
    ],
)
def test_a_redirect_after_a_form_stays_on_this_site(target: str | None, safe: str) -> None:
    assert safe_return(target) == safe


@pytest.mark.parametrize(
    ("value", "out"), [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("@x", "'@x"), ("ok", "ok"), (None, "")]
)
def test_export_cells_never_start_a_spreadsheet_formula(value: str | None, out: str) -> None:
    assert cell(value) == out
