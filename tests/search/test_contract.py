"""The search contract (`search-spec.md` §8): its 38 behaviours on the §7 fixtures, for both backends.

The embedded backend always runs, on a fresh SQLite database per test. Meilisearch runs when MEILI_URL is set (with
MEILI_MASTER_KEY when the server needs one); each test then works on indexes of its own, deleted afterwards.
⚑ marks the items the spec asks a golden run against a real server to confirm; where Meilisearch's documentation or
engine says otherwise, the test follows Meilisearch and says why.

Settings changes named in an item (synonyms, typo tolerance) apply to that test only, on a fresh index.
"""

import dataclasses
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.db import make_engine
from app.search.base import Document, IndexSettings, SearchBackend, SearchParams, SearchQueryError, TypoTolerance
from app.search.embedded import EmbeddedBackend

# Read once at import: the suite's autouse fixture removes MEILI_URL from each test's environment.
MEILI_URL = os.environ.get("MEILI_URL")
MEILI_KEY = os.environ.get("MEILI_MASTER_KEY")

VENDORS: list[Document] = [
    {
        "id": "v1",
        "name": "Northgate Housing",
        "category": "Housing",
        "city": "Leeds",
        "rating": 4.5,
        "founded": 2001,
        "tags": ["repairs", "maintenance"],
        "description": "Social housing repairs and maintenance for tenants across Leeds.",
        "website": None,
    },
    {
        "id": "v2",
        "name": "Northgate Revenues",
        "category": "Revenues",
        "city": "York",
        "rating": 3.9,
        "founded": 1998,
        "tags": ["council tax", "billing"],
        "description": "Council tax and business rates billing software.",
        "website": "https://example.org/ngr",
    },
    {
        "id": "v3",
        "name": "Mosaic Analytics",
        "category": "Analytics",
        "city": "Leeds",
        "rating": 4.8,
        "founded": 2015,
        "tags": ["dashboards"],
        "description": "Dashboards for housing teams in local government.",
        "website": "https://example.org/mosaic",
    },
    {
        "id": "v4",
        "name": "Café Lumière",
        "category": "Catering",
        "city": "Bradford",
        "rating": 4.1,
        "founded": 2010,
        "tags": [],
        "description": "Catering for council events and staff canteens.",
        "website": "",
    },
    {
        "id": "v5",
        "name": "Tax Partners",
        "category": "Finance",
        "city": "London",
        "rating": 4.1,
        "founded": 2012,
        "tags": ["audit"],
        "description": "Advice on payroll and audits.",
        "website": "https://example.org/tp",
    },
    {
        "id": "v6",
        "name": "Taxation Partners",
        "category": "Finance",
        "rating": 3.2,
        "tags": ["audit"],
        "description": "Advice on payroll and audits.",
        "website": None,
    },
]
REVIEWS: list[Document] = [
    {
        "id": "r1",
        "vendor_id": "v1",
        "title": "Great council tax support",
        "body": "Tenant portal was easy.",
        "stars": 5,
    },
    {
        "id": "r2",
        "vendor_id": "v1",
        "title": "Slow responses",
        "body": "The council was slow; tax advice was poor.",
        "stars": 2,
    },
    {
        "id": "r3",
        "vendor_id": "v2",
        "title": "Authority portal works",
        "body": "Tenent records were accurate.",
        "stars": 4,
    },
    {"id": "r4", "vendor_id": "v3", "title": "Council portal works", "body": "Clear dashboards.", "stars": 5},
]
PILOTS: list[Document] = [
    {
        "id": "p1",
        "ref": "PR-20451",
        "title": "Damp and mould pilot",
        "vendor_id": "v1",
        "status": "live",
        "budget": 12000,
    },
    {
        "id": "p2",
        "ref": "PR-20452",
        "title": "Rent arrears chatbot pilot",
        "vendor_id": "v2",
        "status": "closed",
        "budget": 8000,
    },
    {
        "id": "p3",
        "ref": "PR-20460",
        "title": "HMO licensing pilot",
        "vendor_id": "v3",
        "status": "live",
        "budget": 15000,
    },
    {
        "id": "p4",
        "ref": "PR-20461",
        "title": "House in multiple occupation inspections",
        "vendor_id": "v3",
        "status": "planned",
        "budget": 5000,
    },
]
DOCUMENTS = {"vendors": VENDORS, "reviews": REVIEWS, "pilots": PILOTS}
SETTINGS = {
    "vendors": IndexSettings(
        searchable=["name", "category", "tags", "description"],
        filterable=["city", "category", "rating", "founded", "tags", "website"],
        sortable=["name", "rating", "founded"],
    ),
    "reviews": IndexSettings(searchable=["title", "body"], filterable=["vendor_id", "stars"], sortable=["stars"]),
    "pilots": IndexSettings(
        searchable=["ref", "title"], filterable=["status", "vendor_id", "budget"], sortable=["budget"]
    ),
}
ALL_VENDORS = {"v1", "v2", "v3", "v4", "v5", "v6"}


class Contract:
    """The fixture indexes on one backend, loaded on first use; `S` is the spec's `S(index, q, **params)`."""

    def __init__(self, backend: SearchBackend, prefix: str) -> None:
        self.backend = backend
        self.prefix = prefix
        self.loaded: set[str] = set()

    def name(self, index: str) -> str:
        return self.prefix + index

    def load(self, index: str, **changes: Any) -> None:
        """Configure `index` (with settings `changes` for this test) and add its fixture documents."""
        self.backend.configure(self.name(index), dataclasses.replace(SETTINGS[index], **changes))
        self.backend.upsert(self.name(index), DOCUMENTS[index])
        self.loaded.add(index)

    def S(self, index: str, q: str = "", **params: Any) -> dict[str, Any]:  # noqa: N802 - the spec's name
        if index not in self.loaded:
            self.load(index)
        return self.backend.search(self.name(index), SearchParams(q=q, **params))

    def ids(self, index: str, q: str = "", **params: Any) -> list[str]:
        return [hit["id"] for hit in self.S(index, q, **params)["hits"]]

    def hit(self, index: str, q: str, hit_id: str, **params: Any) -> Document:
        return next(hit for hit in self.S(index, q, **params)["hits"] if hit["id"] == hit_id)


def _meilisearch_contract() -> Iterator[Contract]:
    if not MEILI_URL:
        pytest.skip("Meilisearch is not reachable: set MEILI_URL to run the contract against it")
    import meilisearch

    client = meilisearch.Client(MEILI_URL, MEILI_KEY, timeout=5)
    try:
        healthy = client.is_healthy()
    except Exception:  # noqa: BLE001 - any failure to answer means the same here
        healthy = False
    if not healthy:
        pytest.skip(f"Meilisearch is not reachable at MEILI_URL={MEILI_URL}")
    from app.search.meili import MeiliBackend

    contract = Contract(MeiliBackend(MEILI_URL, MEILI_KEY), f"contract_{uuid.uuid4().hex[:12]}_")
    try:
        yield contract
    finally:
        for index in contract.loaded:
            task = client.delete_index(contract.name(index))
            client.wait_for_task(task.task_uid, timeout_in_ms=30_000)


@pytest.fixture(params=["embedded", "meilisearch"])
def contract(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contract]:
    """The contract's fixtures on each backend: a fresh SQLite file, or fresh indexes on the Meilisearch server."""
    if request.param == "meilisearch":
        yield from _meilisearch_contract()
        return
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}")
    try:
        yield Contract(EmbeddedBackend(engine), "")
    finally:
        engine.dispose()


# Typo tolerance


def test_01_one_typo_on_an_eight_letter_term(contract: Contract) -> None:
    assert set(contract.ids("vendors", "nortgate")) == {"v1", "v2"}


def test_02_a_transposition_is_one_typo_and_short_terms_get_none(contract: Contract) -> None:
    assert contract.ids("vendors", "mosiac") == ["v3"]
    assert contract.ids("vendors", "yrok") == []


def test_03_two_typos_from_nine_letters_and_the_first_letter_rule(contract: Contract) -> None:
    assert contract.ids("vendors", "maintanence") == ["v1"]
    assert contract.ids("vendors", "hoosinj") == []
    assert contract.ids("vendors", "bousing") == []
    assert contract.ids("vendors", "naintenance") == ["v1"]


def test_04_fewer_typos_rank_first(contract: Contract) -> None:
    assert contract.ids("reviews", "tenant") == ["r1", "r3"]


def test_05_turning_typo_tolerance_off(contract: Contract) -> None:
    contract.load("vendors", typo_tolerance=TypoTolerance(enabled=False))
    assert contract.ids("vendors", "nortgate") == []
    assert set(contract.ids("vendors", "northgate")) == {"v1", "v2"}


def test_05_turning_typo_tolerance_off_on_an_attribute(contract: Contract) -> None:
    contract.load("vendors", typo_tolerance=TypoTolerance(disable_on_attributes=["name"]))
    assert contract.ids("vendors", "nortgate") == []
    assert contract.ids("vendors", "maintanence") == ["v1"]


def test_06_numbers(contract: Contract) -> None:
    ids = contract.ids("pilots", "20451")
    assert set(ids) == {"p1", "p2", "p4"}
    assert ids[0] == "p1"


def test_06_numbers_without_typos(contract: Contract) -> None:
    contract.load("pilots", typo_tolerance=TypoTolerance(disable_on_numbers=True))
    assert contract.ids("pilots", "20451") == ["p1"]


# Prefix and matching strategy


def test_07_prefix_on_the_last_word_at_any_length(contract: Contract) -> None:
    assert set(contract.ids("vendors", "north")) == {"v1", "v2"}
    assert contract.ids("vendors", "mos") == ["v3"]


def test_08_a_prefix_with_a_typo(contract: Contract) -> None:
    assert set(contract.ids("vendors", "nortg")) == {"v1", "v2"}


def test_09_only_the_last_word_is_a_prefix_and_last_drops_terms_from_the_end(contract: Contract) -> None:
    # ⚑ matchingStrategy "last" (the default): documents matching only the trailing terms never appear.
    assert contract.ids("vendors", "housing north") == ["v1", "v3"]


def test_10_the_words_rule_comes_first(contract: Contract) -> None:
    # ⚑ as in item 9: v3 has only the trailing "housing".
    assert contract.ids("vendors", "northgate housing") == ["v1", "v2"]


def test_11_only_the_first_ten_words_count(contract: Contract) -> None:
    assert set(contract.ids("vendors", "northgate " + "zzzzz " * 600)) == {"v1", "v2"}


# Ranking


def test_12_attribute_rank(contract: Contract) -> None:
    assert contract.ids("vendors", "housing") == ["v1", "v3"]


def test_13_proximity(contract: Contract) -> None:
    assert contract.ids("reviews", "council tax") == ["r1", "r2", "r4"]


def test_14_word_position_after_attribute_rank(contract: Contract) -> None:
    assert contract.ids("reviews", "council") == ["r4", "r1", "r2"]


def test_15_exactness_exact_beats_prefix(contract: Contract) -> None:
    assert contract.ids("vendors", "tax") == ["v5", "v6", "v2"]


def test_16_sort_as_a_relevance_tiebreaker(contract: Contract) -> None:
    assert contract.ids("vendors", "northgate", sort=["rating:asc"]) == ["v2", "v1"]
    assert contract.ids("vendors", "northgate", sort=["rating:desc"]) == ["v1", "v2"]


# Placeholder search and sorting


def test_17_an_empty_query_returns_everything(contract: Contract) -> None:
    assert set(contract.ids("vendors", "")) == ALL_VENDORS
    assert contract.ids("vendors", "", sort=["name:asc"]) == ["v4", "v3", "v1", "v2", "v5", "v6"]


def test_18_numeric_sort_and_missing_values_last(contract: Contract) -> None:
    hits = contract.S("vendors", "", sort=["rating:desc"])["hits"]
    assert [hit["rating"] for hit in hits] == [4.8, 4.5, 4.1, 4.1, 3.9, 3.2]
    # ⚑ v6 has no `founded`: documents missing the sort attribute come last.
    assert contract.ids("vendors", "", sort=["founded:asc"]) == ["v2", "v1", "v4", "v5", "v3", "v6"]


def test_19_sorting_on_an_attribute_that_is_not_sortable(contract: Contract) -> None:
    with pytest.raises(SearchQueryError) as raised:
        contract.S("vendors", "", sort=["city:asc"])
    assert raised.value.code == "invalid_search_sort"
    assert "city" in raised.value.message


# Filters


def test_20_equality_is_case_insensitive_and_matches_array_elements(contract: Contract) -> None:
    assert set(contract.ids("vendors", filter="city = leeds")) == {"v1", "v3"}
    assert set(contract.ids("vendors", filter="tags = repairs")) == {"v1"}
    assert set(contract.ids("vendors", filter="tags = 'council tax'")) == {"v2"}
    assert contract.ids("vendors", "northgate", filter="city = York") == ["v2"]


def test_21_negation_includes_documents_without_the_field(contract: Contract) -> None:
    assert set(contract.ids("vendors", filter="city != Leeds")) == {"v2", "v4", "v5", "v6"}
    assert set(contract.ids("vendors", filter="NOT city = Leeds")) == {"v2", "v4", "v5", "v6"}


def test_22_ranges_and_sets(contract: Contract) -> None:
    assert set(contract.ids("vendors", filter="rating >= 4.5")) == {"v1", "v3"}
    assert set(contract.ids("vendors", filter="rating 4 TO 4.5")) == {"v1", "v4", "v5"}
    assert set(contract.ids("vendors", filter="city IN [Leeds, York]")) == {"v1", "v2", "v3"}
    assert set(contract.ids("pilots", filter="budget 8000 TO 12000")) == {"p1", "p2"}


def test_23_precedence_and_binds_tighter_than_or(contract: Contract) -> None:
    assert set(contract.ids("vendors", filter="(city = Leeds OR city = York) AND rating > 4")) == {"v1", "v3"}
    assert set(contract.ids("vendors", filter="city = York OR city = Leeds AND rating > 4.6")) == {"v2", "v3"}
    assert set(contract.ids("vendors", filter=[["city = Leeds", "city = York"], "rating > 4"])) == {"v1", "v3"}


def test_24_presence_operators(contract: Contract) -> None:
    assert set(contract.ids("vendors", filter="founded NOT EXISTS")) == {"v6"}
    assert set(contract.ids("vendors", filter="city EXISTS")) == {"v1", "v2", "v3", "v4", "v5"}
    assert set(contract.ids("vendors", filter="website IS NULL")) == {"v1", "v6"}
    assert set(contract.ids("vendors", filter="website EXISTS")) == ALL_VENDORS
    assert set(contract.ids("vendors", filter="website IS EMPTY")) == {"v4"}
    assert set(contract.ids("vendors", filter="tags IS EMPTY")) == {"v4"}


@pytest.mark.parametrize("bad_filter", ["rating >", "city = ", "(city = Leeds", "population > 3"])
def test_25_bad_filters_raise_a_query_error(contract: Contract, bad_filter: str) -> None:
    with pytest.raises(SearchQueryError) as raised:
        contract.S("vendors", "", filter=bad_filter)
    assert raised.value.code == "invalid_search_filter"
    assert raised.value.message


# Facets


def test_26_facet_distribution_and_stats_on_a_placeholder_search(contract: Contract) -> None:
    result = contract.S("vendors", "", facets=["city", "category", "tags", "rating"])
    distribution = result["facetDistribution"]
    assert distribution["city"] == {"Bradford": 1, "Leeds": 2, "London": 1, "York": 1}
    assert distribution["category"] == {"Analytics": 1, "Catering": 1, "Finance": 2, "Housing": 1, "Revenues": 1}
    assert distribution["tags"] == {
        "audit": 2,
        "billing": 1,
        "council tax": 1,
        "dashboards": 1,
        "maintenance": 1,
        "repairs": 1,
    }
    assert result["facetStats"] == {"rating": {"min": 3.2, "max": 4.8}}


def test_27_facets_follow_the_query_and_filter_not_the_page(contract: Contract) -> None:
    result = contract.S("vendors", "", filter="city = Leeds", facets=["city", "rating"], limit=1)
    assert len(result["hits"]) == 1
    assert result["facetDistribution"]["city"] == {"Leeds": 2}
    assert result["facetStats"]["rating"] == {"min": 4.5, "max": 4.8}
    result = contract.S("vendors", "northgate", facets=["city"])
    assert result["facetDistribution"]["city"] == {"Leeds": 1, "York": 1}


# Highlighting and cropping


def test_28_exact_and_diacritic_highlights_and_custom_tags(contract: Contract) -> None:
    v1 = contract.hit("vendors", "northgate", "v1", attributes_to_highlight=["name"])
    assert v1["_formatted"]["name"] == "<em>Northgate</em> Housing"
    v4 = contract.hit("vendors", "cafe", "v4", attributes_to_highlight=["name"])
    assert v4["_formatted"]["name"] == "<em>Café</em> Lumière"
    v1 = contract.hit(
        "vendors",
        "northgate",
        "v1",
        attributes_to_highlight=["name"],
        highlight_pre_tag="<mark>",
        highlight_post_tag="</mark>",
    )
    assert v1["_formatted"]["name"] == "<mark>Northgate</mark> Housing"


def test_29_prefix_highlight_wraps_only_the_typed_part(contract: Contract) -> None:
    # ⚑ Meilisearch's highlighter (milli `matching_words.rs`) cuts a prefix match at the typed length.
    v1 = contract.hit("vendors", "north", "v1", attributes_to_highlight=["name"])
    assert v1["_formatted"]["name"] == "<em>North</em>gate Housing"


def test_30_cropping(contract: Contract) -> None:
    v4 = contract.hit(
        "vendors",
        "canteens",
        "v4",
        attributes_to_crop=["description"],
        crop_length=3,
        crop_marker="…",
        attributes_to_highlight=["description"],
    )
    cropped = v4["_formatted"]["description"]
    assert "<em>canteens</em>" in cropped
    assert cropped.startswith("…")
    words = cropped.replace("<em>", "").replace("</em>", "").replace("…", "").split()
    assert len(words) <= 3
    # The contract says the crop "does not end with …", but Meilisearch's crop window (milli
    # `search/new/matches`, whose own tests crop "...the boy she loves." to "…future to … she loves…") stops
    # before the final "." and so marks the cut. We follow Meilisearch; the golden run (§9) settles it.
    assert cropped == "…and staff <em>canteens</em>…"
    assert all("_formatted" not in hit for hit in contract.S("vendors", "canteens")["hits"])


# Synonyms


def test_31_mutual_synonyms_with_the_exact_word_first(contract: Contract) -> None:
    contract.load("reviews", synonyms={"authority": ["council"], "council": ["authority"]})
    ids = contract.ids("reviews", "authority")
    assert set(ids) == {"r1", "r2", "r3", "r4"}
    assert ids[0] == "r3"
    assert ids == ["r3", "r4", "r1", "r2"]  # ⚑ the full order


def test_32_one_way_multi_word_synonym(contract: Contract) -> None:
    contract.load("pilots", synonyms={"hmo": ["house in multiple occupation"]})
    assert contract.ids("pilots", "hmo") == ["p3", "p4"]
    assert contract.ids("pilots", "occupation") == ["p4"]


# Phrase and negative search


def test_33_phrase(contract: Contract) -> None:
    assert contract.ids("reviews", '"council tax"') == ["r1"]
    assert contract.ids("reviews", '"counsil tax"') == []  # ⚑ phrases are not typo-tolerant


def test_34_negative(contract: Contract) -> None:
    assert contract.ids("vendors", "northgate -revenues") == ["v1"]
    assert set(contract.ids("reviews", 'council -"council tax"')) == {"r2", "r4"}


def test_35_hyphenated_record_ids_are_not_negations(contract: Contract) -> None:
    assert contract.ids("pilots", "PR-20451") == ["p1"]


def test_35_hyphenated_record_ids_without_number_typos(contract: Contract) -> None:
    contract.load("pilots", typo_tolerance=TypoTolerance(disable_on_numbers=True))
    assert contract.ids("pilots", "20451") == ["p1"]


# Pagination


def test_36_page_mode_and_offset_mode(contract: Contract) -> None:
    result = contract.S("vendors", "", sort=["name:asc"], hits_per_page=4, page=2)
    assert [hit["id"] for hit in result["hits"]] == ["v5", "v6"]
    assert (result["totalHits"], result["totalPages"]) == (6, 2)
    assert "estimatedTotalHits" not in result
    result = contract.S("vendors", "", sort=["name:asc"], hits_per_page=4, page=3)
    assert (result["hits"], result["totalHits"], result["totalPages"]) == ([], 6, 2)
    result = contract.S("vendors", "", sort=["name:asc"], hits_per_page=0)
    assert (result["hits"], result["totalHits"], result["totalPages"]) == ([], 6, 0)
    result = contract.S("vendors", "", sort=["name:asc"], offset=4, limit=4)
    assert [hit["id"] for hit in result["hits"]] == ["v5", "v6"]
    assert (result["estimatedTotalHits"], result["offset"], result["limit"]) == (6, 4, 4)
    assert contract.S("vendors", "", sort=["name:asc"], offset=100)["hits"] == []


# Unicode and bad input


@pytest.mark.parametrize("q", ["cafe", "CAFE", "Café", "lumiere", "LUMIÈRE"])
def test_37_folding(contract: Contract, q: str) -> None:
    assert contract.ids("vendors", q) == ["v4"]


HOSTILE: list[tuple[str, set[str] | list[str]]] = [
    ("AND OR NOT", {"v1", "v2", "v4", "v5", "v6"}),
    ("northgate NEAR housing", {"v1", "v2"}),
    ("northgate:housing", ["v1", "v2"]),
    ("northgate*", {"v1", "v2"}),
    ("'; DROP TABLE vendors; --", []),
    ('"northgate', {"v1", "v2"}),
    ('"', ALL_VENDORS),
    ("-", ALL_VENDORS),
    ("*", ALL_VENDORS),
    ("()", ALL_VENDORS),
    ("   ", ALL_VENDORS),
    ("", ALL_VENDORS),
    ("north\x00gate", {"v1", "v2"}),
    ("a" * 1000, []),
]


@pytest.mark.parametrize(("q", "expected"), HOSTILE, ids=[repr(q)[:30] for q, _ in HOSTILE])
def test_38_hostile_or_odd_input_never_errors(contract: Contract, q: str, expected: set[str] | list[str]) -> None:
    ids = contract.ids("vendors", q)
    assert (set(ids) if isinstance(expected, set) else ids) == expected
    assert set(contract.ids("vendors", "northgate")) == {"v1", "v2"}  # and the index is still whole


# Set-up and tear-down invariants


def test_a_write_is_visible_to_the_next_search(contract: Contract) -> None:
    contract.load("vendors")
    contract.backend.upsert(contract.name("vendors"), [{"id": "v7", "name": "Civic Ledger", "city": "Hull"}])
    assert contract.ids("vendors", "ledger") == ["v7"]
    contract.backend.configure(
        contract.name("vendors"), dataclasses.replace(SETTINGS["vendors"], synonyms={"accounts": ["ledger"]})
    )
    assert contract.ids("vendors", "accounts") == ["v7"]
    assert contract.backend.count(contract.name("vendors")) == 7


def test_re_adding_a_document_replaces_it(contract: Contract) -> None:
    contract.load("vendors")
    contract.backend.upsert(contract.name("vendors"), [VENDORS[0] | {"name": "Lakeside Homes"}])
    assert contract.ids("vendors", "lakeside") == ["v1"]
    assert contract.ids("vendors", "northgate") == ["v2"]
    ids = contract.ids("vendors", "")
    assert sorted(ids) == sorted(ALL_VENDORS)
    assert contract.backend.count(contract.name("vendors")) == 6


def test_deleting_removes_from_hits_and_facets(contract: Contract) -> None:
    contract.load("vendors")
    contract.backend.delete(contract.name("vendors"), ["v3"])
    assert contract.ids("vendors", "mosaic") == []
    result = contract.S("vendors", "", facets=["city", "category", "rating"])
    assert result["facetDistribution"]["city"] == {"Bradford": 1, "Leeds": 1, "London": 1, "York": 1}
    assert "Analytics" not in result["facetDistribution"]["category"]
    assert result["facetStats"]["rating"] == {"min": 3.2, "max": 4.5}
    assert result["estimatedTotalHits"] == 5


# Any input: a result, or a SearchQueryError, never anything else

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=300)
QUERY_SOUP = st.lists(
    st.sampled_from(
        [
            "AND",
            "OR",
            "NOT",
            "NEAR",
            "-",
            '"',
            "'",
            "*",
            "(",
            ")",
            ":",
            "^",
            "~",
            ";",
            "--",
            "\\",
            "\x00",
            "\t",
            "\n",
            "\u200b",
            "\u0301",
            "\ud800",
            "🙂",
            "northgate",
            "PR-20451",
            "-northgate",
            "north-gate",
            '-"council tax"',
            "café",
            "ﬁ",
            "½",
            "ǅ",
            "İ",
            "ß",
            "ᦰ",
            "北京",
            "١٢٣",
        ]
    ),
    max_size=40,
).flatmap(lambda parts: st.sampled_from([" ".join(parts), "".join(parts)]))
FILTER_SOUP = st.lists(
    st.sampled_from(
        [
            "city",
            "rating",
            "tags",
            "population",
            "=",
            "!=",
            ">",
            ">=",
            "<",
            "<=",
            "!",
            "TO",
            "IN",
            "[",
            "]",
            ",",
            "(",
            ")",
            "NOT",
            "AND",
            "OR",
            "EXISTS",
            "IS",
            "NULL",
            "EMPTY",
            "CONTAINS",
            "'",
            '"',
            "\\",
            "Leeds",
            "4.5",
            "-1e9",
            "nan",
            "_geoRadius(1,2,3)",
            "\x00",
            "é",
        ]
    ),
    max_size=30,
).map(" ".join)
PROPERTY_SETTINGS = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _is_a_result(result: object) -> bool:
    return (
        isinstance(result, dict)
        and isinstance(result.get("hits"), list)
        and all(isinstance(hit, dict) and "id" in hit for hit in result["hits"])
    )


@PROPERTY_SETTINGS
@given(q=ANY_TEXT | QUERY_SOUP)
@example(q="a" * 10_000)
@example(q="-" * 10_000)
@example(q='"' * 9_999)
@example(q="northgate " * 1_000)
@example(q="\x00\x01\x1f\x7f\x9f" * 2_000)
@example(q="north-gate-" * 1_000)
@example(q="é" * 10_000)
def test_any_text_query_gives_a_result_or_a_query_error(contract: Contract, q: str) -> None:
    try:
        result = contract.S("vendors", q, facets=["city"], attributes_to_highlight=["*"], attributes_to_crop=["*"])
    except SearchQueryError:
        return
    assert _is_a_result(result)


@PROPERTY_SETTINGS
@given(expression=ANY_TEXT | FILTER_SOUP)
@example(expression="(" * 5_000 + "city = Leeds" + ")" * 5_000)
@example(expression="NOT " * 5_000 + "city = Leeds")
@example(expression="city IN [" + ", ".join(["Leeds"] * 5_000) + "]")
def test_any_filter_gives_a_result_or_a_filter_error(contract: Contract, expression: str) -> None:
    try:
        result = contract.S("vendors", "northgate", filter=expression)
    except SearchQueryError as error:
        assert error.code == "invalid_search_filter"
        return
    assert _is_a_result(result)


@PROPERTY_SETTINGS
@given(keys=st.lists(ANY_TEXT | st.sampled_from(["rating:asc", "name:desc", "founded", ":asc", "city:asc"])))
def test_any_sort_gives_a_result_or_a_sort_error(contract: Contract, keys: list[str]) -> None:
    try:
        result = contract.S("vendors", "", sort=keys)
    except SearchQueryError as error:
        assert error.code == "invalid_search_sort"
        return
    assert _is_a_result(result)
