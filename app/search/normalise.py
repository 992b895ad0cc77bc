"""What a search query may contain, and how text is cut into words: a policy module shared by both backends.

Policy (the search contract, `search-spec.md` §6), applied to every query before any backend sees it:
1. `None` becomes "". The text is put in Unicode NFC; control characters, surrogates and invisible format characters
   are removed (tab, newline and carriage return count as spaces); runs of spaces collapse and the ends are trimmed.
2. It is cut to 512 characters.
3. Double quotes are balanced: with an odd count, the last one is dropped.
4. A `-` that starts a space-separated chunk and is followed by a word character (or an opening quote) negates that
   word or phrase; anywhere else `-` is an ordinary separator.
5. Words joined by single hyphens (`PR-20451`, a record reference) become a phrase, so a reference is never read as a
   negation and matches only exactly.
6. With no word left outside negations, the search is a placeholder search: every document, filtered and sorted
   (negations still exclude).

Words are runs of letters and digits (Unicode categories L* and N*, with combining marks kept in the word they
follow); everything else separates words. `.;,!?()[]{}|`, newlines and their CJK forms are hard separators
(Meilisearch counts them as 8 positions); the rest are soft (1 position). `fold` lowercases and removes accents,
as Meilisearch does: "Café", "CAFE" and "cafe" are one word. The embedded backend writes folded words into SQLite
FTS5 and quotes every word it matches, so no user text ever reaches an FTS5 query or a filter as syntax.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain
from typing import NamedTuple

MAX_QUERY_LENGTH = 512
HARD_SEPARATORS = frozenset(".;,!?()[]{}|\n\r…¡¿。！？；，、")
# Letters that SQLite 3.40's unicode61 tokenizer (older Unicode tables) treats as separators: kept out of words so
# that the embedded index and this tokenizer always cut text at the same places.
_SQLITE_SEPARATOR_LETTERS = frozenset([*range(0x19B0, 0x19C1), 0x19C8, 0x19C9, 0x1CF2, 0x1CF3])
# Where letters and marks are: up to the end of CJK extension H, and the variation selectors supplement.
_ENUMERATED = (range(0x80, 0x323B0), range(0xE0100, 0xE01F0))
_HARD_SPLIT = re.compile("[" + re.escape("".join(sorted(HARD_SEPARATORS))) + "]")
_WHITESPACE_CONTROLS = {"\t": " ", "\n": " ", "\r": " ", "\x0b": " ", "\x0c": " ", "\x85": " "}


class Token(NamedTuple):
    """One word of a text: where it is in the original, and its folded form."""

    text: str
    start: int
    end: int
    folded: str
    hard_before: bool  # a hard separator stands between this word and the previous one


@dataclass(frozen=True)
class QueryItem:
    """A word or a quoted phrase of a query, maybe negated; `words` as typed, `folded` as indexed."""

    words: tuple[str, ...]
    folded: tuple[str, ...]
    phrase: bool = False
    negated: bool = False

    @property
    def text(self) -> str:
        """The item written back in Meilisearch's query syntax."""
        body = f'"{" ".join(self.words)}"' if self.phrase else self.words[0]
        return f"-{body}" if self.negated else body


@dataclass(frozen=True)
class NormalisedQuery:
    """A query after the policy: its items in order, whether it is a placeholder search, and a safe text form."""

    items: tuple[QueryItem, ...]
    placeholder: bool
    text: str

    @property
    def terms(self) -> tuple[str, ...]:
        """The plain words to find, as typed."""
        return tuple(item.words[0] for item in self.items if not item.phrase and not item.negated)

    @property
    def phrases(self) -> tuple[tuple[str, ...], ...]:
        """The phrases to find, as typed."""
        return tuple(item.words for item in self.items if item.phrase and not item.negated)

    @property
    def negated(self) -> tuple[QueryItem, ...]:
        """The words and phrases that exclude documents."""
        return tuple(item for item in self.items if item.negated)

    @property
    def positive(self) -> tuple[QueryItem, ...]:
        """The words and phrases to find, in query order."""
        return tuple(item for item in self.items if not item.negated)


def _ranges(code_points: list[int]) -> str:
    parts: list[str] = []
    start = previous = code_points[0]
    for cp in [*code_points[1:], -1]:
        if cp == previous + 1:
            previous = cp
            continue
        first, last = re.escape(chr(start)), re.escape(chr(previous))
        parts.append(first if start == previous else f"{first}-{last}")
        start = previous = cp
    return "".join(parts)


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).casefold()


@cache
def _tables() -> tuple[re.Pattern[str], frozenset[str]]:
    """The word pattern, and the letters that must still separate words, built once from the Unicode tables."""
    marks: list[int] = []
    separators = {chr(cp) for cp in _SQLITE_SEPARATOR_LETTERS}
    for cp in chain.from_iterable(_ENUMERATED):
        char = chr(cp)
        category = unicodedata.category(char)
        if category[0] == "M":
            marks.append(cp)
        elif category[0] in "LN" and unicodedata.decomposition(char).startswith("<"):
            # A compatibility form ("½", "ﬁ") is a letter only if it folds to letters alone.
            folded = _fold_char(char)
            if not folded or not all(_is_base_letter(c) for c in folded):
                separators.add(char)
    # Letters and digits (`[^\W_]`, fast in `re`), with combining marks kept in the word they follow.
    word = re.compile(f"[^\\W_]+(?:[{_ranges(marks)}]+[^\\W_]*)*")
    return word, frozenset(separators)


def _is_base_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN" and ord(char) not in _SQLITE_SEPARATOR_LETTERS


def fold(word: str) -> str:
    """A word lowercased, with accents and other combining marks removed ("Lumière" -> "lumiere")."""
    return word.lower() if word.isascii() else _fold_unicode(word)


@lru_cache(maxsize=100_000)
def _fold_unicode(word: str) -> str:
    return "".join(_fold_char(c) for c in word)


def fold_offsets(word: str) -> list[int]:
    """For each character of `word`, how many folded characters the word has up to and including it."""
    total = 0
    ends: list[int] = []
    for char in word:
        total += len(_fold_char(char))
        ends.append(total)
    return ends


def is_word_char(char: str) -> bool:
    """Whether `char` can start a word."""
    return char.isalnum() and char not in _tables()[1]


def _spans(text: str) -> Iterator[tuple[int, int]]:
    word_pattern, separators = _tables()
    for match in word_pattern.finditer(text):
        start, end = match.span()
        if separators.isdisjoint(text[start:end]):
            yield start, end
            continue
        # Rare: the run holds a letter that still separates words; cut it there (and drop marks left leading).
        at = start
        while at < end:
            while at < end and not is_word_char(text[at]):
                at += 1
            stop = at
            while stop < end and text[stop] not in separators:
                stop += 1
            if stop > at:
                yield at, stop
            at = stop


def tokenize(text: str) -> list[Token]:
    """The words of `text`, with their positions in it and whether a hard separator precedes each."""
    tokens: list[Token] = []
    previous_end = 0
    for start, end in _spans(text):
        word = text[start:end]
        hard = previous_end > 0 and not HARD_SEPARATORS.isdisjoint(text[previous_end:start])
        tokens.append(Token(word, start, end, fold(word), hard))
        previous_end = end
    return tokens


def index_words(text: str) -> tuple[list[str], list[int]]:
    """The folded words of `text`, and the indexes of those that follow a hard separator (for indexing, faster)."""
    word_pattern, separators = _tables()
    words: list[str] = []
    breaks: list[int] = []
    plain = text.isascii()  # most text: lowercasing it whole folds every word, and no separator letter is ASCII
    if plain:
        text = text.lower()
    for segment in _HARD_SPLIT.split(text):
        found = word_pattern.findall(segment)
        if found and not plain and not separators.isdisjoint(segment):
            found = [word[start:end] for word in found for start, end in _spans(word)]
        if found:
            if words:
                breaks.append(len(words))
            words.extend(found if plain else map(fold, found))
    return words, breaks


def _clean(q: str | None) -> str:
    text = unicodedata.normalize("NFC", q or "")
    kept: list[str] = []
    for char in text:
        if char in _WHITESPACE_CONTROLS:
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cs", "Cf"):
            kept.append(char)
    text = " ".join("".join(kept).split())[:MAX_QUERY_LENGTH]
    if text.count('"') % 2:
        cut = text.rindex('"')
        text = text[:cut] + text[cut + 1 :]
    return text


def _phrase_or_word(tokens: list[Token], negated: bool) -> QueryItem:
    return QueryItem(
        words=tuple(t.text for t in tokens),
        folded=tuple(t.folded for t in tokens),
        phrase=len(tokens) > 1,
        negated=negated,
    )


def _chunk_items(chunk: str) -> list[QueryItem]:
    """The items of one space-separated chunk outside quotes."""
    negated = chunk.startswith("-") and len(chunk) > 1 and is_word_char(chunk[1])
    body = chunk[1:] if negated else chunk
    tokens = tokenize(body)
    groups: list[list[Token]] = []
    previous_end = -1
    for token in tokens:
        if groups and body[previous_end : token.start] == "-":
            groups[-1].append(token)  # words joined by one hyphen stay together as a phrase
        else:
            groups.append([token])
        previous_end = token.end
    return [_phrase_or_word(group, negated and i == 0) for i, group in enumerate(groups)]


def normalise_query(q: str | None) -> NormalisedQuery:
    """Apply the query policy to what the user typed; the result is safe to give to either backend."""
    text = _clean(q)
    items: list[QueryItem] = []
    parts = text.split('"')  # balanced: odd-numbered parts are inside quotes
    for number, part in enumerate(parts):
        if number % 2:
            before = parts[number - 1]
            negated = before.endswith("-") and (len(before) == 1 or before[-2] == " ")
            tokens = tokenize(part)
            if tokens:
                items.append(
                    QueryItem(
                        words=tuple(t.text for t in tokens),
                        folded=tuple(t.folded for t in tokens),
                        phrase=True,
                        negated=negated,
                    )
                )
            continue
        for chunk in part.split(" "):
            if chunk:
                items.extend(_chunk_items(chunk))
    placeholder = not any(not item.negated for item in items)
    return NormalisedQuery(tuple(items), placeholder, " ".join(item.text for item in items))
