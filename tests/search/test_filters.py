"""Meilisearch's filter and sort syntax (`app/search/filters.py`): the trees it builds and the errors it gives."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.search.base import SearchQueryError
from app.search.filters import (
    MAX_DEPTH,
    And,
    Condition,
    Not,
    Or,
    SortKey,
    parse_filter,
    parse_sort,
)

FILTERABLE = ["city", "category", "rating", "founded", "tags", "website", "vendor.name"]


def parse(source: str | list[str | list[str]]) -> object:
    return parse_filter(source, FILTERABLE)


def error(source: str | list[str | list[str]]) -> str:
    with pytest.raises(SearchQueryError) as raised:
        parse(source)
    assert raised.value.code == "invalid_search_filter"
    return raised.value.message


def test_comparisons() -> None:
    assert parse("city = Leeds") == Condition("city", "=", ("Leeds",))
    assert parse("rating>=4.5") == Condition("rating", ">=", ("4.5",))
    assert parse("rating < -1") == Condition("rating", "<", ("-1",))
    assert parse("city != Leeds") == Not(Condition("city", "=", ("Leeds",)))


def test_quoted_values_keep_spaces_keywords_and_escaped_quotes() -> None:
    assert parse("tags = 'council tax'") == Condition("tags", "=", ("council tax",))
    assert parse('city = "NOT"') == Condition("city", "=", ("NOT",))
    assert parse(r"city = 'O\'Neill'") == Condition("city", "=", ("O'Neill",))
    assert parse('website = "https://example.org/ngr"') == Condition("website", "=", ("https://example.org/ngr",))


def test_ranges_sets_and_presence() -> None:
    assert parse("rating 4 TO 4.5") == Condition("rating", "TO", ("4", "4.5"))
    assert parse("city IN [Leeds, York,]") == Condition("city", "IN", ("Leeds", "York"))
    assert parse("city IN []") == Condition("city", "IN", ())
    assert parse("city NOT IN [Leeds]") == Not(Condition("city", "IN", ("Leeds",)))
    assert parse("founded EXISTS") == Condition("founded", "EXISTS")
    assert parse("founded NOT EXISTS") == Not(Condition("founded", "EXISTS"))
    assert parse("website IS NULL") == Condition("website", "NULL")
    assert parse("website IS NOT NULL") == Not(Condition("website", "NULL"))
    assert parse("tags IS EMPTY") == Condition("tags", "EMPTY")
    assert parse("tags IS NOT EMPTY") == Not(Condition("tags", "EMPTY"))


def test_precedence_not_then_and_then_or() -> None:
    york = Condition("city", "=", ("York",))
    leeds = Condition("city", "=", ("Leeds",))
    high = Condition("rating", ">", ("4.6",))
    assert parse("city = York OR city = Leeds AND rating > 4.6") == Or((york, And((leeds, high))))
    assert parse("(city = York OR city = Leeds) AND rating > 4.6") == And((Or((york, leeds)), high))
    assert parse("NOT city = York AND city = Leeds") == And((Not(york), leeds))
    assert parse("NOT NOT city = York") == york


def test_the_array_form_ands_strings_and_ors_inner_arrays() -> None:
    leeds = Condition("city", "=", ("Leeds",))
    york = Condition("city", "=", ("York",))
    assert parse([["city = Leeds", "city = York"], "rating > 4"]) == And(
        (Or((leeds, york)), Condition("rating", ">", ("4",)))
    )
    assert parse(["city = Leeds"]) == leeds
    assert parse([]) is None
    assert parse(["", [" "]]) is None


def test_blank_filters_are_no_filter() -> None:
    assert parse_filter(None, FILTERABLE) is None
    assert parse("   ") is None


def test_nested_attributes_are_filterable_through_their_parent() -> None:
    assert parse("vendor.name = Mosaic") == Condition("vendor.name", "=", ("Mosaic",))
    assert parse_filter("a.b = 1", ["a"]) == Condition("a.b", "=", ("1",))
    assert parse_filter("anything = 1", ["*"]) == Condition("anything", "=", ("1",))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("rating >", "Expected a value after `>` in `rating >`"),
        ("city = ", "Expected a value after `=` in `city = `"),
        ("(city = Leeds", "Expected a closing `)`"),
        ("population > 3", "Attribute `population` is not filterable. Filterable attributes are: category, city,"),
        ("city = Leeds York", "Unexpected `York`"),
        ("city = NOT", "`NOT` is a reserved keyword"),
        ("city = 'Leeds", "Missing closing '"),
        ("city ! Leeds", "did you mean `!=`?"),
        ("city = Leeds AND", "Expected a condition at the end"),
        ("city IN Leeds", "Expected `[` after `IN`"),
        ("city IN [Leeds", "Expected `,` or `]`"),
        ("rating 4 4.5", "Expected `TO`"),
        ("website IS", "Expected NULL or EMPTY after `IS`"),
        ("city NOT = Leeds", "Expected IN or EXISTS"),
        ("city", "Expected an operator"),
        ("city CONTAINS lee", "not supported"),
        ("city = https://x", "Unexpected character `:`"),
        ("= Leeds", "Expected an attribute"),
        ("AND = Leeds", "Expected an attribute before `AND`"),
        (["city = Leeds", 3], "strings and arrays of strings"),
        ([["city = Leeds", ["city = York"]]], "nested only once"),
    ],
)
def test_errors_name_the_problem(source: str | list[str | list[str]], message: str) -> None:
    assert message in error(source)


def test_an_index_without_filterable_attributes_says_so() -> None:
    with pytest.raises(SearchQueryError, match="no filterable attributes"):
        parse_filter("city = Leeds", [])


def test_depth_and_size_are_bounded() -> None:
    assert "nested too deeply" in error("(" * (MAX_DEPTH + 1) + "city = Leeds" + ")" * (MAX_DEPTH + 1))
    assert "nested too deeply" in error("NOT " * (MAX_DEPTH + 1) + "city = Leeds")
    assert "conditions" in error(" OR ".join(["city = Leeds"] * 1001))
    assert "values" in error("city IN [" + ",".join(["Leeds"] * 10_001) + "]")


def test_long_filters_are_shortened_in_messages() -> None:
    message = error("city = " + "x" * 1000 + " y")
    assert len(message) < 400


def test_sort() -> None:
    assert parse_sort(["rating:desc", "name:asc"], ["name", "rating"]) == [
        SortKey("rating", True),
        SortKey("name", False),
    ]
    assert parse_sort(None, []) == []


@pytest.mark.parametrize(
    ("sort", "message"),
    [
        (["city:asc"], "Attribute `city` is not sortable. Sortable attributes are: name, rating."),
        (["rating"], "write `attribute:asc` or `attribute:desc`"),
        (["rating:up"], "write `attribute:asc` or `attribute:desc`"),
        ([":asc"], "write `attribute:asc`"),
    ],
)
def test_sort_errors(sort: list[str], message: str) -> None:
    with pytest.raises(SearchQueryError) as raised:
        parse_sort(sort, ["name", "rating"])
    assert raised.value.code == "invalid_search_sort"
    assert message in raised.value.message


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=200))
def test_any_text_parses_or_raises_a_filter_error(source: str) -> None:
    try:
        parse(source)
    except SearchQueryError as raised:
        assert raised.code == "invalid_search_filter"
        assert raised.message
