"""The one search interface: two backends (Meilisearch, and the embedded one) behind the same calls and results.

Parameters and results use Meilisearch's names and shapes (`hits`, `_formatted`, `estimatedTotalHits`,
`facetDistribution`, `facetStats`, `processingTimeMs`...), so the API can return them as they are. The contract both
backends meet is `../shared/research/search-spec.md`, sections 7 and 8, tested in `tests/search/test_contract.py`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Document = dict[str, Any]
Filter = str | list[str | list[str]] | None


class SearchQueryError(Exception):
    """A query the user can fix (a bad filter or sort): shown as a 400 with `message`, never a 500.

    `code` follows Meilisearch's error codes: invalid_search_filter, invalid_search_sort, invalid_search_facets,
    invalid_search_q, invalid_search_limit, invalid_search_offset, index_not_found...
    """

    def __init__(self, message: str, *, code: str = "invalid_search_q") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class SearchUnavailable(Exception):
    """The search server did not answer (writes then wait in the outbox)."""


@dataclass
class TypoTolerance:
    enabled: bool = True
    one_typo: int = 5  # minWordSizeForTypos.oneTypo
    two_typos: int = 9  # minWordSizeForTypos.twoTypos
    disable_on_attributes: list[str] = field(default_factory=list)
    disable_on_words: list[str] = field(default_factory=list)
    disable_on_numbers: bool = False


@dataclass
class IndexSettings:
    """What Meilisearch calls an index's settings; `searchable` is in attribute-rank order."""

    searchable: list[str]
    filterable: list[str] = field(default_factory=list)
    sortable: list[str] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    typo_tolerance: TypoTolerance = field(default_factory=TypoTolerance)
    primary_key: str = "id"
    max_values_per_facet: int = 100
    max_total_hits: int = 1000


@dataclass
class SearchParams:
    """Meilisearch's search parameters. Either offset/limit or page/hits_per_page (page mode when either is set)."""

    q: str = ""
    filter: Filter = None
    facets: list[str] | None = None
    sort: list[str] | None = None
    offset: int = 0
    limit: int = 20
    page: int | None = None
    hits_per_page: int | None = None
    attributes_to_highlight: list[str] | None = None
    highlight_pre_tag: str = "<em>"
    highlight_post_tag: str = "</em>"
    attributes_to_crop: list[str] | None = None
    crop_length: int = 10
    crop_marker: str = "…"


class SearchBackend(Protocol):
    """What both backends do. Writes are visible to the next search once the call returns."""

    def configure(self, index: str, settings: IndexSettings) -> None:
        """Create the index if needed and apply its settings."""

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Add documents, replacing any with the same primary key."""

    def delete(self, index: str, ids: Sequence[str]) -> None:
        """Remove documents by primary key (missing ones are ignored)."""

    def clear(self, index: str) -> None:
        """Remove every document of the index, keeping its settings."""

    def search(self, index: str, params: SearchParams) -> dict[str, Any]:
        """Run a query; raise SearchQueryError for a bad filter, sort or facet."""

    def count(self, index: str) -> int:
        """How many documents the index holds."""
