"""The embedded backend beyond the shared contract: transactions, caches, formatting, and its own errors."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from app.db import make_engine
from app.search.base import IndexSettings, SearchParams, SearchQueryError, TypoTolerance
from app.search.embedded import EmbeddedBackend
from tests.search.test_contract import SETTINGS, VENDORS


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'search.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def backend(engine: Engine) -> EmbeddedBackend:
    backend = EmbeddedBackend(engine)
    backend.configure("vendors", SETTINGS["vendors"])
    backend.upsert("vendors", VENDORS)
    return backend


def ids(backend: EmbeddedBackend, q: str = "", **params: Any) -> list[str]:
    return [hit["id"] for hit in backend.search("vendors", SearchParams(q=q, **params))["hits"]]


def formatted(backend: EmbeddedBackend, q: str, hit_id: str, attribute: str, **params: Any) -> str:
    result = backend.search("vendors", SearchParams(q=q, **params))
    hit = next(hit for hit in result["hits"] if hit["id"] == hit_id)
    value: str = hit["_formatted"][attribute]
    return value


# Transactions and caches


def test_using_writes_inside_the_callers_transaction(engine: Engine, backend: EmbeddedBackend) -> None:
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE content (id INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(text("INSERT INTO content (name) VALUES ('Civic Ledger')"))
        with backend.using(connection):
            backend.upsert("vendors", [{"id": "v7", "name": "Civic Ledger"}])
            assert ids(backend, "ledger") == ["v7"]  # visible inside the transaction
        assert ids(backend, "ledger") == []  # not committed: other connections do not see it
        connection.commit()
    assert ids(backend, "ledger") == ["v7"]


def test_a_rolled_back_write_leaves_no_trace_in_the_index_or_its_caches(
    engine: Engine, backend: EmbeddedBackend
) -> None:
    with engine.connect() as connection:
        with backend.using(connection):
            backend.upsert("vendors", [{"id": "v7", "name": "Zebrafish Labs"}])
            backend.delete("vendors", ["v1"])
            assert ids(backend, "zebrafis") == ["v7"]  # builds the caches from uncommitted rows
        connection.rollback()
    assert ids(backend, "zebrafish") == []
    assert ids(backend, "zebrafis") == []
    assert sorted(ids(backend, "northgate")) == ["v1", "v2"]
    assert backend.count("vendors") == 6


def test_a_second_backend_on_the_same_database_sees_every_write(engine: Engine, backend: EmbeddedBackend) -> None:
    other = EmbeddedBackend(engine)
    assert sorted(ids(other, "nortgate")) == ["v1", "v2"]  # caches its vocabulary
    backend.upsert("vendors", [{"id": "v7", "name": "Quillfeather Systems"}])
    assert ids(other, "quilfeather") == ["v7"]  # a typo on a word that arrived after the cache was built
    backend.configure("vendors", dataclasses.replace(SETTINGS["vendors"], synonyms={"pen": ["quillfeather"]}))
    assert ids(other, "pen") == ["v7"]


def test_changing_the_searchable_attributes_reindexes(backend: EmbeddedBackend) -> None:
    assert ids(backend, "leeds") == ["v1"]  # in v1's description only; city is not searchable
    backend.configure("vendors", dataclasses.replace(SETTINGS["vendors"], searchable=["name", "city"]))
    assert sorted(ids(backend, "leeds")) == ["v1", "v3"]
    assert ids(backend, "canteens") == []
    assert ids(backend, "", sort=["name:asc"])[0] == "v4"  # documents keep their order and sort values


def test_clear_keeps_the_settings(backend: EmbeddedBackend) -> None:
    backend.clear("vendors")
    assert backend.count("vendors") == 0
    assert ids(backend, "") == []
    backend.upsert("vendors", VENDORS[:1])
    assert ids(backend, "nortgate") == ["v1"]


def test_deleting_unknown_ids_or_from_unknown_indexes_does_nothing(backend: EmbeddedBackend) -> None:
    backend.delete("vendors", ["nope"])
    backend.delete("elsewhere", ["v1"])
    backend.clear("elsewhere")
    assert backend.count("vendors") == 6
    assert backend.count("elsewhere") == 0


def test_documents_need_a_primary_key_and_plain_json(backend: EmbeddedBackend) -> None:
    with pytest.raises(ValueError, match="needs a string or integer `id`"):
        backend.upsert("vendors", [{"name": "No id"}])
    with pytest.raises(ValueError, match="not plain JSON"):
        backend.upsert("vendors", [{"id": "v9", "rating": float("nan")}])
    backend.upsert("vendors", [{"id": 42, "name": "Numbered"}])
    assert ids(backend, "numbered") == [42]


def test_index_names_and_settings_are_checked(engine: Engine) -> None:
    backend = EmbeddedBackend(engine)
    with pytest.raises(ValueError, match="Index names"):
        backend.configure('bad"name', SETTINGS["vendors"])
    with pytest.raises(ValueError, match="searchable attributes listed"):
        backend.configure("vendors", IndexSettings(searchable=["*"]))
    with pytest.raises(SearchQueryError) as raised:
        backend.search("missing", SearchParams())
    assert raised.value.code == "index_not_found"


def test_only_sqlite_is_supported() -> None:
    with pytest.raises(ValueError, match="SQLite"):
        EmbeddedBackend(create_engine("postgresql+psycopg://nobody@127.0.0.1/none"))


# Search behaviour beyond the contract


def test_a_query_of_only_negations_returns_everything_else(backend: EmbeddedBackend) -> None:
    assert sorted(ids(backend, "-revenues")) == ["v1", "v3", "v4", "v5", "v6"]


def test_a_quoted_word_matches_exactly(backend: EmbeddedBackend) -> None:
    assert ids(backend, '"nortgate"') == []
    assert ids(backend, '"north"') == []
    assert sorted(ids(backend, '"northgate"')) == ["v1", "v2"]


def test_a_phrase_does_not_cross_a_hard_separator_or_array_elements(backend: EmbeddedBackend) -> None:
    backend.upsert(
        "vendors", [{"id": "v7", "name": "Civic", "tags": ["council", "tax"], "description": "Council. Tax"}]
    )
    assert ids(backend, '"council tax"') == ["v2"]


def test_multi_word_synonym_keys(engine: Engine) -> None:
    backend = EmbeddedBackend(engine)
    synonyms = {"customer relationship management": ["crm"], "crm": ["customer relationship management"]}
    backend.configure("products", IndexSettings(searchable=["name"], synonyms=synonyms))
    backend.upsert(
        "products",
        [{"id": "a", "name": "Dynamics CRM"}, {"id": "b", "name": "Customer relationship management suite"}],
    )
    assert sorted(hit["id"] for hit in backend.search("products", SearchParams(q="crm"))["hits"]) == ["a", "b"]
    found = backend.search("products", SearchParams(q="customer relationship management"))["hits"]
    assert [hit["id"] for hit in found] == ["b", "a"]


def test_typos_can_be_turned_off_for_listed_words(backend: EmbeddedBackend) -> None:
    backend.configure(
        "vendors", dataclasses.replace(SETTINGS["vendors"], typo_tolerance=TypoTolerance(disable_on_words=["Mosiac"]))
    )
    assert ids(backend, "mosiac") == []
    assert sorted(ids(backend, "nortgate")) == ["v1", "v2"]


def test_totals_stop_at_max_total_hits(backend: EmbeddedBackend) -> None:
    backend.configure("vendors", dataclasses.replace(SETTINGS["vendors"], max_total_hits=4))
    result = backend.search("vendors", SearchParams(offset=2, limit=10))
    assert result["estimatedTotalHits"] == 4
    assert len(result["hits"]) == 2
    result = backend.search("vendors", SearchParams(page=1, hits_per_page=3))
    assert (result["totalHits"], result["totalPages"]) == (4, 2)


def test_facet_values_are_capped_and_ordered(backend: EmbeddedBackend) -> None:
    backend.configure("vendors", dataclasses.replace(SETTINGS["vendors"], max_values_per_facet=2))
    result = backend.search("vendors", SearchParams(facets=["city", "rating"]))
    assert result["facetDistribution"] == {"city": {"Bradford": 1, "Leeds": 2}, "rating": {"3.2": 1, "3.9": 1}}
    result = backend.search("vendors", SearchParams(facets=["*"]))
    assert set(result["facetDistribution"]) == set(SETTINGS["vendors"].filterable)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"facets": ["description"]}, "invalid_search_facets"),
        ({"limit": -1}, "invalid_search_limit"),
        ({"offset": -5}, "invalid_search_offset"),
        ({"page": -1}, "invalid_search_page"),
        ({"hits_per_page": -1}, "invalid_search_hits_per_page"),
        ({"attributes_to_crop": ["description:x"]}, "invalid_search_attributes_to_crop"),
    ],
)
def test_bad_parameters_raise_query_errors(backend: EmbeddedBackend, params: dict[str, Any], code: str) -> None:
    with pytest.raises(SearchQueryError) as raised:
        backend.search("vendors", SearchParams(**params))
    assert raised.value.code == code


def test_the_response_has_meilisearchs_shape(backend: EmbeddedBackend) -> None:
    result = backend.search("vendors", SearchParams(q="northgate"))
    assert set(result) == {"hits", "query", "processingTimeMs", "limit", "offset", "estimatedTotalHits"}
    assert result["query"] == "northgate"
    assert isinstance(result["processingTimeMs"], int)
    result = backend.search("vendors", SearchParams(q="northgate", page=1, facets=["city"]))
    assert set(result) == {
        "hits",
        "query",
        "processingTimeMs",
        "page",
        "hitsPerPage",
        "totalPages",
        "totalHits",
        "facetDistribution",
        "facetStats",
    }


# Highlighting and cropping


def test_custom_tags_are_used_exactly_and_document_html_is_left_alone(backend: EmbeddedBackend) -> None:
    backend.upsert("vendors", [{"id": "v7", "name": "<b>Northgate</b> & <i>Co</i>"}])
    marked = formatted(
        backend,
        "northgate",
        "v7",
        "name",
        attributes_to_highlight=["name"],
        highlight_pre_tag="\x1e",
        highlight_post_tag="\x1f",
    )
    assert marked == "<b>\x1eNorthgate\x1f</b> & <i>Co</i>"


def test_every_attribute_can_be_highlighted_and_others_are_kept_as_they_are(backend: EmbeddedBackend) -> None:
    result = backend.search("vendors", SearchParams(q="leeds", attributes_to_highlight=["*"]))
    hit = result["hits"][0]
    assert hit["_formatted"]["description"].endswith("across <em>Leeds</em>.")
    assert hit["_formatted"]["city"] == "<em>Leeds</em>"
    assert hit["_formatted"]["tags"] == ["repairs", "maintenance"]
    result = backend.search("vendors", SearchParams(q="leeds", attributes_to_highlight=["name"]))
    assert result["hits"][0]["_formatted"]["rating"] == 4.5


def test_phrases_are_highlighted_as_one_span(backend: EmbeddedBackend) -> None:
    marked = formatted(backend, '"council tax"', "v2", "description", attributes_to_highlight=["description"])
    assert marked == "<em>Council tax</em> and business rates billing software."


def test_a_prefix_match_keeps_combining_marks_with_their_letter(engine: Engine) -> None:
    backend = EmbeddedBackend(engine)
    backend.configure("words", IndexSettings(searchable=["text"]))
    backend.upsert("words", [{"id": "1", "text": "Westfa\u0301lia"}])
    result = backend.search("words", SearchParams(q="westfali", attributes_to_highlight=["text"]))
    assert result["hits"][0]["_formatted"]["text"] == "<em>Westfa\u0301li</em>a"


# Meilisearch's own cropping examples (milli `search/new/matches` tests), on the query "split the world".
CROPS = [
    (
        "Natalie risk her future to build a world with the boy she loves. Emily Henry: The Love That Split The World.",
        10,
        "…she loves. Emily Henry: <em>The</em> Love That <em>Split</em> <em>The</em> <em>World</em>.",
    ),
    (
        "The world split void void void void void void void void void split the world void void",
        10,
        "…void void void void void <em>split</em> <em>the</em> <em>world</em> void void",
    ),
    (
        "Natalie risk her future. Split The World is a book written by Emily Henry. I never read it.",
        10,
        "…<em>Split</em> <em>The</em> <em>World</em> is a book written by Emily Henry…",
    ),
    ("void void split the world void void.", 2, "…<em>split</em> <em>the</em>…"),
    ("void void split the world void void.", 1, "…<em>split</em>…"),
]


@pytest.mark.parametrize(("text_", "crop", "expected"), CROPS)
def test_cropping_follows_meilisearch(engine: Engine, text_: str, crop: int, expected: str) -> None:
    backend = EmbeddedBackend(engine)
    backend.configure("books", IndexSettings(searchable=["text"]))
    backend.upsert("books", [{"id": "1", "text": text_}])
    params = SearchParams(
        q="split the world", attributes_to_highlight=["text"], attributes_to_crop=["text"], crop_length=crop
    )
    assert backend.search("books", params)["hits"][0]["_formatted"]["text"] == expected


def test_cropping_without_matches_keeps_the_start(backend: EmbeddedBackend) -> None:
    result = backend.search("vendors", SearchParams(attributes_to_crop=["description:2"], crop_marker="[…]"))
    assert result["hits"][0]["_formatted"]["description"] == "Social housing[…]"
