"""Watched terms: words and phrases an admin gives an action, as Discourse's watched words (WW-1 to WW-7).

Policy:

- A term matches as a whole word, ignoring case unless the term is case sensitive, by Unicode word boundaries:
  `(?:\\W|^)(TERM)(?=\\W|$)`. `*` stands for any run of non-space characters and a space for any run of spaces;
  every other character is literal. So `fraud` finds "FRAUD!" but not "defrauded", which `*fraud*` finds, and
  `*corrupt*` also finds "incorruptible" (a known false positive of wildcards).
- Each term has exactly one action. Adding a term again moves it to the new action; the audit log keeps the old one.
- At submission the actions apply in this order (WW-5): `block` refuses the text and names every blocked term it
  found; `require_approval` sends it to the moderation queue as a finding; `flag` lets a trusted officer's text
  publish but opens a queue item. `replace` rewrites the text when it is saved, before it is sanitised. `censor`
  never changes what is stored: it is applied when text is shown, to text only (never to markup), each character of
  a match becoming ■, so changing the list changes how old contributions read at once.
- A term found where a built-in detector already found something (an allegation word, a confidentiality marker, a
  price) is not reported twice: the detector's finding, with its specific advice, stands.
- Submission and each page read the terms from the database (one small query) and reuse the compiled expressions
  while the terms are unchanged, so a change applies in every process at once. The API's response bodies, which
  have no session, use lists cached for `CACHE_SECONDS`, cleared at once by a change made in the same process.
- The seed lists (`app/moderation/seeds/`) are loaded once per list version by `supplier-intel init`. They leave out
  words the allegation and confidentiality detectors already find, so that those detectors' judgement of ordinary
  uses ("data corruption", "counter-fraud team") is not overruled, and words that are everyday council vocabulary
  (crime, police, tribunal, prosecution, "investigated", "lies in"). Loading never changes or brings back a term an
  admin changed or removed.
"""

import csv
import html
import io
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from app import audit
from app.db import get_engine
from app.errors import Conflict, InvalidInput, NotFound
from app.models import AuditLog, Severity, User, WatchedAction, WatchedTerm
from app.moderation import screening
from app.moderation.sanitize import HIGHLIGHT_POST, HIGHLIGHT_PRE, TextTooLong, clean_text, highlight_spans

MAX_TERM_LENGTH = 100
MAX_REPLACEMENT_LENGTH = 200
MAX_TERMS_PER_ACTION = 2000
MAX_TEST_TEXT = 10_000
MAX_IMPORT_BYTES = 1_000_000
CACHE_SECONDS = 30
CENSOR_CHARACTER = "\u25a0"  # ■
CSV_COLUMNS = ("term", "action", "replacement", "category", "case_sensitive")

# The order actions apply at submission (WW-5), which is also the order the admin page lists them in.
ACTIONS = (
    WatchedAction.block,
    WatchedAction.require_approval,
    WatchedAction.flag,
    WatchedAction.replace_with,
    WatchedAction.censor,
)
ACTION_LABELS = {
    WatchedAction.block: "Block",
    WatchedAction.require_approval: "Require approval",
    WatchedAction.flag: "Flag",
    WatchedAction.replace_with: "Replace",
    WatchedAction.censor: "Censor",
}
ACTION_HINTS = {
    WatchedAction.block: "The contribution is refused until the author removes the term.",
    WatchedAction.require_approval: "A moderator must approve the contribution before it is published.",
    WatchedAction.flag: "A trusted officer's contribution is published, and a moderator is asked to look at it.",
    WatchedAction.replace_with: "The term is replaced by your replacement text when the contribution is saved.",
    WatchedAction.censor: "Stored as written, but shown as ■■■ on supplier pages, in search and in the API.",
}

LEGAL_RISK = "legal_risk"
CRIME_ALLEGATION = "crime_allegation"
CATEGORIES = {
    LEGAL_RISK: "Legal risk",
    CRIME_ALLEGATION: "Alleged crime",
    "confidentiality": "Confidentiality",
    "protective_marking": "Protective marking",
    "personal_data": "Personal data",
    "profanity": "Profanity",
    "other": "Other",
}

DETECTOR = "watched_term"  # a require_approval term: the finding a moderator sees
FLAG_DETECTOR = "watched_term_flag"  # a flag term: the text may publish, a moderator looks at it
BLOCK_DETECTOR = "watched_term_block"  # a block term: only ever shown in the preview, never saved
SEEDS_DIR = Path(__file__).parent / "seeds"
SEED_LISTS = (("watched-terms-v1.csv", "2026-11-v1"),)  # file, list version: each loaded once


# --- matching ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    term: str
    action: WatchedAction
    replacement: str | None = None
    category: str | None = None
    case_sensitive: bool = False


@dataclass(frozen=True)
class Match:
    """Where a rule's term was found in a text: `text` is what was written there."""

    rule: Rule
    start: int
    end: int
    text: str


def normalise(term: str) -> str:
    """A term as stored: trimmed, single spaces, no repeated `*`."""
    return re.sub(r"\*+", "*", " ".join(term.split()))


def term_key(term: str) -> str:
    """What makes two terms the same term (WW-1: unique after normalisation, whatever their case)."""
    return normalise(term).casefold()


def term_pattern(term: str) -> str:
    """The regular expression for one term: `*` is any non-space run, a space any space run, the rest literal."""
    parts = []
    for word in normalise(term).split(" "):
        parts.append(r"\S*".join(re.escape(piece) for piece in word.split("*")))
    return r"\s+".join(parts)


_NOT_WORD = re.compile(r"\W")


@dataclass(frozen=True)
class Matcher:
    """All the terms of one action compiled into one expression, so a text is scanned once per action."""

    rules: tuple[Rule, ...]
    pattern: re.Pattern[str] | None

    @classmethod
    def build(cls, rules: Iterable[Rule]) -> "Matcher":
        # Longer terms first, so that at one position "TOP SECRET" wins over "SECRET".
        ordered = tuple(sorted(rules, key=lambda rule: (-len(rule.term), rule.term)))
        if not ordered:
            return cls(rules=(), pattern=None)
        alternatives = "|".join(
            f"({term_pattern(rule.term)})" if rule.case_sensitive else f"((?i:{term_pattern(rule.term)}))"
            for rule in ordered
        )
        return cls(rules=ordered, pattern=re.compile(rf"(?:\W|^)(?:{alternatives})(?=\W|$)"))

    def finditer(self, text: str) -> Iterator[Match]:
        if self.pattern is None or not text:
            return
        for m in self.pattern.finditer(text):
            group = m.lastindex or 0
            rule = self.rules[group - 1]
            start, end = m.span(group)
            # A wildcard at either end takes any non-space run, punctuation too: "corrupt," is reported as "corrupt".
            if rule.term.startswith("*"):
                while start < end and _NOT_WORD.match(text, start):
                    start += 1
            if rule.term.endswith("*"):
                while end > start and _NOT_WORD.match(text, end - 1):
                    end -= 1
            if start < end:
                yield Match(rule=rule, start=start, end=end, text=text[start:end])


@dataclass(frozen=True)
class WatchedLists:
    """The compiled terms of each action."""

    matchers: Mapping[WatchedAction, Matcher]

    @classmethod
    def build(cls, rules: Iterable[Rule]) -> "WatchedLists":
        by_action: dict[WatchedAction, list[Rule]] = {action: [] for action in ACTIONS}
        for rule in rules:
            by_action[rule.action].append(rule)
        return cls(matchers={action: Matcher.build(found) for action, found in by_action.items()})

    def find(self, text: str, action: WatchedAction) -> list[Match]:
        """Every match of the action's terms in the text, in order."""
        return list(self.matchers[action].finditer(text))

    def first(self, text: str, action: WatchedAction) -> Match | None:
        return next(self.matchers[action].finditer(text), None)

    def replace(self, text: str) -> str:
        """The text with each `replace` term swapped for its replacement."""
        matches = self.find(text, WatchedAction.replace_with)
        for match in reversed(matches):
            text = text[: match.start] + (match.rule.replacement or "") + text[match.end :]
        return text

    def censor(self, text: str) -> str:
        """The text with each character of every `censor` match but spaces turned into ■ (same length)."""
        matches = self.find(text, WatchedAction.censor)
        if not matches:
            return text
        characters = list(text)
        for match in matches:
            for index in range(match.start, match.end):
                if not characters[index].isspace():
                    characters[index] = CENSOR_CHARACTER
        return "".join(characters)

    def censor_segments(self, segments: Sequence[str]) -> list[str]:
        """Censor text split into pieces (the text nodes around markup) as one text, so a term split by a <mark>
        is still found; each piece keeps its length."""
        joined = "".join(segments)
        censored = self.censor(joined)
        if censored == joined:
            return list(segments)
        pieces, position = [], 0
        for segment in segments:
            pieces.append(censored[position : position + len(segment)])
            position += len(segment)
        return pieces


def rule_of(row: WatchedTerm) -> Rule:
    return Rule(
        term=row.term,
        action=row.action,
        replacement=row.replacement,
        category=row.category,
        case_sensitive=row.case_sensitive,
    )


# --- the cache -----------------------------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_compiled: tuple[tuple[Rule, ...], WatchedLists] | None = None  # the rules last read, compiled
_current: tuple[str, float, WatchedLists] | None = None  # for code without a session: database URL, when, lists


def load(session: Session) -> WatchedLists:
    """The watched terms as the database has them now (one query), compiled again only when they have changed."""
    global _compiled
    rules = tuple(sorted((rule_of(row) for row in session.exec(select(WatchedTerm)).all()), key=lambda r: r.term))
    cached = _compiled
    if cached is not None and cached[0] == rules:
        return cached[1]
    lists = WatchedLists.build(rules)
    with _cache_lock:
        _compiled = (rules, lists)
    return lists


def current() -> WatchedLists:
    """The lists of the application's database for code without a session (the API's response bodies): read again
    after a change made here, or after CACHE_SECONDS for a change made by another process."""
    global _current
    cached = _current
    engine = get_engine()
    if cached is not None and cached[0] == str(engine.url) and time.monotonic() - cached[1] < CACHE_SECONDS:
        return cached[2]
    with Session(engine) as session:
        lists = load(session)
    with _cache_lock:
        _current = (str(engine.url), time.monotonic(), lists)
    return lists


def invalidate() -> None:
    """Forget the cached lists; every change to the watched terms calls this."""
    global _compiled, _current
    with _cache_lock:
        _compiled = _current = None


# --- display -------------------------------------------------------------------------------------------------------

_TAG = re.compile(r"(<[^>]*>)")
_SENTINELS = re.compile(f"([{HIGHLIGHT_PRE}{HIGHLIGHT_POST}])")


def censor_text(text: str | None, lists: WatchedLists | None = None) -> str | None:
    """Plain text as it may be shown: each censored term's characters as ■."""
    if not text:
        return text
    return (lists or current()).censor(text)


def censor_markup(markup: Markup, lists: WatchedLists | None = None) -> Markup:
    """Escaped HTML (as `sanitize` builds it) with the terms censored in its text, never in its tags or attributes."""
    parts = _TAG.split(str(markup))
    texts = [html.unescape(part) for part in parts[0::2]]
    censored = (lists or current()).censor_segments(texts)
    if censored == texts:
        return markup
    parts[0::2] = [str(escape(text)) for text in censored]
    return Markup("".join(parts))


def censor_highlighted(text: str, lists: WatchedLists | None = None) -> str:
    """A search backend's text, its matches between highlight sentinels, censored without moving a sentinel."""
    parts = _SENTINELS.split(text)
    parts[0::2] = (lists or current()).censor_segments(parts[0::2])
    return "".join(parts)


def censor(value: Any, lists: WatchedLists | None = None) -> Any:
    """Plain text or Markup in, the same kind out, censored; anything else unchanged."""
    if isinstance(value, Markup):
        return censor_markup(value, lists)
    if isinstance(value, str):
        return censor_text(value, lists)
    return value


@pass_context
def censor_filter(context: Context, value: Any) -> Any:
    """The Jinja filter `censor`. A page reads the lists once, on its first censored text, so every worker shows a
    change at once and a page costs one query however many contributions it shows."""
    if not value or not isinstance(value, str):
        return value
    request = context.get("request")
    state = getattr(request, "state", None)
    if state is None:
        return censor(value)
    lists = getattr(state, "watched_lists", None)
    if lists is None:
        with Session(get_engine()) as session:
            lists = state.watched_lists = load(session)
    return censor(value, lists)


# --- submission ----------------------------------------------------------------------------------------------------


def replace_fields(session: Session, raw: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A copy of the submitted values with the `replace` terms applied to the named text fields."""
    lists = load(session)
    replaced = dict(raw)
    for name in names:
        value = raw.get(name)
        if isinstance(value, str) and value:
            replaced[name] = lists.replace(value)
    return replaced


def blocked_terms(session: Session, text: str | None) -> list[str]:
    """Every distinct blocked term written in the text, as written, in order (all of them, WW-3)."""
    if not text:
        return []
    seen: dict[str, str] = {}
    for match in load(session).find(text, WatchedAction.block):
        seen.setdefault(match.text.casefold(), match.text)
    return list(seen.values())


def blocked_message(label: str, terms: Sequence[str]) -> str:
    """The form and API error for a field with blocked terms, naming every one."""
    quoted = [f"“{term}”" for term in terms]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    them = "it" if len(terms) == 1 else "them"
    return f"{label} contains {listed}, which cannot be published. Remove {them} and try again"


def severity_of(rule: Rule) -> Severity:
    return Severity.high if rule.category in (LEGAL_RISK, CRIME_ALLEGATION) else Severity.medium


def findings(
    session: Session, fields: Mapping[str, str | None], *, found: Sequence[screening.Hit] = ()
) -> list[screening.Hit]:
    """Hits for the block, require_approval and flag terms in each field, leaving out any span a detector found."""
    lists = load(session)
    hits: list[screening.Hit] = []
    for name, text in fields.items():
        if not text:
            continue
        taken = [(hit.start, hit.end) for hit in found if hit.field == name]
        for action, detector in (
            (WatchedAction.block, BLOCK_DETECTOR),
            (WatchedAction.require_approval, DETECTOR),
            (WatchedAction.flag, FLAG_DETECTOR),
        ):
            for match in lists.find(text, action):
                if any(match.start < end and start < match.end for start, end in taken):
                    continue
                taken.append((match.start, match.end))
                hits.append(
                    screening.Hit(
                        field=name,
                        detector=detector,
                        category=match.rule.category or DETECTOR,
                        severity=Severity.high if action == WatchedAction.block else severity_of(match.rule),
                        start=match.start,
                        end=match.end,
                        message=screening.MESSAGES[detector],
                    )
                )
    return sorted(hits, key=lambda hit: (list(fields).index(hit.field), hit.start))


# --- the admin's list ----------------------------------------------------------------------------------------------


@dataclass
class TermData:
    term: str
    action: WatchedAction
    replacement: str | None
    category: str | None
    case_sensitive: bool


@dataclass
class Saved:
    """What a change did: the row, and the action it had before (None for a new term)."""

    row: WatchedTerm
    moved_from: WatchedAction | None = None
    created: bool = False


def _bool(value: Any) -> bool | None:
    text = str(value or "").strip().casefold()
    return {"": False, "yes": True, "true": True, "on": True, "1": True, "no": False, "false": False, "0": False}.get(
        text
    )


def parse_term(raw: Mapping[str, Any]) -> TermData:
    """Check a term from the form or a CSV row; InvalidInput with a message per field."""
    errors: dict[str, str] = {}
    try:
        term = normalise(clean_text(str(raw.get("term") or ""), max_length=MAX_TERM_LENGTH * 4))
    except TextTooLong:
        term = "x" * (MAX_TERM_LENGTH + 1)
    if not term.replace("*", "").strip():
        errors["term"] = "Enter a word or phrase to watch"
    elif len(term) > MAX_TERM_LENGTH:
        errors["term"] = f"The word or phrase must be {MAX_TERM_LENGTH} characters or fewer"
    action: WatchedAction | None = None
    try:
        action = WatchedAction(str(raw.get("action") or "").strip().casefold().replace(" ", "_"))
    except ValueError:
        errors["action"] = "Select what happens when the term is found"
    try:
        replacement = clean_text(str(raw.get("replacement") or ""), max_length=MAX_REPLACEMENT_LENGTH) or None
    except TextTooLong:
        replacement = None
        errors["replacement"] = f"The replacement must be {MAX_REPLACEMENT_LENGTH} characters or fewer"
    if action == WatchedAction.replace_with and not replacement and "replacement" not in errors:
        errors["replacement"] = "Enter the text that replaces the term"
    if action != WatchedAction.replace_with:
        replacement = None
    category = str(raw.get("category") or "").strip() or None
    if category is not None and category not in CATEGORIES:
        errors["category"] = "Select a category from the list, or none"
    case_sensitive = _bool(raw.get("case_sensitive"))
    if case_sensitive is None:
        errors["case_sensitive"] = "Case sensitive must be yes or no"
    if errors:
        raise InvalidInput(errors)
    assert action is not None
    return TermData(
        term=term, action=action, replacement=replacement, category=category, case_sensitive=bool(case_sensitive)
    )


def list_terms(session: Session) -> dict[WatchedAction, list[WatchedTerm]]:
    """Every term, grouped by action in the order they apply, alphabetical within an action."""
    rows = session.exec(select(WatchedTerm)).all()
    grouped: dict[WatchedAction, list[WatchedTerm]] = {action: [] for action in ACTIONS}
    for row in sorted(rows, key=lambda row: term_key(row.term)):
        grouped[row.action].append(row)
    return grouped


def get_term(session: Session, *, term_id: int) -> WatchedTerm:
    row = session.get(WatchedTerm, term_id)
    if row is None:
        raise NotFound("There is no such watched term. Someone may have removed it already.")
    return row


def _find(session: Session, term: str) -> WatchedTerm | None:
    key = term_key(term)
    return next((row for row in session.exec(select(WatchedTerm)).all() if term_key(row.term) == key), None)


def _count(session: Session, action: WatchedAction) -> int:
    return session.exec(select(func.count()).select_from(WatchedTerm).where(WatchedTerm.action == action)).one()


def _check_room(session: Session, action: WatchedAction, *, adding: int = 1) -> None:
    if _count(session, action) + adding > MAX_TERMS_PER_ACTION:
        raise InvalidInput(
            {"term": f"{ACTION_LABELS[action]} already has {MAX_TERMS_PER_ACTION:,} terms. Remove some first"}
        )


def _apply(row: WatchedTerm, data: TermData) -> None:
    row.term = data.term
    row.action = data.action
    row.replacement = data.replacement
    row.category = data.category
    row.case_sensitive = data.case_sensitive


def _state(row: WatchedTerm) -> dict[str, Any]:
    return {
        "term": row.term,
        "action": row.action.value,
        "replacement": row.replacement,
        "category": row.category,
        "case_sensitive": row.case_sensitive,
    }


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "Someone else changed the watched terms at the same time. Check the list and try again."
        ) from None
    finally:
        invalidate()


def add_term(session: Session, *, actor: User, data: TermData) -> Saved:
    """Add a term, or move it (with its new settings) when it is already on a list; recorded in the audit log."""
    row = _find(session, data.term)
    if row is None:
        _check_room(session, data.action)
        row = WatchedTerm(term=data.term, action=data.action, created_by_id=actor.id)
        _apply(row, data)
        session.add(row)
        session.flush()
        audit.record(
            session, actor=actor, action="watched_term_added", entity_type="watched_term", entity_id=row.id or 0,
            to_state=row.action.value, detail=_state(row),
        )  # fmt: skip
        _commit(session)
        return Saved(row=row, created=True)
    return _change(session, actor=actor, row=row, data=data)


def update_term(session: Session, *, actor: User, term_id: int, data: TermData) -> Saved:
    """Change a term's wording or settings; Conflict-free InvalidInput when the new wording is another term's."""
    row = get_term(session, term_id=term_id)
    other = _find(session, data.term)
    if other is not None and other.id != row.id:
        raise InvalidInput(
            {"term": f"“{other.term}” is already a watched term ({ACTION_LABELS[other.action]}). Change that one"}
        )
    return _change(session, actor=actor, row=row, data=data)


def _change(session: Session, *, actor: User, row: WatchedTerm, data: TermData) -> Saved:
    before = row.action
    if data.action != before:
        _check_room(session, data.action)
    old = _state(row)
    _apply(row, data)
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="watched_term_moved" if before != row.action else "watched_term_changed",
        entity_type="watched_term",
        entity_id=row.id or 0,
        from_state=before.value,
        to_state=row.action.value,
        detail={"before": old, "after": _state(row)},
    )
    _commit(session)
    return Saved(row=row, moved_from=before if before != row.action else None)


def delete_term(session: Session, *, actor: User, term_id: int) -> str:
    """Remove a term from its list; returns the term."""
    row = get_term(session, term_id=term_id)
    state = _state(row)
    session.delete(row)
    audit.record(
        session, actor=actor, action="watched_term_removed", entity_type="watched_term", entity_id=term_id,
        from_state=state["action"], detail=state,
    )  # fmt: skip
    _commit(session)
    return str(state["term"])


# --- testing a text ------------------------------------------------------------------------------------------------


@dataclass
class ActionResult:
    action: WatchedAction
    label: str
    matches: list[Match]
    highlighted: Markup | None


@dataclass
class TextCheck:
    text: str
    results: list[ActionResult] = field(default_factory=list)
    replaced: str | None = None
    censored: str | None = None

    @property
    def total(self) -> int:
        return sum(len(result.matches) for result in self.results)


def check_text(session: Session, *, text: str) -> TextCheck:
    """What each action's terms find in a text, with the spans highlighted (WW-6)."""
    try:
        cleaned = clean_text(text, max_length=MAX_TEST_TEXT)
    except TextTooLong as error:
        raise InvalidInput(
            {"text": f"The text must be {MAX_TEST_TEXT:,} characters or fewer (it has {error.length:,})"}
        ) from None
    if not cleaned:
        raise InvalidInput({"text": "Enter some text to test"})
    lists = load(session)
    result = TextCheck(text=cleaned)
    for action in ACTIONS:
        matches = lists.find(cleaned, action)
        level = Severity.critical if action == WatchedAction.block else Severity.medium
        spans = [(m.start, m.end, level.value) for m in matches]
        result.results.append(
            ActionResult(
                action=action,
                label=ACTION_LABELS[action],
                matches=matches,
                highlighted=highlight_spans(cleaned, spans) if matches else None,
            )
        )
    replaced = lists.replace(cleaned)
    result.replaced = replaced if replaced != cleaned else None
    censored = lists.censor(cleaned)
    result.censored = censored if censored != cleaned else None
    return result


# --- CSV -----------------------------------------------------------------------------------------------------------


def export_csv(session: Session) -> str:
    """Every term as CSV (term, action, replacement, category, case_sensitive), by action then term."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for action, rows in list_terms(session).items():
        for row in rows:
            writer.writerow(
                [
                    row.term,
                    action.value,
                    row.replacement or "",
                    row.category or "",
                    "yes" if row.case_sensitive else "no",
                ]
            )
    return buffer.getvalue()


@dataclass
class ImportResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def _read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with their line numbers; InvalidInput for a file that is not such a CSV."""
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput({"file": f"The file must be smaller than {MAX_IMPORT_BYTES // 1000:,} KB"})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput({"file": "The file must be a CSV file saved as UTF-8"}) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().casefold() for name in reader.fieldnames or []]
    missing = [name for name in ("term", "action") if name not in header]
    if missing:
        raise InvalidInput(
            {"file": f"The first row must name the columns {', '.join(CSV_COLUMNS)} (missing: {', '.join(missing)})"}
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        values = {name: (value or "") for name, value in row.items() if isinstance(name, str)}
        if any(v.strip() for v in values.values()):
            rows.append((reader.line_num, values))
    if not rows:
        raise InvalidInput({"file": "The file has no terms in it"})
    return rows


def import_csv(session: Session, *, actor: User, content: bytes) -> ImportResult:
    """Add or move every term of a CSV file, all or nothing: any bad row stops the import with its line number."""
    rows = _read_rows(content)
    problems: list[str] = []
    parsed: list[TermData] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        try:
            data = parse_term(raw)
        except InvalidInput as error:
            problems.append(f"Line {line}: {'; '.join(error.errors.values())}")
            continue
        key = term_key(data.term)
        if key in seen:
            problems.append(f"Line {line}: “{data.term}” is already on line {seen[key]}")
            continue
        seen[key] = line
        parsed.append(data)
    if problems:
        shown = problems[:10] + ([f"and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise InvalidInput({"file": "Nothing was imported. " + ". ".join(shown)})
    existing = {term_key(row.term): row for row in session.exec(select(WatchedTerm)).all()}
    counts = {action: _count(session, action) for action in ACTIONS}
    result = ImportResult()
    for data in parsed:
        row = existing.get(term_key(data.term))
        if row is not None and _state(row) == {**_state(row), **_as_state(data)}:
            result.unchanged += 1
            continue
        if row is None or row.action != data.action:
            counts[data.action] += 1
            if row is not None:
                counts[row.action] -= 1
        if row is None:
            row = WatchedTerm(term=data.term, action=data.action, created_by_id=actor.id)
            result.added += 1
        else:
            result.changed += 1
        _apply(row, data)
        session.add(row)
    full = [ACTION_LABELS[action] for action in ACTIONS if counts[action] > MAX_TERMS_PER_ACTION]
    if full:
        session.rollback()
        raise InvalidInput(
            {"file": f"Nothing was imported: {', '.join(full)} would have more than {MAX_TERMS_PER_ACTION:,} terms"}
        )
    session.flush()
    audit.record(
        session, actor=actor, action="watched_terms_imported", entity_type="watched_term", entity_id="csv",
        detail={"added": result.added, "changed": result.changed, "terms": [d.term for d in parsed]},
    )  # fmt: skip
    _commit(session)
    return result


def _as_state(data: TermData) -> dict[str, Any]:
    return {
        "term": data.term,
        "action": data.action.value,
        "replacement": data.replacement,
        "category": data.category,
        "case_sensitive": data.case_sensitive,
    }


# --- seed lists ----------------------------------------------------------------------------------------------------


def seed_rows(file_name: str) -> list[TermData]:
    """The terms of one seed list, checked as an import would check them."""
    with (SEEDS_DIR / file_name).open(encoding="utf-8", newline="") as seed:
        return [parse_term(row) for row in csv.DictReader(seed)]


def seed_watched_terms(session: Session) -> int:
    """Load each seed list version not loaded before; add only terms not on any list. Returns how many were added.

    A version is loaded once (the audit log records it), so a seed term an admin moved or removed stays as they
    left it, and a later list version adds only its new terms.
    """
    loaded = set(
        session.exec(
            select(AuditLog.entity_id).where(
                AuditLog.entity_type == "watched_term_list", AuditLog.action == "watched_terms_seeded"
            )
        ).all()
    )
    existing = {term_key(row.term) for row in session.exec(select(WatchedTerm)).all()}
    added = 0
    for file_name, version in SEED_LISTS:
        if version in loaded:
            continue
        terms = []
        for data in seed_rows(file_name):
            if term_key(data.term) in existing:
                continue
            existing.add(term_key(data.term))
            row = WatchedTerm(term=data.term, action=data.action, list_version=version)
            _apply(row, data)
            session.add(row)
            terms.append(data.term)
        audit.record(
            session, actor=None, action="watched_terms_seeded", entity_type="watched_term_list", entity_id=version,
            detail={"file": file_name, "terms": terms},
        )  # fmt: skip
        added += len(terms)
    _commit(session)
    return added


# The contributors' text attributes of search documents (reviews and pilots), censored in the search API's hits.
CENSORED_ATTRIBUTES = ("headline", "worked_well", "did_not_work", "advice", "title", "problem", "lessons")


def censor_hit(hit: dict[str, Any]) -> None:
    """Censor a search hit's text attributes in place, in its plain values and its highlighted `_formatted` ones."""
    formatted = hit.get("_formatted")
    for name in CENSORED_ATTRIBUTES:
        if isinstance(hit.get(name), str):
            hit[name] = censor_text(hit[name])
        if isinstance(formatted, dict) and isinstance(formatted.get(name), str):
            formatted[name] = censor_highlighted(formatted[name])
