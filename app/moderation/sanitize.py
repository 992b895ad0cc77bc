"""The one place free text is cleaned, highlighted and redacted.

Policy (`design/moderation.md`, "Sanitising and display"):

- Free text is stored as plain text, cleaned once on write by `clean_text`. bleach strips every tag (keeping the
  words inside it) and every comment; the entities bleach produces are turned back into characters, so "AT&T" is
  stored as "AT&T" and "<b>x</b>" as "x". Stored text is never HTML.
- Templates autoescape everything. `|safe` (or `Markup`) is used only on what `highlight_spans` returns; it is the
  only function in the app that builds HTML from user text, and it escapes the text before it adds any mark.
- `clean_text` never truncates. If the cleaned text is longer than `max_length` it raises `TextTooLong` (a
  `ValueError`), so the form can say how long the text is rather than silently cut an officer's words.
- Redaction replaces a span with "[removed: reason]" and never rewrites the rest of the text.

A known limit of stripping tags: text like "x<y and z>w" parses as a tag and loses "<y and z>". Ordinary prose with
"<" before a digit, a space or "£" ("<5 days", "a < b") is kept.
"""

import html
import re
import unicodedata
from collections.abc import Callable, Sequence

import bleach
from markupsafe import Markup, escape

from app.models import Severity

REMOVED = "[removed: {reason}]"

# Control characters (Cc) other than newline and tab, and the bidirectional embedding, override and isolate
# characters, which can make text read differently to a moderator than it is stored.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_EXTRA_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){3,}")

_SEVERITY_RANK = {Severity.low: 0, Severity.medium: 1, Severity.high: 2, Severity.critical: 3}
_SEVERITY_LABEL = {
    Severity.low: "Low risk",
    Severity.medium: "Medium risk",
    Severity.high: "High risk",
    Severity.critical: "Critical risk",
}


class TextTooLong(ValueError):
    """Cleaned text is longer than the field allows."""

    def __init__(self, length: int, max_length: int) -> None:
        super().__init__(f"Text is {length} characters long; the limit is {max_length}")
        self.length = length
        self.max_length = max_length


def clean_text(value: str | None, *, max_length: int | None = None) -> str:
    """Plain text from user input: no tags, readable entities, tidy whitespace; TextTooLong if over max_length."""
    if not value:
        return ""
    # Controls go before bleach (which turns them into "?") and again after unescaping ("&#127;").
    text = _plain_characters(value)
    text = bleach.clean(text, tags=set(), attributes={}, strip=True, strip_comments=True)
    text = _plain_characters(html.unescape(text))
    text = unicodedata.normalize("NFC", text)
    text = _EXTRA_BLANK_LINES.sub("\n\n\n", text).strip()
    if max_length is not None and len(text) > max_length:
        raise TextTooLong(len(text), max_length)
    return text


def highlight_spans(text: str, spans: Sequence[tuple[int, int, str]]) -> Markup:
    """Escaped text with each (start, end, severity) span wrapped in a <mark>; overlapping spans merge."""
    pieces: list[str] = []
    position = 0
    # Severity() rejects anything but a known level, so nothing else can reach the class attribute.
    checked = [(start, end, Severity(severity).value) for start, end, severity in spans]
    for start, end, severity in _merge(text, checked, _strongest):
        pieces.append(escape(text[position:start]))
        level = Severity(severity)
        pieces.append(
            Markup('<mark class="app-finding app-finding--{}" title="{}">{}</mark>').format(
                level.value, _SEVERITY_LABEL[level], text[start:end]
            )
        )
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


# Search backends wrap matches in these; they cannot occur in stored text (clean_text strips control characters).
HIGHLIGHT_PRE = "\x1e"
HIGHLIGHT_POST = "\x1f"


def mark_highlights(text: str | None) -> Markup:
    """Escape a search backend's highlighted text, then turn its sentinel tags into <mark> elements."""
    escaped = str(escape(text or ""))
    return Markup(escaped.replace(HIGHLIGHT_PRE, "<mark>").replace(HIGHLIGHT_POST, "</mark>"))


def strip_highlights(text: str | None) -> str:
    """The text without highlight sentinels (for the JSON API's plain fields)."""
    return (text or "").replace(HIGHLIGHT_PRE, "").replace(HIGHLIGHT_POST, "")


def redact(text: str, redactions: Sequence[tuple[int, int, str]]) -> str:
    """Text with each (start, end, reason) span replaced by "[removed: reason]"; overlapping spans merge."""
    result = text
    # From the end backwards, so the offsets of earlier spans still point at the original text.
    for start, end, reason in reversed(_merge(text, redactions, _joined_reasons)):
        result = result[:start] + REMOVED.format(reason=reason) + result[end:]
    return result


def _plain_characters(text: str) -> str:
    return _CONTROL.sub("", _NEWLINES.sub("\n", text))


def _strongest(first: str, second: str) -> str:
    return first if _SEVERITY_RANK[Severity(first)] >= _SEVERITY_RANK[Severity(second)] else second


def _joined_reasons(first: str, second: str) -> str:
    return first if second in first.split(", ") else f"{first}, {second}"


def _merge(
    text: str, spans: Sequence[tuple[int, int, str]], combine: Callable[[str, str], str]
) -> list[tuple[int, int, str]]:
    """Spans in order, checked against the text, with overlapping ones merged into one."""
    merged: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans, key=lambda span: (span[0], span[1])):
        if not 0 <= start < end <= len(text):
            raise ValueError(f"Span ({start}, {end}) is not inside a text of {len(text)} characters")
        if merged and start < merged[-1][1]:
            last_start, last_end, last_label = merged[-1]
            merged[-1] = (last_start, max(last_end, end), combine(last_label, label))
        else:
            merged.append((start, end, label))
    return merged
