"""The sanitising module: plain text on write, escaped highlights, redaction by span."""

import pytest
from markupsafe import Markup

from app.moderation.sanitize import TextTooLong, clean_text, highlight_spans, redact
from tests.html import parse


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<script>alert('x')</script>Good supplier", "alert('x')Good supplier"),
        ('<a href="javascript:alert(1)" onclick="steal()">link</a>', "link"),
        ('<img src=x onerror="alert(1)">after', "after"),
        ("<b>x</b>", "x"),
        ("before<!-- hidden -->after", "beforeafter"),
        ("AT&T", "AT&T"),
        ("Fish &amp; chips &lt;3", "Fish & chips <3"),
        ("costs < £5k and 3 > 2", "costs < £5k and 3 > 2"),
        ("caf\u0065\u0301", "caf\u00e9"),  # NFC
        ("  padded  \n", "padded"),
        (None, ""),
        ("", ""),
    ],
)
def test_clean_text(raw: str | None, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_strips_control_characters_but_keeps_newlines_and_tabs() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x7fe\tf\ng") == "abcde\tf\ng"
    assert clean_text("a&#127;b") == "ab"  # an entity that decodes to a control character
    assert clean_text("left\u202eright") == "leftright"  # bidirectional override


def test_clean_text_normalises_newlines_and_blank_lines() -> None:
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_text("one\n\n\n\n\n\ntwo") == "one\n\n\ntwo"  # at most 2 blank lines
    assert clean_text("one\n \n\t\n  \n\ntwo") == "one\n\n\ntwo"
    assert clean_text("one\n\ntwo") == "one\n\ntwo"


def test_clean_text_does_not_truncate() -> None:
    assert clean_text("<b>12345</b>", max_length=5) == "12345"  # measured after cleaning
    with pytest.raises(TextTooLong) as raised:
        clean_text("123456", max_length=5)
    assert isinstance(raised.value, ValueError)
    assert (raised.value.length, raised.value.max_length) == (6, 5)


def test_highlight_spans_escapes_text_inside_and_outside_marks() -> None:
    text = "a <script>alert(1)</script> & b"
    html = highlight_spans(text, [(2, 27, "high")])
    assert isinstance(html, Markup)
    assert "<script>" not in html
    assert str(html) == (
        'a <mark class="app-finding app-finding--high" title="High risk">'
        "&lt;script&gt;alert(1)&lt;/script&gt;</mark> &amp; b"
    )
    mark = parse(str(html)).find("mark")
    assert mark is not None and mark.get_text() == "<script>alert(1)</script>"


def test_highlight_spans_merges_overlapping_spans_with_the_highest_severity() -> None:
    text = "Mr Smith lied about it. Fine otherwise."
    html = highlight_spans(text, [(9, 13, "high"), (0, 23, "critical"), (0, 8, "high"), (24, 28, "medium")])
    marks = parse(str(html)).find_all("mark")
    assert [(mark.get_text(), mark["class"]) for mark in marks] == [
        ("Mr Smith lied about it.", ["app-finding", "app-finding--critical"]),
        ("Fine", ["app-finding", "app-finding--medium"]),
    ]
    assert parse(str(html)).get_text() == text


def test_highlight_spans_without_spans_is_escaped_text() -> None:
    assert highlight_spans("<b>&", []) == Markup("&lt;b&gt;&amp;")


@pytest.mark.parametrize("spans", [[(0, 99, "high")], [(-1, 2, "high")], [(3, 2, "high")], [(0, 2, '" onclick="x')]])
def test_highlight_spans_rejects_bad_spans(spans: list[tuple[int, int, str]]) -> None:
    with pytest.raises(ValueError):
        highlight_spans("some text", spans)


def test_redact_keeps_offsets_across_several_spans() -> None:
    text = "Call Sarah Jones on 020 7946 0000 about the £12,500 fee."
    spans = [(5, 16, "name"), (20, 33, "phone number"), (44, 51, "price")]
    assert redact(text, spans) == ("Call [removed: name] on [removed: phone number] about the [removed: price] fee.")
    assert redact(text, list(reversed(spans))) == redact(text, spans)  # order of the list does not matter


def test_redact_merges_overlapping_spans() -> None:
    text = "Mr Smith lied about it."
    assert redact(text, [(0, 8, "name"), (0, 23, "allegation"), (9, 13, "allegation")]) == (
        "[removed: name, allegation]"
    )
    assert redact(text, []) == text


@pytest.mark.parametrize("span", [(0, 24, "x"), (-1, 3, "x"), (5, 2, "x"), (3, 3, "x")])
def test_redact_rejects_out_of_range_spans(span: tuple[int, int, str]) -> None:
    with pytest.raises(ValueError):
        redact("Mr Smith lied about it.", [span])
