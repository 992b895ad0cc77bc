"""The query policy (`app/search/normalise.py`, spec §6) and the word cutting both backends share."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.search.normalise import MAX_QUERY_LENGTH, QueryItem, fold, index_words, normalise_query, tokenize

DETERMINISTIC = settings(max_examples=300, derandomize=True, database=None, deadline=None)


def _words(q: str) -> list[tuple[tuple[str, ...], bool, bool]]:
    return [(item.words, item.phrase, item.negated) for item in normalise_query(q).items]


def test_none_and_blank_queries_are_placeholder_searches() -> None:
    for q in (None, "", "   ", '"', "-", "*", "()", '""', "- -", "\x00\x01"):
        normalised = normalise_query(q)
        assert normalised.placeholder
        assert normalised.text == ""
        assert normalised.items == ()


def test_words_are_kept_as_typed_and_folded_for_the_index() -> None:
    normalised = normalise_query("  Café   LUMIÈRE ")
    assert normalised.terms == ("Café", "LUMIÈRE")
    assert [item.folded for item in normalised.items] == [("cafe",), ("lumiere",)]
    assert normalised.text == "Café LUMIÈRE"
    assert not normalised.placeholder


def test_control_characters_are_removed_and_tabs_become_spaces() -> None:
    assert _words("north\x00gate") == [(("northgate",), False, False)]
    assert _words("council\ttax\nsupport") == [
        (("council",), False, False),
        (("tax",), False, False),
        (("support",), False, False),
    ]
    assert _words("north\u200bgate\ufeff") == [(("northgate",), False, False)]
    assert normalise_query("\ud800northgate").terms == ("northgate",)


def test_the_query_is_cut_to_512_characters() -> None:
    normalised = normalise_query("a" * 10_000)
    assert normalised.terms == ("a" * MAX_QUERY_LENGTH,)
    assert len(normalise_query("northgate " * 1000).text) <= MAX_QUERY_LENGTH


def test_an_unbalanced_quote_is_dropped() -> None:
    assert _words('"northgate') == [(("northgate",), False, False)]
    assert _words('"council tax" "support') == [(("council", "tax"), True, False), (("support",), False, False)]


def test_quotes_make_phrases_and_a_quoted_word_is_a_one_word_phrase() -> None:
    normalised = normalise_query('great "council tax" "portal"')
    assert normalised.phrases == (("council", "tax"), ("portal",))
    assert normalised.terms == ("great",)
    assert normalised.text == 'great "council tax" "portal"'


def test_a_leading_hyphen_negates_a_word_or_a_phrase() -> None:
    assert _words("northgate -revenues") == [(("northgate",), False, False), (("revenues",), False, True)]
    assert _words('council -"council tax"') == [(("council",), False, False), (("council", "tax"), True, True)]
    assert normalise_query("northgate -revenues").text == "northgate -revenues"


def test_a_hyphen_that_is_not_at_the_start_of_a_word_is_a_separator() -> None:
    assert _words("- northgate") == [(("northgate",), False, False)]
    assert _words("--northgate") == [(("northgate",), False, False)]
    assert _words('foo-"bar"') == [(("foo",), False, False), (("bar",), True, False)]


def test_hyphenated_references_become_phrases() -> None:
    assert _words("PR-20451") == [(("PR", "20451"), True, False)]
    assert _words("-PR-20451") == [(("PR", "20451"), True, True)]
    assert _words("a-b:c") == [(("a", "b"), True, False), (("c",), False, False)]
    assert normalise_query("PR-20451").text == '"PR 20451"'


def test_only_negations_is_a_placeholder_search_that_still_excludes() -> None:
    normalised = normalise_query("-revenues")
    assert normalised.placeholder
    assert normalised.negated == (QueryItem(("revenues",), ("revenues",), negated=True),)
    assert normalised.text == "-revenues"


def test_operators_are_ordinary_words() -> None:
    assert normalise_query("AND OR NOT").terms == ("AND", "OR", "NOT")
    assert normalise_query("northgate NEAR housing").terms == ("northgate", "NEAR", "housing")
    assert normalise_query("northgate:housing").terms == ("northgate", "housing")
    assert normalise_query("northgate*").text == "northgate"
    assert normalise_query("'; DROP TABLE vendors; --").terms == ("DROP", "TABLE", "vendors")


def test_tokenize_marks_hard_separators_and_keeps_offsets() -> None:
    text = "The council was slow; tax advice"
    tokens = tokenize(text)
    assert [t.folded for t in tokens] == ["the", "council", "was", "slow", "tax", "advice"]
    assert [t.hard_before for t in tokens] == [False, False, False, False, True, False]
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_tokenize_keeps_combining_marks_in_their_word() -> None:
    decomposed = "Cafe\u0301 Lumie\u0300re"
    assert [t.folded for t in tokenize(decomposed)] == ["cafe", "lumiere"]
    assert [t.text for t in tokenize(decomposed)] == ["Cafe\u0301", "Lumie\u0300re"]


@pytest.mark.parametrize(
    ("word", "folded"), [("Café", "cafe"), ("LUMIÈRE", "lumiere"), ("Straße", "strasse"), ("ﬁle", "file")]
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded


@DETERMINISTIC
@given(st.text(st.characters(exclude_categories=()), max_size=2_000))
@example("\x00" * 600 + "northgate")
@example('"' * 1_001)
def test_any_text_normalises_to_a_bounded_balanced_clean_query(q: str) -> None:
    normalised = normalise_query(q)
    cleaned = normalise_query(normalised.text)
    assert cleaned.items == normalised.items or len(normalised.text) > MAX_QUERY_LENGTH - 100
    assert normalised.text.count('"') % 2 == 0
    assert not any(c < " " or "\x7f" <= c <= "\x9f" or "\ud800" <= c <= "\udfff" for c in normalised.text)
    assert normalised.placeholder == (not normalised.positive)
    for item in normalised.items:
        assert item.words and all(word for word in item.folded)


@DETERMINISTIC
@given(st.lists(st.sampled_from(["a", "-", '"', " ", "b-c", ":", "*", "(", ")", "é", "\u0301", "\t"]), max_size=60))
def test_operator_soup_normalises_to_the_same_items_twice(parts: list[str]) -> None:
    normalised = normalise_query("".join(parts))
    assert normalise_query(normalised.text).items == normalised.items


@DETERMINISTIC
@given(st.text(st.characters(exclude_categories=()), max_size=500))
@example("Council tax. And rates; billing, software")
@example("a½b ᦰc e\u0301 Ǆ. ﬁle")
def test_indexing_cuts_words_as_searching_does(text: str) -> None:
    tokens = tokenize(text)
    words, breaks = index_words(text)
    assert words == [t.folded for t in tokens]
    assert breaks == [i for i, t in enumerate(tokens) if t.hard_before]
    assert all(text[t.start : t.end] == t.text and t.folded for t in tokens)
