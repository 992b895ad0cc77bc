"""What the search page asks and shows: suppliers, pilots or reviews, with facets, sort and highlighting.

Search-as-you-type with htmx returns only `search/_results.html` (the facet counts come along out of band); without
JavaScript the same form submits as a GET. What the user chooses becomes Meilisearch parameters here: facet choices
are checked, then quoted into the filter expression (they are user input, never part of its syntax), and matches
come back between sentinel tags that only `sanitize.mark_highlights` turns into <mark>, after escaping the text.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlmodel import Session

from app.moderation.sanitize import HIGHLIGHT_POST, HIGHLIGHT_PRE, mark_highlights
from app.search import service
from app.search.base import SearchBackend, SearchParams, SearchQueryError
from app.search.documents import PILOTS, RATING_BANDS, REVIEWS, VENDORS

PER_PAGE = 20
MAX_PAGE = 1000
MAX_QUERY_LENGTH = 512  # what the query normaliser keeps
CROP_LENGTH = 30
SHOWN_VALUES = 8  # facet values shown before "more"
MAX_CHOSEN = 50  # values of one facet that a URL can choose
MAX_VALUE_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

SORT_LABELS = {"relevance": "Best match", "score": "Highest score", "reviews": "Most reviews", "newest": "Newest"}
BANDS = {label: label.replace("-", " to ") for _, label in RATING_BANDS}


@dataclass(frozen=True)
class Facet:
    attribute: str
    label: str
    # Labels for the values, in the order to show them; without them, any value, most frequent first.
    values: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Scope:
    """One index as the page offers it."""

    index: str
    label: str
    singular: str
    plural: str
    facets: tuple[Facet, ...]
    sorts: Mapping[str, list[str] | None]
    highlight: tuple[str, ...]
    crop: tuple[str, ...]

    def facet(self, attribute: str) -> Facet:
        return next(f for f in self.facets if f.attribute == attribute)


SCOPES: dict[str, Scope] = {
    VENDORS: Scope(
        index=VENDORS,
        label="Suppliers",
        singular="supplier",
        plural="suppliers",
        facets=(
            Facet("categories", "Category"),
            Facet("service_areas", "Service area"),
            Facet("council_types", "Council type"),
            Facet("regions", "Region"),
            Facet("rating_band", "Overall score", BANDS),
            Facet("has_pilots", "Pilots", {"true": "Has pilots", "false": "No pilots yet"}),
        ),
        sorts={
            "relevance": None,
            "score": ["overall:desc"],
            "reviews": ["review_count:desc"],
            "newest": ["updated:desc"],
        },
        highlight=("name", "aliases", "products", "description"),
        crop=("description",),
    ),
    PILOTS: Scope(
        index=PILOTS,
        label="Pilots",
        singular="pilot",
        plural="pilots",
        facets=(
            Facet("service_area", "Service area"),
            Facet("council_type", "Council type"),
            Facet("region", "Region"),
            Facet("status", "Pilot status"),
            Facet("outcome", "Outcome"),
        ),
        sorts={"relevance": None, "newest": ["published:desc"]},
        highlight=("title", "supplier", "problem", "lessons"),
        crop=("problem", "lessons"),
    ),
    REVIEWS: Scope(
        index=REVIEWS,
        label="Reviews",
        singular="review",
        plural="reviews",
        facets=(
            Facet("service_area", "Service area"),
            Facet("council_type", "Council type"),
            Facet("region", "Region"),
            Facet("relationship", "Relationship with the supplier"),
            Facet("rating_band", "Overall score", BANDS),
        ),
        sorts={"relevance": None, "score": ["overall:desc"], "newest": ["published:desc"]},
        highlight=("headline", "supplier", "product", "worked_well", "did_not_work", "advice"),
        crop=("worked_well", "did_not_work", "advice"),
    ),
}
BOOLEAN_FACETS = {"has_pilots"}
REVIEW_TEXT = (("worked_well", "What worked"), ("did_not_work", "What did not work"), ("advice", "Advice"))
PILOT_TEXT = (("problem", "The problem"), ("lessons", "Lessons learned"))


# --- from the request to Meilisearch's parameters ---------------------------------------------------------------


def quote(value: str) -> str:
    """A filter value as a double-quoted Meilisearch string: backslashes and quotes escaped, so it stays one value."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(chosen: Mapping[str, list[str]]) -> str | None:
    """Values chosen in one facet are alternatives (OR); facets narrow each other (AND)."""
    clauses = []
    for attribute, values in chosen.items():
        if attribute in BOOLEAN_FACETS:  # only "true" or "false" get here: see chosen_values
            terms = [f"{attribute} = {value}" for value in values]
        else:
            terms = [f"{attribute} = {quote(value)}" for value in values]
        clauses.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return " AND ".join(clauses) or None


def chosen_values(scope: Scope, query: Any) -> dict[str, list[str]]:
    """The facet values ticked (from the query string), checked; a value no facet could hold is a SearchQueryError."""
    chosen: dict[str, list[str]] = {}
    for facet in scope.facets:
        values: list[str] = []
        for value in query.getlist(facet.attribute)[:MAX_CHOSEN]:
            if not value or value in values:
                continue
            allowed = value in ("true", "false") if facet.attribute in BOOLEAN_FACETS else True
            if not allowed or len(value) > MAX_VALUE_LENGTH or _CONTROL.search(value):
                raise SearchQueryError(
                    f"The “{facet.label}” filter has a value that is not valid. Clear the filters and try again.",
                    code="invalid_search_filter",
                )
            values.append(value)
        if values:
            chosen[facet.attribute] = values
    return chosen


# --- what the page shows -------------------------------------------------------------------------------------------


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    checked: bool
    id: str


@dataclass
class FacetGroup:
    attribute: str
    label: str
    shown: list[FacetOption]
    more: list[FacetOption]
    chosen: int

    @property
    def open_more(self) -> bool:
        return any(option.checked for option in self.more)


@dataclass
class Results:
    scope: Scope
    q: str
    sort: str
    page: int
    chosen: dict[str, list[str]] = field(default_factory=dict)
    hits: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    pages: int = 0
    facets: list[FacetGroup] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False

    @property
    def sorts(self) -> list[tuple[str, str]]:
        return [(key, SORT_LABELS[key]) for key in self.scope.sorts]

    @property
    def noun(self) -> str:
        return self.scope.singular if self.total == 1 else self.scope.plural


def _option_id(attribute: str, value: str) -> str:
    # Stable across requests, so htmx puts the focus back on the box that was ticked.
    return f"f-{attribute}-{hashlib.blake2s(value.encode(), digest_size=5).hexdigest()}"


def facet_groups(
    scope: Scope, distribution: Mapping[str, Mapping[str, int]], chosen: Mapping[str, list[str]]
) -> list[FacetGroup]:
    """Each facet's values with their counts; values ticked but no longer found still show, to untick them."""
    groups = []
    for facet in scope.facets:
        counts = dict(distribution.get(facet.attribute) or {})
        ticked = chosen.get(facet.attribute, [])
        for value in ticked:
            counts.setdefault(value, 0)
        if facet.values is not None:
            order = [v for v in facet.values if v in counts] + sorted(v for v in counts if v not in facet.values)
        else:
            order = sorted(counts, key=lambda v: (-counts[v], v.casefold()))
        options = [
            FacetOption(
                value=value,
                label=(facet.values or {}).get(value, value),
                count=counts[value],
                checked=value in ticked,
                id=_option_id(facet.attribute, value),
            )
            for value in order
        ]
        groups.append(
            FacetGroup(
                attribute=facet.attribute,
                label=facet.label,
                shown=options[:SHOWN_VALUES],
                more=options[SHOWN_VALUES:],
                chosen=len(ticked),
            )
        )
    return groups


def highlighted(hit: Mapping[str, Any], attribute: str) -> Markup:
    """A hit's attribute with its matches in <mark>: escaped first, by `mark_highlights`."""
    formatted = (hit.get("_formatted") or {}).get(attribute)
    if isinstance(formatted, str):
        return mark_highlights(formatted)
    value = hit.get(attribute)
    return escape(value) if isinstance(value, str) else Markup("")


def matched(hit: Mapping[str, Any], attribute: str) -> list[Markup]:
    """The values of a list attribute (products, other names) that the query matched, highlighted."""
    values = (hit.get("_formatted") or {}).get(attribute)
    if not isinstance(values, list):
        return []
    return [mark_highlights(v) for v in values if isinstance(v, str) and HIGHLIGHT_PRE in v]


def snippet(hit: Mapping[str, Any], fields: tuple[tuple[str, str], ...]) -> tuple[str, Markup] | None:
    """The first text field with a match (or the first with any text), labelled, cropped and highlighted."""
    formatted = hit.get("_formatted") or {}
    present = [(name, label) for name, label in fields if isinstance(formatted.get(name) or hit.get(name), str)]
    for name, label in present:
        if HIGHLIGHT_PRE in str(formatted.get(name) or ""):
            return label, highlighted(hit, name)
    if present:
        name, label = present[0]
        return label, highlighted(hit, name)
    return None


# --- searching -----------------------------------------------------------------------------------------------------


def run_search(session: Session, backend: SearchBackend, results: Results) -> None:
    """Fill `results` with a page of hits, totals and facet counts; SearchQueryError or SearchUnavailable if not."""
    scope = results.scope
    params = SearchParams(
        q=results.q,
        filter=filter_expression(results.chosen),
        facets=[f.attribute for f in scope.facets],
        sort=scope.sorts[results.sort],
        page=results.page,
        hits_per_page=PER_PAGE,
        attributes_to_highlight=list(scope.highlight),
        highlight_pre_tag=HIGHLIGHT_PRE,
        highlight_post_tag=HIGHLIGHT_POST,
        attributes_to_crop=list(scope.crop),
        crop_length=CROP_LENGTH,
    )
    found = service.search(session, backend, index=scope.index, params=params)
    distribution = dict(found.get("facetDistribution") or {})
    # A ticked facet shows its other values' counts as if it were not ticked: ticking one adds to the results.
    for attribute in results.chosen:
        others = {name: values for name, values in results.chosen.items() if name != attribute}
        counts = service.search(
            session,
            backend,
            index=scope.index,
            params=SearchParams(q=results.q, filter=filter_expression(others), facets=[attribute], limit=0),
        )
        distribution[attribute] = (counts.get("facetDistribution") or {}).get(attribute, {})
    results.hits = found.get("hits", [])
    results.total = int(found.get("totalHits", found.get("estimatedTotalHits", len(results.hits))) or 0)
    results.pages = int(found.get("totalPages", 1 if results.hits else 0) or 0)
    results.facets = facet_groups(scope, distribution, results.chosen)
