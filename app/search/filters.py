"""Meilisearch's filter and sort syntax, parsed into a small tree that a backend can evaluate.

The grammar (https://www.meilisearch.com/docs/capabilities/filtering_sorting_faceting/advanced/filter_expression_syntax):

    filter     = or EOF
    or         = and ("OR" and)*
    and        = not ("AND" not)*
    not        = "NOT" not | primary
    primary    = "(" or ")" | condition
    condition  = attribute ( ("=" | "!=" | ">" | ">=" | "<" | "<=") value
                           | value "TO" value
                           | ["NOT"] "IN" "[" value ("," value)* [","] "]"
                           | ["NOT"] "EXISTS"
                           | "IS" ["NOT"] ("NULL" | "EMPTY") )
    value      = word | 'single quoted' | "double quoted"     (a word: letters, digits, `_`, `-`, `.`)

Keywords are upper case, as in Meilisearch; a value that is a keyword must be quoted (`title = "NOT"`). A filter may
also be an array: strings inside are ANDed, strings in a nested array are ORed. `!=`, `NOT IN`, `NOT EXISTS`,
`IS NOT NULL` and `IS NOT EMPTY` are the negation of their positive form, so they include documents that lack the
attribute. Every problem raises `SearchQueryError(code="invalid_search_filter")` with a message naming it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from app.search.base import Filter, SearchQueryError

KEYWORDS = frozenset(["AND", "OR", "IN", "NOT", "TO", "EXISTS", "IS", "NULL", "EMPTY", "CONTAINS", "STARTS", "WITH"])
MAX_DEPTH = 100
MAX_CONDITIONS = 1000
MAX_VALUES = 10_000
_SHOWN_FILTER_LENGTH = 200


@dataclass(frozen=True)
class Condition:
    """One test on an attribute: `op` is one of = > >= < <= TO IN EXISTS NULL EMPTY (`!=` is NOT of `=`)."""

    attribute: str
    op: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Not:
    """Every document that the operand does not select."""

    operand: "FilterNode"


@dataclass(frozen=True)
class And:
    """Documents selected by all operands."""

    operands: tuple["FilterNode", ...]


@dataclass(frozen=True)
class Or:
    """Documents selected by any operand."""

    operands: tuple["FilterNode", ...]


FilterNode = Condition | Not | And | Or


@dataclass(frozen=True)
class SortKey:
    """One `attribute:asc` or `attribute:desc` of a sort."""

    attribute: str
    descending: bool


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # "word", "quoted", "op", "(", ")", "[", "]", ",", "end"
    text: str
    position: int


def _error(message: str) -> SearchQueryError:
    return SearchQueryError(message, code="invalid_search_filter")


def _shown(source: str) -> str:
    return source if len(source) <= _SHOWN_FILTER_LENGTH else source[:_SHOWN_FILTER_LENGTH] + "…"


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char in "_-."


def _lex(source: str) -> list[_Lexeme]:
    lexemes: list[_Lexeme] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
        elif char in "()[],":
            lexemes.append(_Lexeme(char, char, i))
            i += 1
        elif char in "=<>!":
            op = source[i : i + 2] if source[i : i + 2] in ("!=", ">=", "<=") else char
            if op == "!":
                raise _error(f"Unexpected `!` at position {i + 1} in `{_shown(source)}`: did you mean `!=`?")
            lexemes.append(_Lexeme("op", op, i))
            i += len(op)
        elif char in "'\"":
            value, end = _quoted(source, i)
            lexemes.append(_Lexeme("quoted", value, i))
            i = end
        elif _is_word_char(char):
            start = i
            while i < n and _is_word_char(source[i]):
                i += 1
            lexemes.append(_Lexeme("word", source[start:i], start))
        else:
            raise _error(
                f"Unexpected character `{char}` at position {i + 1} in `{_shown(source)}`: "
                "quote values that contain anything but letters, digits, `_`, `-` and `.`"
            )
    lexemes.append(_Lexeme("end", "", n))
    return lexemes


def _quoted(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in (quote, "\\"):
            chars.append(source[i + 1])
            i += 2
        elif char == quote:
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise _error(f"Missing closing {quote} for the value that starts at position {start + 1} in `{_shown(source)}`")


class _Parser:
    def __init__(self, source: str, filterable: Sequence[str]) -> None:
        self.source = source
        self.filterable = filterable
        self.lexemes = _lex(source)
        self.at = 0
        self.conditions = 0
        self.values = 0

    def peek(self) -> _Lexeme:
        return self.lexemes[self.at]

    def next(self) -> _Lexeme:
        lexeme = self.lexemes[self.at]
        if lexeme.kind != "end":
            self.at += 1
        return lexeme

    def keyword(self, word: str) -> bool:
        lexeme = self.peek()
        if lexeme.kind == "word" and lexeme.text == word:
            self.at += 1
            return True
        return False

    def parse(self) -> FilterNode:
        node = self.parse_or(0)
        lexeme = self.peek()
        if lexeme.kind != "end":
            raise _error(
                f"Unexpected `{lexeme.text}` at position {lexeme.position + 1} in `{_shown(self.source)}`: "
                "expected AND, OR or the end of the filter"
            )
        return node

    def check_depth(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _error(f"The filter is nested too deeply (more than {MAX_DEPTH} levels)")

    def parse_or(self, depth: int) -> FilterNode:
        self.check_depth(depth)
        operands = [self.parse_and(depth + 1)]
        while self.keyword("OR"):
            operands.append(self.parse_and(depth + 1))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self, depth: int) -> FilterNode:
        operands = [self.parse_not(depth)]
        while self.keyword("AND"):
            operands.append(self.parse_not(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self, depth: int) -> FilterNode:
        self.check_depth(depth)
        if self.keyword("NOT"):
            operand = self.parse_not(depth + 1)
            return operand.operand if isinstance(operand, Not) else Not(operand)
        return self.parse_primary(depth)

    def parse_primary(self, depth: int) -> FilterNode:
        lexeme = self.peek()
        if lexeme.kind == "(":
            self.next()
            node = self.parse_or(depth + 1)
            closing = self.next()
            if closing.kind != ")":
                raise _error(f"Expected a closing `)` in `{_shown(self.source)}`")
            return node
        if lexeme.kind == "end":
            raise _error(f"Expected a condition at the end of `{_shown(self.source)}`")
        return self.parse_condition()

    def value(self, after: str) -> str:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _error(f"The filter has more than {MAX_VALUES} values")
        lexeme = self.peek()
        if lexeme.kind == "quoted":
            self.next()
            return lexeme.text
        if lexeme.kind == "word":
            if lexeme.text in KEYWORDS:
                raise _error(
                    f"`{lexeme.text}` is a reserved keyword and cannot be a value after `{after}` in "
                    f"`{_shown(self.source)}`: quote it"
                )
            self.next()
            return lexeme.text
        raise _error(f"Expected a value after `{after}` in `{_shown(self.source)}`")

    def parse_condition(self) -> FilterNode:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise _error(f"The filter has more than {MAX_CONDITIONS} conditions")
        first = self.peek()
        if first.kind not in ("word", "quoted"):
            raise _error(f"Expected an attribute at position {first.position + 1} in `{_shown(self.source)}`")
        if first.kind == "word" and first.text in KEYWORDS:
            raise _error(f"Expected an attribute before `{first.text}` in `{_shown(self.source)}`")
        self.next()
        attribute = first.text
        self.check_filterable(attribute)
        lexeme = self.peek()
        if lexeme.kind == "op":
            self.next()
            value = self.value(lexeme.text)
            if lexeme.text == "!=":
                return Not(Condition(attribute, "=", (value,)))
            return Condition(attribute, lexeme.text, (value,))
        if self.keyword("IN"):
            return Condition(attribute, "IN", self.value_list())
        if self.keyword("EXISTS"):
            return Condition(attribute, "EXISTS")
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            if self.keyword("NULL"):
                condition = Condition(attribute, "NULL")
            elif self.keyword("EMPTY"):
                condition = Condition(attribute, "EMPTY")
            else:
                raise _error(f"Expected NULL or EMPTY after `IS` in `{_shown(self.source)}`")
            return Not(condition) if negated else condition
        if self.keyword("NOT"):
            if self.keyword("IN"):
                return Not(Condition(attribute, "IN", self.value_list()))
            if self.keyword("EXISTS"):
                return Not(Condition(attribute, "EXISTS"))
            raise _error(f"Expected IN or EXISTS after `{attribute} NOT` in `{_shown(self.source)}`")
        if lexeme.kind == "word" and lexeme.text in ("CONTAINS", "STARTS"):
            raise _error(f"The `{lexeme.text}` operator is not supported: use =, IN or a range")
        if lexeme.kind in ("word", "quoted"):
            low = self.value(attribute)
            if not self.keyword("TO"):
                raise _error(f"Expected `TO` after `{attribute} {low}` in `{_shown(self.source)}`")
            high = self.value("TO")
            return Condition(attribute, "TO", (low, high))
        raise _error(
            f"Expected an operator (=, !=, >, >=, <, <=, TO, IN, EXISTS, IS) after `{attribute}` "
            f"in `{_shown(self.source)}`"
        )

    def value_list(self) -> tuple[str, ...]:
        if self.next().kind != "[":
            raise _error(f"Expected `[` after `IN` in `{_shown(self.source)}`")
        values: list[str] = []
        while self.peek().kind != "]":
            values.append(self.value("[" if not values else ","))
            if self.peek().kind == ",":
                self.next()
            elif self.peek().kind != "]":
                raise _error(f"Expected `,` or `]` in the list after `IN` in `{_shown(self.source)}`")
        self.next()
        return tuple(values)

    def check_filterable(self, attribute: str) -> None:
        if not is_listed(attribute, self.filterable):
            raise not_filterable(attribute, self.filterable)


def is_listed(attribute: str, attributes: Sequence[str]) -> bool:
    """Whether `attribute` is in `attributes`, directly, through a parent object (`a` lists `a.b`) or by `*`."""
    return any(name in ("*", attribute) or attribute.startswith(name + ".") for name in attributes)


def not_filterable(attribute: str, filterable: Sequence[str]) -> SearchQueryError:
    """The error for a filter on an attribute that the index does not allow."""
    if not filterable:
        return _error(f"Attribute `{attribute}` is not filterable. This index has no filterable attributes.")
    listed = ", ".join(sorted(filterable))
    return _error(f"Attribute `{attribute}` is not filterable. Filterable attributes are: {listed}.")


def parse_filter_expression(source: str, filterable: Sequence[str]) -> FilterNode | None:
    """Parse one filter string; None when it is blank."""
    if not source.strip():
        return None
    return _Parser(source, filterable).parse()


def parse_filter(filter: Filter, filterable: Sequence[str]) -> FilterNode | None:
    """Parse a filter in either form (a string, or an array of strings and arrays of strings); None for no filter."""
    if filter is None:
        return None
    if isinstance(filter, str):
        return parse_filter_expression(filter, filterable)
    if not isinstance(filter, list):
        raise _error("A filter is a string or an array of strings and arrays of strings")
    ands: list[FilterNode] = []
    for element in filter:
        if isinstance(element, str):
            node = parse_filter_expression(element, filterable)
            if node is not None:
                ands.append(node)
        elif isinstance(element, list):
            ors: list[FilterNode] = []
            for inner in element:
                if not isinstance(inner, str):
                    raise _error("A filter array can be nested only once: its inner arrays hold strings")
                node = parse_filter_expression(inner, filterable)
                if node is not None:
                    ors.append(node)
            if ors:
                ands.append(ors[0] if len(ors) == 1 else Or(tuple(ors)))
        else:
            raise _error("A filter array holds strings and arrays of strings only")
    if not ands:
        return None
    return ands[0] if len(ands) == 1 else And(tuple(ands))


def parse_sort(sort: Sequence[str] | None, sortable: Sequence[str]) -> list[SortKey]:
    """Parse `attribute:asc|desc` sort keys, allowing only sortable attributes (else `invalid_search_sort`)."""
    keys: list[SortKey] = []
    for item in sort or []:
        if not isinstance(item, str):
            raise SearchQueryError("Each sort key is a string such as `rating:desc`", code="invalid_search_sort")
        attribute, _, direction = item.strip().rpartition(":")
        if not attribute or direction not in ("asc", "desc"):
            raise SearchQueryError(
                f"Invalid sort `{_shown(item)}`: write `attribute:asc` or `attribute:desc`", code="invalid_search_sort"
            )
        if not is_listed(attribute, sortable):
            listed = ", ".join(sorted(sortable)) or "none"
            raise SearchQueryError(
                f"Attribute `{attribute}` is not sortable. Sortable attributes are: {listed}.",
                code="invalid_search_sort",
            )
        keys.append(SortKey(attribute, direction == "desc"))
    return keys
