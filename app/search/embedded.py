"""The embedded search backend: Meilisearch's behaviour on SQLite FTS5, in the application's own database.

It follows the search contract (`search-spec.md` §5.2, §7, §8) so that the same tests pass here and on Meilisearch.

Storage, created lazily with `CREATE ... IF NOT EXISTS` (every name starts with `search_`, which the Alembic
comparison leaves out):
- `search_index_settings`: each index's settings (JSON) and two random version tokens, changed by every write
  (`version`) and by every write that adds words (`vocab_version`); in-process caches follow them, so a write by
  another connection, process or rolled-back transaction is never served stale.
- `search_doc`: the documents as JSON with their internal number (`doc`, insertion order), and per searchable
  attribute the word offsets that follow a hard separator and the word count (32-bit integers in a blob; rows
  written before that format hold JSON, still read).
- `search_fts_<index>_`: FTS5, one column per searchable attribute, holding the words already folded in Python
  (`normalise.tokenize`), with `unicode61 remove_diacritics 2`; read through `fts5vocab` instance tables, with every
  word looked up as a quoted value, never as query syntax.
- `search_term`: the vocabulary per index (typo and prefix derivations are computed from it with rapidfuzz OSA).
- `search_facet`: one row per filterable or sortable value of a document (strings, numbers) plus `exists`, `null`
  and `empty` rows; filters compile to SQL over it, facet counts and sort values come from it.

Searching: the shared normaliser cuts the query into words and phrases (first 10 words); each word gets its
derivations (exact; prefix for the last word; typos by Meilisearch's rules; synonyms, multi-word ones as phrases);
word positions come from the FTS index. Documents are grouped in `words` buckets (matchingStrategy `last`) and each
bucket, in order, is ranked by typo, proximity, attribute rank, sort, word position and exactness, stopping once the
requested page is full. Totals and facets cover the whole match set.

Performance: heavy reads go through the DB-API cursor (no per-row SQLAlchemy work); each query word's postings are
one indexed lookup. Match sets, words buckets and the typo rule's first bucket are set operations; positions are
gathered and ranking rules evaluated only for the documents that can reach the page (when the documents without
typos fill it, the rest of the bucket is never ranked). Facet columns are cached per index version as shared
tuples of value codes and counted with `Counter`. Position data is decoded lazily (a rule reads one column's
offsets in place). Writes go in one `executemany` per table and batch; a full rebuild (`bulk_load`) drops the facet
indexes and builds them once at the end. What remains costly on large indexes: the proximity and later rules still
look at every typo-free document of the first bucket, and the postings of very common words are read whole.

`with backend.using(connection):` runs every call in the block on the caller's connection without committing, so
content and its index rows commit (or roll back) together. Without it, each write commits by itself.
"""

import bisect
import heapq
import json
import math
import re
import time
import unicodedata
import uuid
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from functools import lru_cache, total_ordering
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import Connection, Engine

from app.search.base import Document, IndexSettings, SearchParams, SearchQueryError, TypoTolerance
from app.search.filters import And, Condition, FilterNode, Not, SortKey, is_listed, parse_filter, parse_sort
from app.search.normalise import (
    HARD_SEPARATORS,
    QueryItem,
    Token,
    fold,
    fold_offsets,
    index_words,
    normalise_query,
    tokenize,
)

MAX_QUERY_WORDS = 10
MAX_SYNONYM_SPAN = 3
MAX_PROXIMITY = 8  # Meilisearch counts word pairs up to 7 apart; anything further costs the same
HARD_SEPARATOR_GAP = 8
_INDEX_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_CHUNK = 500  # SQL parameters per statement

# Dropped while a full rebuild writes its documents and built once at the end (`EmbeddedBackend.bulk_load`).
_FACET_INDEXES = (
    (
        "search_facet_by_string",
        "CREATE INDEX IF NOT EXISTS search_facet_by_string ON search_facet (idx, attr, kind, sval_folded)",
    ),
    ("search_facet_by_number", "CREATE INDEX IF NOT EXISTS search_facet_by_number ON search_facet (idx, attr, nval)"),
    ("search_facet_by_doc", "CREATE INDEX IF NOT EXISTS search_facet_by_doc ON search_facet (doc)"),
)
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS search_index_settings (
        idx TEXT PRIMARY KEY, settings TEXT NOT NULL, version TEXT NOT NULL, vocab_version TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS search_doc (
        doc INTEGER PRIMARY KEY, idx TEXT NOT NULL, doc_id TEXT NOT NULL, body TEXT NOT NULL, meta TEXT NOT NULL,
        UNIQUE (idx, doc_id))""",
    """CREATE TABLE IF NOT EXISTS search_facet (
        idx TEXT NOT NULL, doc INTEGER NOT NULL, attr TEXT NOT NULL, kind TEXT NOT NULL,
        sval TEXT, sval_folded TEXT, nval REAL)""",
    *(statement for _, statement in _FACET_INDEXES),
    "CREATE TABLE IF NOT EXISTS search_term (idx TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (idx, term)) "
    "WITHOUT ROWID",
)

Posting = tuple[int, int, int]  # doc, column, word offset
Occurrence = tuple[int, int, int, int, bool]  # column, first offset, last offset, typos, exact
FacetValue = tuple[str, str, str | None, float | None]  # kind, value as shown, folded value, number
FacetRow = tuple[str, str, str | None, str | None, float | None]  # attribute, kind, shown, folded, number


# Settings, documents and facet values


def _check_index_name(index: str) -> None:
    if not _INDEX_NAME.fullmatch(index):
        raise ValueError(f"Index names use letters, digits, `-` and `_` (at most 64): {index!r}")


def _fts_table(index: str) -> str:
    return f'"search_fts_{index}_"'


def _instance_table(index: str) -> str:
    return f'"search_vocab_{index}_"'


def _settings_json(settings: IndexSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def _settings_from_json(text: str) -> IndexSettings:
    data = json.loads(text)
    data["typo_tolerance"] = TypoTolerance(**data["typo_tolerance"])
    return IndexSettings(**data)


@lru_cache(maxsize=65_536)
def _facet_key(value: str) -> str:
    """How string facet values compare: case-insensitively, ignoring surrounding spaces (cached: facet values repeat
    across documents, and a full reindex asks for each one many times)."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_number(value: str) -> float | None:
    return float(value) if _NUMBER.fullmatch(value.strip()) else None


def _lookup(value: Any, path: str) -> tuple[bool, Any]:
    """The value at a (possibly dotted) attribute path, looking through nested objects and arrays of objects."""
    if isinstance(value, dict):
        if path in value:
            return True, value[path]
        for key, child in value.items():
            if isinstance(key, str) and path.startswith(key + "."):
                found, result = _lookup(child, path[len(key) + 1 :])
                if found:
                    return True, result
        return False, None
    if isinstance(value, list):
        results = [result for found, result in (_lookup(item, path) for item in value) if found]
        return (True, results) if results else (False, None)
    return False, None


def _paths(document: Document, prefix: str = "") -> Iterator[str]:
    for key, value in document.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _paths(value, prefix + key + ".")


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif value is not None:
        yield value


def _text_parts(value: Any) -> list[str]:
    if isinstance(value, str):  # most attributes: one string
        return [value]
    parts: list[str] = []
    for leaf in _leaves(value):
        if isinstance(leaf, bool):
            parts.append("true" if leaf else "false")
        elif isinstance(leaf, int | float):
            parts.append(_number_text(leaf))
        elif isinstance(leaf, str):
            parts.append(leaf)
    return parts


def _facet_rows(document: Document, attributes: Iterable[str]) -> list[FacetRow]:
    rows: list[FacetRow] = []
    for attribute in attributes:
        found, value = _lookup(document, attribute)
        if not found:
            continue
        rows.append((attribute, "exists", None, None, None))
        if value is None:
            rows.append((attribute, "null", None, None, None))
            continue
        if value == "" or value == [] or value == {}:
            rows.append((attribute, "empty", None, None, None))
        if isinstance(value, str):  # most values: one string, no tree to walk
            rows.append((attribute, "str", value, _facet_key(value), None))
            continue
        for leaf in _leaves(value):
            if isinstance(leaf, bool):
                text = "true" if leaf else "false"
                rows.append((attribute, "str", text, text, None))
            elif isinstance(leaf, int | float):
                rows.append((attribute, "num", _number_text(leaf), None, float(leaf)))
            elif isinstance(leaf, str):
                rows.append((attribute, "str", leaf, _facet_key(leaf), None))
    return rows


@dataclass
class _Prepared:
    """A document ready to be written: its JSON, folded text per column, position data, facets and words."""

    doc_id: str
    body: str
    columns: list[str]
    meta: bytes
    facets: list[FacetRow]
    terms: set[str]


def _prepare(document: Document, settings: IndexSettings) -> _Prepared:
    if not isinstance(document, dict):
        raise ValueError(f"A document is a JSON object, not {type(document).__name__}")
    key = document.get(settings.primary_key)
    if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
        raise ValueError(f"Each document needs a string or integer `{settings.primary_key}`: {key!r}")
    try:
        body = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"Document {key!r} is not plain JSON: {error}") from error
    columns: list[str] = []
    breaks: dict[int, list[int]] = {}
    counts: list[int] = []
    terms: set[str] = set()
    for number, attribute in enumerate(settings.searchable):
        found, value = _lookup(document, attribute)
        words: list[str] = []
        column_breaks: list[int] = []
        for part in _text_parts(value) if found else []:
            part_words, part_breaks = index_words(part)
            if words and part_words:  # array elements stand apart, as after a hard separator
                column_breaks.append(len(words))
            column_breaks.extend(len(words) + i for i in part_breaks)
            words.extend(part_words)
        columns.append(" ".join(words))
        counts.append(len(words))
        if column_breaks:
            breaks[number] = column_breaks
        terms.update(words)
    facet_attributes = _facet_attributes(document, settings)
    meta = _meta_bytes(counts, breaks)
    return _Prepared(str(key), body, columns, meta, _facet_rows(document, facet_attributes), terms)


def _meta_bytes(counts: list[int], breaks: dict[int, list[int]]) -> bytes:
    """Position data as 32-bit integers: the column count, each column's word count, then per column its number of
    hard-separator offsets followed by them (decoded with `array.frombytes`, far cheaper than JSON)."""
    data = array("i", [len(counts), *counts])
    for number in range(len(counts)):
        column_breaks = breaks.get(number, [])
        data.append(len(column_breaks))
        data.extend(column_breaks)
    return data.tobytes()


def _facet_attributes(document: Document, settings: IndexSettings) -> list[str]:
    listed = [*settings.filterable, *(a for a in settings.sortable if a not in settings.filterable)]
    if "*" in listed:
        return list(_paths(document))
    return listed


# The in-process caches


class _Vocabulary:
    """The words of an index, sorted, by length, and their prefixes (for typo derivations)."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.by_length: dict[int, list[str]] = {}
        for word in words:
            self.by_length.setdefault(len(word), []).append(word)
        self._prefixes: dict[int, list[str]] = {}

    def __contains__(self, word: object) -> bool:
        at = bisect.bisect_left(self.words, word) if isinstance(word, str) else len(self.words)
        return at < len(self.words) and self.words[at] == word

    def starting_with(self, prefix: str) -> Iterator[str]:
        """Every word that starts with `prefix` (itself included)."""
        at = bisect.bisect_left(self.words, prefix)
        while at < len(self.words) and self.words[at].startswith(prefix):
            yield self.words[at]
            at += 1

    def prefixes(self, length: int) -> list[str]:
        """The distinct prefixes of `length` characters of the words."""
        if length not in self._prefixes:
            self._prefixes[length] = sorted({w[:length] for w in self.words if len(w) >= length})
        return self._prefixes[length]


@dataclass
class _State:
    """What a search needs to know about an index, valid while its version token does not change."""

    version: str
    vocab_version: str
    settings: IndexSettings
    vocabulary: _Vocabulary | None = None
    columns: dict[str, "_Column"] = field(default_factory=dict)
    synonyms: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)


class _Column:
    """One filterable or sortable attribute of every document, compactly: its distinct values once each, and per
    document the tuple of its value codes (tuples shared between documents with the same values).

    `docs` keeps one value per facet key (values that differ only in case count once in a document); the few
    documents that lose a value to that rule keep all of them in `extra`, for sorting and numeric stats."""

    __slots__ = ("values", "keys", "numbers", "sort_keys", "docs", "extra", "shown_once")

    def __init__(self, rows: Iterable[tuple[int, str, str | None, str | None, float | None]]) -> None:
        codes: dict[FacetValue, int] = {}
        self.values: list[FacetValue] = []
        self.keys: list[str] = []  # the facet key of each value code
        self.numbers: list[float | None] = []
        self.sort_keys: list[tuple[int, Any]] = []
        self.docs: dict[int, tuple[int, ...]] = {}
        self.extra: dict[int, tuple[int, ...]] = {}
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        shown_by_key: dict[str, set[str]] = {}
        current: int | None = None
        doc_codes: list[int] = []

        def finish() -> None:
            if current is None:
                return
            every = tuple(dict.fromkeys(doc_codes))
            seen: set[str] = set()
            counted = tuple(c for c in every if not (self.keys[c] in seen or seen.add(self.keys[c])))  # type: ignore[func-returns-value]
            self.docs[current] = shared.setdefault(counted, counted)
            if counted != every:
                self.extra[current] = every

        for doc, kind, shown, folded, number in rows:
            if doc != current:
                finish()
                current, doc_codes = doc, []
            value: FacetValue = (kind, shown or "", folded, number)
            code = codes.get(value)
            if code is None:
                code = codes[value] = len(self.values)
                self.values.append(value)
                key = value[1] if kind == "num" else (folded or "")
                self.keys.append(key)
                self.numbers.append(number if kind == "num" else None)
                self.sort_keys.append((0, number) if kind == "num" else (1, value[1].lower()))
                shown_by_key.setdefault(key, set()).add(value[1])
            doc_codes.append(code)
        finish()
        # Keys written one way only (nearly all) show that way without looking at which document came first.
        self.shown_once = {key: next(iter(texts)) for key, texts in shown_by_key.items() if len(texts) == 1}

    def codes(self, doc: int) -> tuple[int, ...]:
        """Every value code of a document."""
        return self.extra.get(doc) or self.docs.get(doc, ())

    def sort_value(self, doc: int, descending: bool) -> tuple[Any, ...]:
        """A document's key for sorting on this attribute: numbers before strings, missing values last either way."""
        codes = self.codes(doc)
        if not codes:
            return (1,)
        if descending:
            return (0, _Descending(max(self.sort_keys[c] for c in codes)))
        return (0, min(self.sort_keys[c] for c in codes))

    def first_shown(self, key: str, universe: Iterable[int]) -> str:
        """How a key written several ways shows: as in the first document of the match set that has it."""
        for doc in universe:
            for code in self.docs.get(doc, ()):
                if self.keys[code] == key:
                    return self.values[code][1]
        return key


def _fold_words(text: str) -> tuple[str, ...]:
    return tuple(token.folded for token in tokenize(text))


def _synonym_map(synonyms: dict[str, list[str]]) -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    result: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for key, values in synonyms.items():
        folded_key = _fold_words(key)
        if not folded_key:
            continue
        targets = result.setdefault(folded_key, [])
        for value in values[:50]:  # Meilisearch ignores synonyms past 50 per term
            folded = _fold_words(value)
            if folded and folded != folded_key and folded not in targets:
                targets.append(folded)
    return result


# Query terms


@dataclass
class _Term:
    """One word or phrase of the query with everything it may match: words (with typos, exact) and phrases."""

    number: int
    words: tuple[str, ...]
    phrase: bool
    prefix: bool = False
    singles: dict[str, tuple[int, bool]] = field(default_factory=dict)
    phrases: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)

    def add(self, word: str, typos: int, exact: bool) -> None:
        known = self.singles.get(word)
        if known is None or (typos, not exact) < (known[0], not known[1]):
            self.singles[word] = (typos, exact)


def _typo_budget(word: str, typo: TypoTolerance, disabled_words: set[str]) -> int:
    if not typo.enabled or word in disabled_words or (typo.disable_on_numbers and word.isdigit()):
        return 0
    length = len(word)
    return 2 if length >= typo.two_typos else 1 if length >= typo.one_typo else 0


def _typos(word: str, candidate: str, distance: int, budget: int) -> int | None:
    """Meilisearch's count for a candidate within `distance`: a first-letter typo counts 2 (needs a 2-typo budget)."""
    if distance == 0:
        return 0
    if candidate[0] == word[0]:
        return distance if distance <= budget else None
    return 2 if budget >= 2 and distance <= 1 else None


def _derive(term: _Term, vocabulary: _Vocabulary, budget: int) -> None:
    word = term.words[0]
    if word in vocabulary:
        term.add(word, 0, True)
    if term.prefix:
        for candidate in vocabulary.starting_with(word):
            term.add(candidate, 0, candidate == word)
    if budget == 0:
        return
    lengths = range(max(1, len(word) - budget), len(word) + budget + 1)
    candidates = [w for length in lengths for w in vocabulary.by_length.get(length, ())]
    matches = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=budget, limit=None)
    for candidate, distance, _ in matches:
        typos = _typos(word, candidate, int(distance), budget)
        if typos:
            term.add(candidate, typos, False)
    if term.prefix:
        for length in lengths:
            prefixes = vocabulary.prefixes(length)
            for prefix, distance, _ in process.extract(
                word, prefixes, scorer=OSA.distance, score_cutoff=budget, limit=None
            ):
                typos = _typos(word, prefix, int(distance), budget)
                if typos:
                    for candidate in vocabulary.starting_with(prefix):
                        term.add(candidate, typos, False)


def _capped(items: Sequence[QueryItem]) -> list[QueryItem]:
    """The query's words and phrases up to the first 10 words, as Meilisearch keeps them."""
    kept: list[QueryItem] = []
    left = MAX_QUERY_WORDS
    for item in items:
        if left <= 0:
            break
        if len(item.folded) > left:
            item = QueryItem(item.words[:left], item.folded[:left], phrase=item.phrase, negated=item.negated)
        kept.append(item)
        left -= len(item.folded)
    return kept


def _plan(items: Sequence[QueryItem], state: _State, vocabulary: _Vocabulary) -> list[_Term]:
    settings = state.settings
    typo = settings.typo_tolerance
    disabled_words = {fold(w) for w in typo.disable_on_words}
    terms: list[_Term] = []
    for number, item in enumerate(items):
        is_phrase = item.phrase or len(item.folded) > 1
        term = _Term(number, item.folded, is_phrase, prefix=not is_phrase and number == len(items) - 1)
        if len(item.folded) > 1:
            term.phrases.append((item.folded, True))
        elif is_phrase:  # a quoted single word: exact only, never dropped by the words rule
            term.add(item.folded[0], 0, True)
        else:
            _derive(term, vocabulary, _typo_budget(item.folded[0], typo, disabled_words))
        terms.append(term)
    for start in range(len(terms)):
        for span in range(1, MAX_SYNONYM_SPAN + 1):
            covered = terms[start : start + span]
            if len(covered) < span or any(t.phrase for t in covered) or items[start].phrase:
                break
            key = tuple(t.words[0] for t in covered)
            for synonym in state.synonyms.get(key, []):
                for term in covered:
                    if len(synonym) == 1:
                        if synonym[0] in vocabulary:
                            term.add(synonym[0], 0, False)
                    else:
                        term.phrases.append((synonym, False))
    return terms


# Positions


class _Meta:
    """Per document: the offsets after hard separators and the word count, per column. Decoded lazily: the ranking
    rules ask for a column or two of thousands of documents, so nothing is sliced or copied up front."""

    __slots__ = ("_values", "_json_breaks", "_json_counts")

    def __init__(self, stored: bytes | str) -> None:
        self._values = array("i")
        self._json_breaks: dict[int, Sequence[int]] | None = None
        self._json_counts: Sequence[int] = ()
        if isinstance(stored, str):  # written before position data became binary
            data = json.loads(stored)
            self._json_breaks = {int(k): v for k, v in data["b"].items()}
            self._json_counts = data["n"]
            return
        self._values.frombytes(stored)

    @property
    def counts(self) -> Sequence[int]:
        """The word count of each column."""
        if self._json_breaks is not None:
            return self._json_counts
        return self._values[1 : 1 + self._values[0]]

    def _breaks(self, column: int) -> tuple[Sequence[int], int, int]:
        """The hard-separator offsets of a column, as a sequence and the bounds of the column's part of it."""
        if self._json_breaks is not None:
            found = self._json_breaks.get(column, ())
            return found, 0, len(found)
        values = self._values
        at = 1 + values[0]
        for _ in range(column):
            at += 1 + values[at]
        return values, at + 1, at + 1 + values[at]

    def position(self, column: int, offset: int) -> int:
        """Meilisearch's position: one per word, eight across a hard separator."""
        breaks, low, high = self._breaks(column)
        if low == high:
            return offset
        return offset + (HARD_SEPARATOR_GAP - 1) * (bisect.bisect_right(breaks, offset, low, high) - low)

    def unbroken(self, column: int, first: int, last: int) -> bool:
        """Whether no hard separator falls between the words at offsets `first`..`last`."""
        breaks, low, high = self._breaks(column)
        at = bisect.bisect_right(breaks, first, low, high)
        return at >= high or breaks[at] > last


class _Positions:
    """Postings read from the FTS index for one search, and document metadata loaded on demand."""

    def __init__(self, connection: Connection, index: str) -> None:
        self.connection = connection
        self.index = index
        self.postings: dict[str, list[Posting]] = {}
        self.doc_sets: dict[str, set[int]] = {}
        self.metas: dict[int, _Meta] = {}

    def load(self, words: Iterable[str]) -> None:
        """Read each word's postings (in document order) straight into tuples, one indexed lookup per word."""
        wanted = sorted({w for w in words if w not in self.postings})
        sql = f"SELECT doc, CAST(substr(col, 2) AS INTEGER), offset FROM {_instance_table(self.index)} WHERE term = ?"
        cursor = _cursor(self.connection)
        for word in wanted:
            self.postings[word] = cursor.execute(sql, (word,)).fetchall()

    def docs(self, word: str) -> set[int]:
        """The documents a word occurs in."""
        found = self.doc_sets.get(word)
        if found is None:
            found = self.doc_sets[word] = set(map(_FIRST, self.postings.get(word, ())))
        return found

    def meta(self, docs: Iterable[int]) -> dict[int, _Meta]:
        missing = sorted({d for d in docs if d not in self.metas})
        cursor = _cursor(self.connection)
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            for doc, stored in cursor.execute(f"SELECT doc, meta FROM search_doc WHERE doc IN ({marks})", chunk):
                self.metas[doc] = _Meta(stored)
        return self.metas

    def phrase_hits(self, words: tuple[str, ...], allowed: set[int] | None) -> list[Posting]:
        """Where the words stand one after the other, with no hard separator between them."""
        firsts = [p for p in self.postings.get(words[0], []) if allowed is None or p[0] in allowed]
        if len(words) == 1:
            return firsts
        followers = [set(self.postings.get(w, [])) for w in words[1:]]
        candidates = [
            (doc, column, offset)
            for doc, column, offset in firsts
            if all((doc, column, offset + k) in follower for k, follower in enumerate(followers, start=1))
        ]
        metas = self.meta(doc for doc, _, _ in candidates)
        return [(d, c, o) for d, c, o in candidates if metas[d].unbroken(c, o, o + len(words) - 1)]


_FIRST = itemgetter(0)


def _cursor(connection: Connection) -> Any:
    """A DB-API cursor on the connection's own sqlite3 connection (same transaction), for reads of many rows: it
    skips SQLAlchemy's per-row processing, which costs more than SQLite itself on large results."""
    return connection.connection.cursor()


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# Ranking


@total_ordering
class _Descending:
    """Reverses the order of a sort value."""

    __slots__ = ("value",)

    def __init__(self, value: tuple[int, Any]) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: "_Descending") -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


def _bucketed_position(position: int) -> int:
    """Meilisearch's word-position buckets: exact below 16, then coarser."""
    if position < 16:
        return position
    if position < 24:
        return 24
    return int(2 ** math.ceil(math.log2(position)))


def _pair_cost(first: list[Occurrence], second: list[Occurrence], meta: _Meta) -> int:
    best = MAX_PROXIMITY
    for column, start, end, _, _ in first:
        a_start, a_end = meta.position(column, start), meta.position(column, end)
        for other_column, other_start, other_end, _, _ in second:
            if other_column != column:
                continue
            b_start, b_end = meta.position(column, other_start), meta.position(column, other_end)
            if b_start > a_end:
                distance = b_start - a_end
            elif a_start > b_end:
                distance = a_start - b_end + 1  # the reverse order costs one more
            else:
                distance = 1
            best = min(best, distance)
            if best == 1:
                return 1
    return best


def _exactness(
    kept: list[int], occurrences: list[dict[int, list[Occurrence]]], doc: int, meta: _Meta
) -> tuple[bool, bool, int]:
    """Whether an attribute is exactly the query, whether one starts with it, and how many terms match exactly."""
    exact_terms = sum(1 for t in kept if any(o[4] for o in occurrences[t][doc]))
    starts = exact = False
    for column in {o[0] for o in occurrences[kept[0]][doc] if o[4] and o[1] == 0}:
        expected = 0
        for t in kept:
            found = next((o for o in occurrences[t][doc] if o[4] and o[0] == column and o[1] == expected), None)
            if found is None:
                break
            expected = found[2] + 1
        else:
            starts = True
            exact = exact or meta.counts[column] == expected
    return exact, starts, exact_terms


def _occurrences(
    terms: Sequence["_Term"],
    kept: list[int],
    positions: "_Positions",
    docs: set[int],
    disabled: set[int],
    phrase_postings: list[list[tuple[tuple[str, ...], bool, list[Posting]]]],
) -> list[dict[int, list[Occurrence]]]:
    """Where each kept term occurs in the given documents (only those: the rest of the match set is never ranked)."""
    occurrences: list[dict[int, list[Occurrence]]] = [{} for _ in terms]
    for t in kept:
        found = occurrences[t]
        for word, (typos, exact) in terms[t].singles.items():
            skip = disabled if typos else ()
            for doc, column, offset in positions.postings.get(word, ()):
                if doc in docs and column not in skip:
                    found.setdefault(doc, []).append((column, offset, offset, typos, exact))
        for words, exact, postings in phrase_postings[t]:
            for doc, column, offset in postings:
                if doc in docs:
                    found.setdefault(doc, []).append((column, offset, offset + len(words) - 1, 0, exact))
    return occurrences


SortColumns = list[tuple["_Column", bool]]


class _BucketSort:
    """Meilisearch's ranking rules as a bucket sort: each rule splits the documents that the rules before it left
    tied, and only the buckets needed to fill the page are split further. The cheap rules (typo, attribute rank,
    sort) need only the postings; the others read the documents' position data, for the buckets they reach."""

    def __init__(
        self,
        kept: list[int],
        occurrences: list[dict[int, list[Occurrence]]],
        positions: _Positions,
        sort_columns: SortColumns,
    ) -> None:
        self.kept = kept
        self.occurrences = occurrences
        self.positions = positions
        self.sort_columns = sort_columns
        self.best: dict[int, list[list[Occurrence]]] = {}
        # Plain functions, not bound methods: a list of bound methods on self would be a reference cycle, left for
        # the cyclic garbage collector with everything it holds (pauses of a hundred milliseconds on a large index).
        cls = _BucketSort
        self.rules: list[tuple[Any, bool]] = [(cls.typo, False)]
        if len(kept) > 1:
            self.rules.append((cls.proximity, True))
        self.rules.append((cls.attribute, False))
        if sort_columns:
            self.rules.append((cls.sort, False))
        self.rules.extend([(cls.word_position, True), (cls.exactness, True)])

    def first(self, docs: list[int], wanted: int, rule: int = 0) -> list[int]:
        """The first `wanted` of `docs` in ranking order (ties last broken by insertion order)."""
        if wanted <= 0:
            return []
        if rule == len(self.rules) or len(docs) == 1:
            return sorted(docs)[:wanted]
        key, needs_positions = self.rules[rule]
        if needs_positions:
            self.positions.meta(docs)
        groups: dict[Any, list[int]] = {}
        for doc in docs:
            groups.setdefault(key(self, doc), []).append(doc)
        ranked: list[int] = []
        for value in sorted(groups):
            ranked.extend(self.first(groups[value], wanted - len(ranked), rule + 1))
            if len(ranked) >= wanted:
                break
        return ranked

    def typo(self, doc: int) -> int:
        """Fewer typos first; later rules look only at the occurrences with the fewest typos."""
        total = 0
        best: list[list[Occurrence]] = []
        for t in self.kept:
            found = self.occurrences[t][doc]
            fewest = min(o[3] for o in found)
            best.append([o for o in found if o[3] == fewest])
            total += fewest
        self.best[doc] = best
        return total

    def proximity(self, doc: int) -> int:
        """Query words closer together (and in query order) first."""
        best, meta = self.best[doc], self.positions.metas[doc]
        return sum(_pair_cost(best[i], best[i + 1], meta) for i in range(len(best) - 1))

    def attribute(self, doc: int) -> int:
        """Matches in earlier searchable attributes first."""
        return sum(min(o[0] for o in found) for found in self.best[doc])

    def sort(self, doc: int) -> tuple[Any, ...]:
        """The query's sort, as a tiebreaker of relevance."""
        return tuple(column.sort_value(doc, descending) for column, descending in self.sort_columns)

    def word_position(self, doc: int) -> int:
        """Matches nearer the start of an attribute first."""
        meta = self.positions.metas[doc]
        return sum(_bucketed_position(min(meta.position(o[0], o[1]) for o in found)) for found in self.best[doc])

    def exactness(self, doc: int) -> tuple[bool, bool, int]:
        """An attribute equal to the query, then one starting with it, then more exact words, first."""
        exact, starts, exact_terms = _exactness(self.kept, self.occurrences, doc, self.positions.metas[doc])
        return not exact, not starts, -exact_terms


# Highlighting and cropping


@dataclass(frozen=True)
class _Match:
    first: int  # word index
    last: int
    start: int  # character offsets in the original text
    end: int
    highlight_end: int
    ids: tuple[int, ...]


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    kind: int  # 0 word, 1 soft separator, 2 hard separator


WORD, SOFT, HARD = 0, 1, 2


class _Matcher:
    """Finds the query's matches in a text, as Meilisearch's highlighter does: phrases first, exact words before
    prefixes; a prefix match covers only as many characters as were typed."""

    def __init__(self, terms: Sequence[_Term]) -> None:
        self.phrases: list[tuple[tuple[str, ...], int]] = []
        words: list[tuple[bool, frozenset[str], int, int]] = []
        for term in terms:
            self.phrases.extend((words_, term.number) for words_, _ in term.phrases if len(words_) > 1)
            if term.singles:
                words.append((term.prefix, frozenset(term.singles), len(term.words[0]), term.number))
        self.words = sorted(words, key=lambda group: group[0])

    def matches(self, tokens: list[Token]) -> list[_Match]:
        found: list[_Match] = []
        i = 0
        while i < len(tokens):
            phrase = next(
                (
                    (words, number)
                    for words, number in self.phrases
                    if tuple(t.folded for t in tokens[i : i + len(words)]) == words
                ),
                None,
            )
            if phrase is not None:
                last = i + len(phrase[0]) - 1
                end = tokens[last].end
                found.append(_Match(i, last, tokens[i].start, end, end, (phrase[1],)))
                i = last + 1
                continue
            match = self._word(tokens[i], i)
            if match is not None:
                found.append(match)
            i += 1
        return found

    def _word(self, token: Token, index: int) -> _Match | None:
        for is_prefix, words, typed, number in self.words:
            if not is_prefix:
                if token.folded in words:
                    return _Match(index, index, token.start, token.end, token.end, (number,))
                continue
            for length in range(len(token.folded), 0, -1):
                if token.folded[:length] in words:
                    end = _original_end(token, min(typed, length))
                    return _Match(index, index, token.start, token.end, end, (number,))
        return None


def _original_end(token: Token, folded_length: int) -> int:
    """Where, in the original text, the first `folded_length` folded characters of the token end."""
    ends = fold_offsets(token.text)
    for i, end in enumerate(ends):
        if end >= folded_length:
            j = i + 1
            while j < len(ends) and ends[j] == end:  # combining marks fold to nothing: keep them with their letter
                j += 1
            return token.start + j
    return token.end


def _pieces(text: str, tokens: list[Token]) -> tuple[list[_Piece], list[int]]:
    """The text as words and separator runs, and the piece index of each word."""
    pieces: list[_Piece] = []
    word_pieces: list[int] = []
    previous = 0
    for token in tokens:
        if token.start > previous:
            pieces.append(_separator(text, previous, token.start))
        word_pieces.append(len(pieces))
        pieces.append(_Piece(token.start, token.end, WORD))
        previous = token.end
    if previous < len(text):
        pieces.append(_separator(text, previous, len(text)))
    return pieces, word_pieces


def _separator(text: str, start: int, end: int) -> _Piece:
    return _Piece(start, end, HARD if any(c in HARD_SEPARATORS for c in text[start:end]) else SOFT)


def _interval_score(matches: Sequence[_Match]) -> tuple[int, int, int]:
    ids: set[int] = set()
    order = distance = 0
    for i, match in enumerate(matches):
        inside = match.last - match.first
        order += inside  # a phrase is ordered and tight
        distance -= inside
        if i + 1 < len(matches):
            following = matches[i + 1]
            if min(following.ids) > min(match.ids):
                order += 1
            distance -= min(following.first - match.last, 7)
        ids.update(match.ids)
    return len(ids), distance, order


def _best_interval(matches: Sequence[_Match], crop: int) -> tuple[_Match, _Match]:
    """The run of matches to crop around: most distinct terms, then closest together, then in query order."""
    best: tuple[tuple[int, int, int], int, int] | None = None

    def consider(first: int, last: int) -> None:
        nonlocal best
        score = _interval_score(matches[first : last + 1])
        if best is None or score > best[0]:
            best = (score, first, last)

    first = 0
    first_position = matches[0].first
    for index, following in enumerate(matches):
        if following.last - first_position >= crop:
            if index:
                consider(first, index - 1)
            while True:
                first += 1
                if first == len(matches):
                    first -= 1
                    break
                first_position = matches[first].first
                if first_position > following.last or following.last - first_position < crop:
                    break
    last = len(matches) - 1
    if first != last or matches[first].last - matches[first].first + 1 < crop:
        consider(first, last)
    if best is None:
        return matches[0], matches[0]
    return matches[best[1]], matches[best[2]]


def _crop_bounds(text: str, tokens: list[Token], matches: list[_Match], crop: int) -> tuple[int, int]:
    """Meilisearch's crop window: grow around the best matches one word at a time, preferring words over separators
    and soft separators over hard ones."""
    pieces, word_pieces = _pieces(text, tokens)
    forward = True
    if matches:
        first, last = _best_interval(matches, crop)
        size = last.last - first.first + 1
        forward = crop >= size
        remaining = crop - size if forward else size - crop
        after = word_pieces[last.last] + 1
        before = word_pieces[first.first] - 1 if forward else -1
        if not forward:
            after = min(after, len(pieces) - 1)
    else:
        remaining, before, after = crop, -1, 0
    step = 1 if forward else -1

    def has_after() -> bool:
        return 0 <= after < len(pieces)

    while remaining > 0:
        b = pieces[before] if before >= 0 else None
        a = pieces[after] if has_after() else None
        if b is not None and a is not None:
            if b.kind != WORD and a.kind != WORD:
                if b.kind == a.kind:
                    before -= 1
                    if remaining > 1:
                        after += step
                elif b.kind == HARD:
                    after += step
                else:
                    before -= 1
            elif b.kind == WORD and a.kind != WORD:
                before -= 1
                remaining -= 1
            elif b.kind != WORD:
                after += step
                remaining -= 1
            else:
                before -= 1
                remaining -= 1
                if remaining > 0:
                    after += step
                    remaining -= 1
        elif b is not None:
            before -= 1
            remaining -= b.kind == WORD
        elif a is not None:
            after += step
            remaining -= a.kind == WORD
        else:
            break
    if forward:
        start = pieces[before].end if before >= 0 else 0
    else:  # one phrase longer than the crop: keep its first words
        start = pieces[word_pieces[first.first]].start
    end = pieces[after].start if has_after() else len(text)
    return start, end


@dataclass(frozen=True)
class _Format:
    highlight: set[str] | None  # attributes to highlight; None for all
    crop: dict[str, int]  # attribute -> crop length
    crop_all: int | None
    highlight_all: bool
    pre: str
    post: str
    marker: str


def _format_text(text: str, matcher: _Matcher, highlight: bool, crop: int | None, options: _Format) -> str:
    tokens = tokenize(text)
    matches = matcher.matches(tokens)
    start, end = (0, len(text))
    if crop:
        start, end = _crop_bounds(text, tokens, matches, crop)
    out: list[str] = []
    if start > 0 and options.marker:
        out.append(options.marker)
    at = start
    if highlight:
        for match in matches:
            if match.end < start or match.start > end:
                continue
            m_start, m_end = max(match.start, start), min(match.end, end)
            if at < m_start:
                out.append(text[at:m_start])
            marked_end = min(max(match.highlight_end, m_start), m_end)
            out.extend((options.pre, text[m_start:marked_end], options.post))
            if marked_end < m_end:
                out.append(text[marked_end:m_end])
            at = m_end
    if at < end:
        out.append(text[at:end])
    if end < len(text) and options.marker:
        out.append(options.marker)
    return "".join(out)


def _format_value(value: Any, matcher: _Matcher, highlight: bool, crop: int | None, options: _Format) -> Any:
    if isinstance(value, str):
        return _format_text(value, matcher, highlight, crop, options)
    if isinstance(value, bool):
        return _format_text("true" if value else "false", matcher, highlight, crop, options)
    if isinstance(value, int | float):
        return _format_text(_number_text(value), matcher, highlight, crop, options)
    if isinstance(value, list):
        return [_format_value(item, matcher, highlight, crop, options) for item in value]
    if isinstance(value, dict):
        return {k: _format_value(v, matcher, highlight, crop, options) for k, v in value.items()}
    return value


def _format_options(params: SearchParams) -> _Format | None:
    if not params.attributes_to_highlight and not params.attributes_to_crop:
        return None
    crop: dict[str, int] = {}
    crop_all: int | None = None
    for entry in params.attributes_to_crop or []:
        if not isinstance(entry, str):
            raise SearchQueryError(
                "Attributes to crop are names, as `description` or `description:20`",
                code="invalid_search_attributes_to_crop",
            )
        name, _, length = entry.rpartition(":") if ":" in entry else (entry, "", "")
        size = params.crop_length
        if length:
            if not length.isdigit():
                raise SearchQueryError(f"Invalid crop length in `{entry}`", code="invalid_search_attributes_to_crop")
            size = int(length)
        if name == "*":
            crop_all = size
        else:
            crop[name] = size
    highlighted = params.attributes_to_highlight or []
    return _Format(
        highlight=set(highlighted),
        crop=crop,
        crop_all=crop_all,
        highlight_all="*" in highlighted,
        pre=params.highlight_pre_tag,
        post=params.highlight_post_tag,
        marker=params.crop_marker,
    )


def _formatted(document: Document, matcher: _Matcher, options: _Format) -> Document:
    result: Document = {}
    for name, value in document.items():
        highlight = options.highlight_all or name in (options.highlight or ())
        crop = options.crop.get(name, options.crop_all)
        if highlight or crop is not None:
            result[name] = _format_value(value, matcher, highlight, crop, options)
        else:
            result[name] = value
    return result


# Filters


def _condition_sql(condition: Condition) -> tuple[str, list[Any]]:
    """The WHERE clause over `search_facet` rows that satisfy one condition."""
    op, values = condition.op, condition.values
    if op in ("EXISTS", "NULL", "EMPTY"):
        return f"kind = '{op.lower()}'", []
    if op in ("=", "IN"):
        texts = sorted({_facet_key(v) for v in values})
        numbers = sorted({n for n in map(_as_number, values) if n is not None})
        parts: list[str] = []
        if texts:
            parts.append(f"(kind = 'str' AND sval_folded IN ({','.join('?' * len(texts))}))")
        if numbers:
            parts.append(f"(kind = 'num' AND nval IN ({','.join('?' * len(numbers))}))")
        return (" OR ".join(parts) or "0"), [*texts, *numbers]
    if op == "TO":
        low, high = _as_number(values[0]), _as_number(values[1])
        if low is not None and high is not None:
            return "kind = 'num' AND nval BETWEEN ? AND ?", [low, high]
        return "kind = 'str' AND sval_folded BETWEEN ? AND ?", [_facet_key(values[0]), _facet_key(values[1])]
    number = _as_number(values[0])
    if number is not None:
        return f"kind = 'num' AND nval {op} ?", [number]
    return f"kind = 'str' AND sval_folded {op} ?", [_facet_key(values[0])]


class _FilterEvaluator:
    """Evaluates a filter tree to a set of documents: one indexed query per condition, sets for NOT, AND and OR."""

    def __init__(self, connection: Connection, index: str) -> None:
        self.connection = connection
        self.index = index
        self._everything: set[int] | None = None

    def everything(self) -> set[int]:
        if self._everything is None:
            rows = _cursor(self.connection).execute("SELECT doc FROM search_doc WHERE idx = ?", (self.index,))
            self._everything = set(map(_FIRST, rows))
        return self._everything

    def evaluate(self, node: FilterNode) -> set[int]:
        if isinstance(node, Condition):
            where, params = _condition_sql(node)
            rows = _cursor(self.connection).execute(
                f"SELECT doc FROM search_facet WHERE idx = ? AND attr = ? AND ({where})",
                (self.index, node.attribute, *params),
            )
            return set(map(_FIRST, rows))
        if isinstance(node, Not):
            return self.everything() - self.evaluate(node.operand)
        if isinstance(node, And):
            result = self.evaluate(node.operands[0])
            for operand in node.operands[1:]:
                if not result:
                    break
                result &= self.evaluate(operand)
            return result
        result = set()
        for operand in node.operands:
            result |= self.evaluate(operand)
        return result


# The backend


class EmbeddedBackend:
    """Search on SQLite: the SearchBackend interface with Meilisearch's rules (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("The embedded search backend needs a SQLite database")
        self._engine = engine
        self._bound: ContextVar[Connection | None] = ContextVar(f"search_connection_{id(self)}", default=None)
        self._schema_ready = False
        self._states: dict[str, _State] = {}

    @contextmanager
    def using(self, connection: Connection) -> Iterator[None]:
        """Run every call in the block on `connection`, inside its transaction, without committing."""
        if connection.dialect.name != "sqlite":
            raise ValueError("The embedded search backend needs a SQLite connection")
        token = self._bound.set(connection)
        try:
            yield
        finally:
            self._bound.reset(token)

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        bound = self._bound.get()
        if bound is not None:
            if not self._schema_ready:
                self._create_schema(bound)
            yield bound
            return
        if not self._schema_ready:
            with self._engine.begin() as connection:
                self._create_schema(connection)
            self._schema_ready = True
        if write:
            with self._engine.begin() as connection:
                yield connection
        else:
            with self._engine.connect() as connection:
                yield connection

    @staticmethod
    def _create_schema(connection: Connection) -> None:
        for statement in _SCHEMA:
            connection.exec_driver_sql(statement)

    def _state(self, connection: Connection, index: str) -> _State:
        row = connection.exec_driver_sql(
            "SELECT settings, version, vocab_version FROM search_index_settings WHERE idx = ?", (index,)
        ).first()
        if row is None:
            raise SearchQueryError(f"Index `{index}` not found.", code="index_not_found")
        settings_text, version, vocab_version = row
        cached = self._states.get(index)
        if cached is not None and cached.version == version:
            return cached
        settings = _settings_from_json(settings_text)
        vocabulary = cached.vocabulary if cached is not None and cached.vocab_version == vocab_version else None
        state = _State(version, vocab_version, settings, vocabulary, synonyms=_synonym_map(settings.synonyms))
        self._states[index] = state
        return state

    def _vocabulary(self, connection: Connection, index: str, state: _State) -> _Vocabulary:
        if state.vocabulary is None:
            rows = connection.exec_driver_sql(
                "SELECT term FROM search_term WHERE idx = ? ORDER BY term", (index,)
            ).scalars()
            state.vocabulary = _Vocabulary(list(rows))
        return state.vocabulary

    def _column(self, connection: Connection, index: str, state: _State, attribute: str) -> _Column:
        if attribute not in state.columns:
            rows = _cursor(connection).execute(
                "SELECT doc, kind, sval, sval_folded, nval FROM search_facet "
                "WHERE idx = ? AND attr = ? AND kind IN ('str', 'num') ORDER BY doc, rowid",
                (index, attribute),
            )
            state.columns[attribute] = _Column(rows)
        return state.columns[attribute]

    def _touch(self, connection: Connection, index: str, words_added: bool) -> None:
        """Give the index a new version (and its vocabulary, when words were added), so every cache reloads."""
        version = uuid.uuid4().hex
        if words_added:
            connection.exec_driver_sql(
                "UPDATE search_index_settings SET version = ?, vocab_version = ? WHERE idx = ?",
                (version, version, index),
            )
        else:
            connection.exec_driver_sql("UPDATE search_index_settings SET version = ? WHERE idx = ?", (version, index))
        self._states.pop(index, None)

    # Writes

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """For a full rebuild: drop the facet table's indexes while the documents are written and build them once at
        the end, which costs far less than keeping them up to date row by row. Searches still work meanwhile (filters
        and facets more slowly); the indexes come back even when the rebuild fails."""
        with self._connection(write=True) as connection:
            for name, _ in _FACET_INDEXES:
                connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        try:
            yield
        finally:
            with self._connection(write=True) as connection:
                for _, statement in _FACET_INDEXES:
                    connection.exec_driver_sql(statement)

    def configure(self, index: str, settings: IndexSettings) -> None:
        """Create the index if needed and apply its settings (re-indexing its documents when the fields change)."""
        _check_index_name(index)
        if not settings.searchable or "*" in settings.searchable:
            raise ValueError("The embedded search backend needs the searchable attributes listed, in rank order")
        with self._connection(write=True) as connection:
            row = connection.exec_driver_sql(
                "SELECT settings FROM search_index_settings WHERE idx = ?", (index,)
            ).first()
            old = _settings_from_json(row[0]) if row is not None else None
            version = uuid.uuid4().hex
            connection.exec_driver_sql(
                "INSERT INTO search_index_settings (idx, settings, version, vocab_version) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (idx) DO UPDATE SET settings = excluded.settings, version = excluded.version",
                (index, _settings_json(settings), version, version),
            )
            self._states.pop(index, None)
            fields_changed = old is None or any(
                getattr(old, name) != getattr(settings, name)
                for name in ("searchable", "filterable", "sortable", "primary_key")
            )
            if fields_changed:
                self._rebuild(connection, index, settings)

    def _rebuild(self, connection: Connection, index: str, settings: IndexSettings) -> None:
        fts, instance = _fts_table(index), _instance_table(index)
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {instance}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")
        columns = ", ".join(f"c{i}" for i in range(len(settings.searchable)))
        connection.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({columns}, tokenize = 'unicode61 remove_diacritics 2')"
        )
        connection.exec_driver_sql(f"CREATE VIRTUAL TABLE {instance} USING fts5vocab({fts}, 'instance')")
        connection.exec_driver_sql("DELETE FROM search_facet WHERE idx = ?", (index,))
        connection.exec_driver_sql("DELETE FROM search_term WHERE idx = ?", (index,))
        rows = connection.exec_driver_sql("SELECT doc, body FROM search_doc WHERE idx = ?", (index,)).all()
        prepared = [(doc, _prepare(json.loads(body), settings)) for doc, body in rows]
        connection.exec_driver_sql("DELETE FROM search_doc WHERE idx = ?", (index,))
        self._insert(connection, index, prepared)
        self._touch(connection, index, words_added=True)

    def _insert(self, connection: Connection, index: str, prepared: list[tuple[int | None, _Prepared]]) -> bool:
        """Write documents (with their number when they keep one); return whether new words were added."""
        cursor = _cursor(connection)
        kept = [(doc, item) for doc, item in prepared if doc is not None]
        new = [item for doc, item in prepared if doc is None]
        if kept:
            cursor.executemany(
                "INSERT INTO search_doc (doc, idx, doc_id, body, meta) VALUES (?, ?, ?, ?, ?)",
                [(doc, index, item.doc_id, item.body, item.meta) for doc, item in kept],
            )
        numbered: list[tuple[int, _Prepared]] = [(doc, item) for doc, item in kept if doc is not None]
        if new:
            # One statement for the batch; the numbers SQLite gave are read back through the (idx, doc_id) key.
            cursor.executemany(
                "INSERT INTO search_doc (idx, doc_id, body, meta) VALUES (?, ?, ?, ?)",
                [(index, item.doc_id, item.body, item.meta) for item in new],
            )
            assigned: dict[str, int] = {}
            for chunk in _chunks([item.doc_id for item in new]):
                marks = ",".join("?" * len(chunk))
                assigned.update(
                    cursor.execute(
                        f"SELECT doc_id, doc FROM search_doc WHERE idx = ? AND doc_id IN ({marks})", (index, *chunk)
                    )
                )
            numbered.extend((assigned[item.doc_id], item) for item in new)
        fts_rows: list[tuple[Any, ...]] = []
        facet_rows: list[tuple[Any, ...]] = []
        terms: set[str] = set()
        for doc, item in numbered:
            fts_rows.append((doc, *item.columns))
            facet_rows.extend((index, doc, *row) for row in item.facets)
            terms.update(item.terms)
        if fts_rows:
            names = ", ".join(f"c{i}" for i in range(len(fts_rows[0]) - 1))
            marks = ", ".join("?" * len(fts_rows[0]))
            cursor.executemany(f"INSERT INTO {_fts_table(index)} (rowid, {names}) VALUES ({marks})", fts_rows)
        if facet_rows:
            cursor.executemany(
                "INSERT INTO search_facet (idx, doc, attr, kind, sval, sval_folded, nval) VALUES (?, ?, ?, ?, ?, ?, ?)",
                facet_rows,
            )
        added = False
        if terms:
            cursor.executemany(
                "INSERT OR IGNORE INTO search_term (idx, term) VALUES (?, ?)", [(index, t) for t in sorted(terms)]
            )
            added = cursor.rowcount != 0
        return added

    def _remove(self, connection: Connection, index: str, docs: Sequence[int]) -> None:
        for chunk in _chunks(docs):
            marks = ",".join("?" * len(chunk))
            connection.exec_driver_sql(f"DELETE FROM {_fts_table(index)} WHERE rowid IN ({marks})", tuple(chunk))
            connection.exec_driver_sql(f"DELETE FROM search_facet WHERE doc IN ({marks})", tuple(chunk))
            connection.exec_driver_sql(f"DELETE FROM search_doc WHERE doc IN ({marks})", tuple(chunk))

    def _docs_by_id(self, connection: Connection, index: str, ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for doc_id, doc in connection.exec_driver_sql(
                f"SELECT doc_id, doc FROM search_doc WHERE idx = ? AND doc_id IN ({marks})", (index, *chunk)
            ).all():
                found[doc_id] = doc
        return found

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Add documents, replacing any with the same primary key (which keep their place in insertion order)."""
        with self._connection(write=True) as connection:
            state = self._state(connection, index)
            prepared = {item.doc_id: item for item in (_prepare(d, state.settings) for d in documents)}
            if not prepared:
                return
            existing = self._docs_by_id(connection, index, list(prepared))
            self._remove(connection, index, list(existing.values()))
            added = self._insert(connection, index, [(existing.get(key), item) for key, item in prepared.items()])
            self._touch(connection, index, words_added=added)

    def delete(self, index: str, ids: Sequence[str]) -> None:
        """Remove documents by primary key (missing ones are ignored)."""
        with self._connection(write=True) as connection:
            if not self._exists(connection, index):
                return
            docs = self._docs_by_id(connection, index, [str(i) for i in ids])
            if docs:
                self._remove(connection, index, list(docs.values()))
                self._touch(connection, index, words_added=False)

    def clear(self, index: str) -> None:
        """Remove every document of the index, keeping its settings."""
        with self._connection(write=True) as connection:
            if not self._exists(connection, index):
                return
            connection.exec_driver_sql(f"DELETE FROM {_fts_table(index)}")
            connection.exec_driver_sql("DELETE FROM search_facet WHERE idx = ?", (index,))
            connection.exec_driver_sql("DELETE FROM search_doc WHERE idx = ?", (index,))
            connection.exec_driver_sql("DELETE FROM search_term WHERE idx = ?", (index,))
            self._touch(connection, index, words_added=True)

    @staticmethod
    def _exists(connection: Connection, index: str) -> bool:
        return (
            connection.exec_driver_sql("SELECT 1 FROM search_index_settings WHERE idx = ?", (index,)).first()
            is not None
        )

    def count(self, index: str) -> int:
        """How many documents the index holds (0 for an index that does not exist)."""
        with self._connection(write=False) as connection:
            return int(
                connection.exec_driver_sql("SELECT count(*) FROM search_doc WHERE idx = ?", (index,)).scalar_one()
            )

    # Search

    def search(self, index: str, params: SearchParams) -> dict[str, Any]:
        """Run a query; raise SearchQueryError for a bad filter, sort, facet or page."""
        started = time.perf_counter()
        _check_numbers(params)
        with self._connection(write=False) as connection:
            state = self._state(connection, index)
            settings = state.settings
            tree = parse_filter(params.filter, settings.filterable)
            sort = parse_sort(params.sort, settings.sortable)
            facets = _facet_names(params.facets, settings.filterable)
            options = _format_options(params)
            query = normalise_query(params.q)
            allowed = self._filtered(connection, index, tree)
            positions = _Positions(connection, index)
            excluded = _excluded(query.negated, positions, allowed)
            page_mode = params.page is not None or params.hits_per_page is not None
            page = params.page if params.page is not None else 1
            per_page = params.hits_per_page if params.hits_per_page is not None else params.limit
            if page_mode:
                start, stop = (page - 1) * per_page, page * per_page
            else:
                start, stop = params.offset, params.offset + params.limit
            wanted = min(max(stop, 0), settings.max_total_hits)
            terms: list[_Term] = []
            if query.placeholder:
                universe, ranked = self._placeholder(connection, index, state, allowed, excluded, sort, wanted)
            else:
                items = _capped(query.positive)
                terms = _plan(items, state, self._vocabulary(connection, index, state))
                universe, ranked = self._rank(
                    connection, index, state, terms, positions, allowed, excluded, sort, wanted
                )
            total = min(len(universe), settings.max_total_hits)
            window = ranked[max(start, 0) : min(stop, settings.max_total_hits)] if stop > start else []
            hits = self._hits(connection, window, _Matcher(terms), options)
            result: dict[str, Any] = {"hits": hits, "query": params.q or ""}
            if page_mode:
                result |= {
                    "hitsPerPage": per_page,
                    "page": page,
                    "totalPages": math.ceil(total / per_page) if per_page else 0,
                    "totalHits": total,
                }
            else:
                result |= {"limit": params.limit, "offset": params.offset, "estimatedTotalHits": total}
            if facets is not None:
                distribution, stats = self._facets(connection, index, state, facets, universe)
                result |= {"facetDistribution": distribution, "facetStats": stats}
        result["processingTimeMs"] = int((time.perf_counter() - started) * 1000)
        return result

    def _filtered(self, connection: Connection, index: str, tree: FilterNode | None) -> set[int] | None:
        if tree is None:
            return None
        return _FilterEvaluator(connection, index).evaluate(tree)

    def _placeholder(
        self,
        connection: Connection,
        index: str,
        state: _State,
        allowed: set[int] | None,
        excluded: set[int],
        sort: list[SortKey],
        wanted: int,
    ) -> tuple[list[int], list[int]]:
        if allowed is None:
            rows = _cursor(connection).execute("SELECT doc FROM search_doc WHERE idx = ? ORDER BY doc", (index,))
            docs = list(map(_FIRST, rows))
        else:
            docs = sorted(allowed)
        universe = [doc for doc in docs if doc not in excluded]
        if not sort:
            return universe, universe[:wanted]
        columns = [(self._column(connection, index, state, key.attribute), key.descending) for key in sort]
        ranked = heapq.nsmallest(wanted, universe, key=lambda doc: (*(c.sort_value(doc, d) for c, d in columns), doc))
        return universe, ranked

    def _rank(
        self,
        connection: Connection,
        index: str,
        state: _State,
        terms: list[_Term],
        positions: _Positions,
        allowed: set[int] | None,
        excluded: set[int],
        sort: list[SortKey],
        wanted: int,
    ) -> tuple[list[int], list[int]]:
        positions.load(w for term in terms for w in [*term.singles, *(x for p, _ in term.phrases for x in p)])
        disabled = {
            number
            for number, name in enumerate(state.settings.searchable)
            if name in state.settings.typo_tolerance.disable_on_attributes
        }
        # Per term: the documents it matches, and those it matches without a typo (set operations, in C).
        matched: list[set[int]] = []
        exact_matched: list[set[int]] = []
        phrase_postings: list[list[tuple[tuple[str, ...], bool, list[Posting]]]] = []
        for term in terms:
            found: set[int] = set()
            typo_free: set[int] = set()
            for word, (typos, _) in term.singles.items():
                if typos and disabled:
                    docs = {doc for doc, column, _ in positions.postings.get(word, ()) if column not in disabled}
                else:
                    docs = positions.docs(word)
                found |= docs
                if not typos:
                    typo_free |= docs
            hits = [(words, exact, positions.phrase_hits(words, allowed)) for words, exact in term.phrases]
            for _, _, postings in hits:
                docs = set(map(_FIRST, postings))
                found |= docs
                typo_free |= docs
            if allowed is not None:
                found &= allowed
                typo_free &= allowed
            matched.append(found)
            exact_matched.append(typo_free)
            phrase_postings.append(hits)
        # matchingStrategy "last": all terms, then without the last word, and so on; the first term and phrases stay.
        buckets = [frozenset(range(len(terms)))]
        for number in reversed(range(1, len(terms))):
            if not terms[number].phrase:
                buckets.append(buckets[-1] - {number})
        required = buckets[-1]
        candidates = set.intersection(*(matched[t] for t in required)) - excluded
        # A document falls in the first bucket whose terms it all matches; the buckets shrink one term at a time.
        grouped: list[list[int]] = []
        placed: set[int] = set()
        for bucket in buckets:
            inside = candidates.intersection(*(matched[t] for t in bucket if t not in required)) - placed
            grouped.append(sorted(inside))
            placed |= inside
        columns = [(self._column(connection, index, state, key.attribute), key.descending) for key in sort]
        ranked: list[int] = []
        for bucket, members in zip(buckets, grouped, strict=True):
            need = wanted - len(ranked)
            if need <= 0:
                break
            kept = sorted(bucket)
            # The typo rule comes first: documents matching every term without a typo rank before all others, so
            # when they fill the page the rest of the bucket is never looked at.
            typo_free = set(members).intersection(*(exact_matched[t] for t in kept))
            parts = [sorted(typo_free)]
            if len(typo_free) < need:
                parts.append([doc for doc in members if doc not in typo_free])
            for part in parts:
                need = wanted - len(ranked)
                if need <= 0 or not part:
                    continue
                occurrences = _occurrences(terms, kept, positions, set(part), disabled, phrase_postings)
                ranked.extend(_BucketSort(kept, occurrences, positions, columns).first(part, need))
        universe = [doc for docs in grouped for doc in docs]
        return universe, ranked[:wanted]

    def _hits(
        self, connection: Connection, docs: Sequence[int], matcher: _Matcher, options: _Format | None
    ) -> list[Document]:
        bodies: dict[int, str] = {}
        cursor = _cursor(connection)
        for chunk in _chunks(docs):
            marks = ",".join("?" * len(chunk))
            bodies.update(cursor.execute(f"SELECT doc, body FROM search_doc WHERE doc IN ({marks})", chunk))
        hits: list[Document] = []
        for doc in docs:
            document: Document = json.loads(bodies[doc])
            if options is not None:
                document["_formatted"] = _formatted(document, matcher, options)
            hits.append(document)
        return hits

    def _facets(
        self, connection: Connection, index: str, state: _State, names: list[str], universe: list[int]
    ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
        distribution: dict[str, dict[str, int]] = {}
        stats: dict[str, dict[str, float]] = {}
        for name in names:
            column = self._column(connection, index, state, name)
            # Count value codes in C (Counter over the documents' shared code tuples), then fold codes into keys.
            by_code = Counter(chain.from_iterable(map(column.docs.get, universe, repeat(()))))
            counts: dict[str, int] = {}
            numbers: dict[str, float] = {}
            found = [column.numbers[code] for code in by_code if column.numbers[code] is not None]
            for code, count in by_code.items():
                key = column.keys[code]
                counts[key] = counts.get(key, 0) + count
                number = column.numbers[code]
                if number is not None:
                    numbers[key] = number
            if column.extra:
                members = set(universe)
                for doc, codes in column.extra.items():
                    if doc in members:
                        found.extend(n for n in (column.numbers[c] for c in codes) if n is not None)
            order = sorted(counts, key=lambda k: (0, numbers[k], "") if k in numbers else (1, 0.0, k))
            shown = {
                key: column.shown_once.get(key) or column.first_shown(key, universe)
                for key in order[: state.settings.max_values_per_facet]
            }
            distribution[name] = {shown[k]: counts[k] for k in order[: state.settings.max_values_per_facet]}
            numeric = [n for n in found if n is not None]
            if numeric:
                stats[name] = {"min": min(numeric), "max": max(numeric)}
        return distribution, stats


def _excluded(negated: Sequence[QueryItem], positions: _Positions, allowed: set[int] | None) -> set[int]:
    """The documents that a negated word or phrase rules out (exact words only, as Meilisearch)."""
    if not negated:
        return set()
    positions.load(w for item in negated for w in item.folded)
    excluded: set[int] = set()
    for item in negated:
        excluded.update(doc for doc, _, _ in positions.phrase_hits(item.folded, allowed))
    return excluded


def _check_numbers(params: SearchParams) -> None:
    checks = (
        ("offset", params.offset, "invalid_search_offset"),
        ("limit", params.limit, "invalid_search_limit"),
        ("page", params.page, "invalid_search_page"),
        ("hitsPerPage", params.hits_per_page, "invalid_search_hits_per_page"),
        ("cropLength", params.crop_length, "invalid_search_crop_length"),
    )
    for name, value, code in checks:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise SearchQueryError(f"`{name}` must be a whole number, 0 or more", code=code)


def _facet_names(facets: list[str] | None, filterable: list[str]) -> list[str] | None:
    if facets is None:
        return None
    names: list[str] = []
    for name in facets:
        if name == "*":
            names.extend(f for f in filterable if f != "*")
        elif not isinstance(name, str) or not is_listed(name, filterable):
            listed = ", ".join(sorted(filterable)) or "none"
            raise SearchQueryError(
                f"Attribute `{name}` is not filterable, so it cannot be a facet. Filterable attributes are: {listed}.",
                code="invalid_search_facets",
            )
        else:
            names.append(name)
    return list(dict.fromkeys(names))
