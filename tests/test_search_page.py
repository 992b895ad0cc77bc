"""The search page: search-as-you-type with htmx and without, facets, sort, highlighting, pagination and errors."""

import math
import re
from collections import Counter
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app import contributions
from app.demo import seed_demo
from app.deps import get_search_backend
from app.models import ContentStatus, ContentType, Pilot, Review, Role, Supplier
from app.moderation import queue
from app.search.base import SearchParams, SearchQueryError, SearchUnavailable
from tests.factories import make_supplier, make_user, sign_in
from tests.html import error_summary, fragment, parse, validate_page
from tests.test_api_contributions import review_body

HTMX = {"HX-Request": "true"}


@pytest.fixture
def officer(client: TestClient, session: Session) -> None:
    make_user(session, email="searcher@harrow.gov.uk")
    sign_in(client, session, "searcher@harrow.gov.uk")


def search(client: TestClient, *, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    return client.get("/search", params=params, headers=headers)


def page(client: TestClient, **params: Any) -> BeautifulSoup:
    response = search(client, **params)
    assert response.status_code == 200, response.text
    return validate_page(response.text)


def hits(soup: BeautifulSoup) -> list[Tag]:
    return soup.select("li.app-search-hit")


def hit_links(soup: BeautifulSoup) -> list[str]:
    return [str(a["href"]) for a in soup.select("li.app-search-hit h3 a")]


def facet_counts(soup: BeautifulSoup, attribute: str) -> dict[str, int]:
    """The values of one facet as the page shows them, with their counts."""
    counts = {}
    for box in soup.select(f"input.govuk-checkboxes__input[name={attribute}]"):
        label = soup.find("label", attrs={"for": box["id"]})
        assert label is not None
        match = re.search(r"\((\d+)\)\s*$", label.get_text(" ", strip=True))
        assert match, label.get_text()
        counts[str(box["value"])] = int(match.group(1))
    return counts


def published_suppliers(session: Session) -> int:
    return session.exec(
        select(func.count())
        .select_from(Supplier)
        .where(col(Supplier.status) == ContentStatus.published, col(Supplier.merged_into_id).is_(None))
    ).one()


# --- the page, with and without JavaScript -------------------------------------------------------------------------


def test_the_search_page_is_for_signed_in_officers(client: TestClient, session: Session) -> None:
    response = client.get("/search", params={"q": "crm"}, follow_redirects=False)
    assert response.status_code == 303
    assert "/sign-in" in response.headers["location"]


def test_the_form_works_without_javascript_and_searches_as_you_type_with_htmx(
    client: TestClient, session: Session, officer: None
) -> None:
    seed_demo(session)
    soup = page(client, q="quillmere")
    form = soup.select_one("form#search-form")
    assert form is not None
    assert form["method"] == "get" and form["action"].endswith("/search")
    assert form["hx-get"].endswith("/search") and form["hx-push-url"] == "true"
    # Typing searches once it pauses; a filter, the scope or the sort searches at once, but leaving the box does
    # not search again (that answer would redraw the filters over a tick made meanwhile); the newest request wins.
    assert form["hx-trigger"] == "input changed delay:300ms from:#q, change target:*:not(#q), submit"
    assert form["hx-sync"] == "this:replace"
    assert form["hx-target"] == "#search-results"
    results = soup.select_one("#search-results")
    assert results is not None and results["aria-live"] == "polite"
    assert soup.select_one("input#q")["value"] == "quillmere"
    assert soup.select_one("input[name=index][value=vendors]").has_attr("checked")
    assert form.select_one("button[type=submit]") is not None
    assert hit_links(soup)[0].endswith("/vendors/quillmere-case-systems-demo")
    assert soup.select_one("#search-filters") is not None and not soup.select_one("[hx-swap-oob]")

    response = search(client, headers=HTMX, q="quillmere")
    assert response.status_code == 200
    assert response.headers["vary"] == "HX-Request"
    part = fragment(response.text)
    assert hit_links(part)[0].endswith("/vendors/quillmere-case-systems-demo")
    filters = part.select_one("#search-filters")
    assert filters is not None and filters["hx-swap-oob"] == "true", "the facet counts come out of band"
    assert part.find("title") is not None and "quillmere" in part.find("title").get_text()
    assert part.find("h1") is None

    restore = search(client, headers={**HTMX, "HX-History-Restore-Request": "true"}, q="quillmere")
    validate_page(restore.text)


def test_every_page_has_a_search_box_in_the_header_for_signed_in_officers(client: TestClient, session: Session) -> None:
    signed_out = parse(client.get("/sign-in").text)
    assert signed_out.select_one("form[role=search]") is None
    make_user(session, email="searcher@harrow.gov.uk")
    sign_in(client, session, "searcher@harrow.gov.uk")
    soup = validate_page(client.get("/vendors").text)
    box = soup.select_one("header form[role=search]")
    assert box is not None and box["method"] == "get" and box["action"].endswith("/search")
    label = box.find("label")
    assert label.get_text(strip=True) == "Search suppliers, pilots and reviews"
    assert "govuk-visually-hidden" in label["class"]
    assert box.select_one(f"input#{label['for']}[name=q]") is not None
    assert not box.find("script") and not box.has_attr("hx-get")
    assert any(a.get_text(strip=True) == "Search" for a in soup.select(".govuk-service-navigation__link"))
    own = validate_page(client.get("/search").text)  # the search page has its own box, not two
    assert own.select_one("header form[role=search]") is None


# --- finding ------------------------------------------------------------------------------------------------------


def test_a_typo_still_finds_a_supplier_from_the_reference_data(
    client: TestClient, session: Session, officer: None
) -> None:
    soup = page(client, q="symantek")
    assert any(link.endswith("/vendors/symantec-ltd") for link in hit_links(soup))


def test_accents_and_case_are_folded(client: TestClient, session: Session, officer: None) -> None:
    make_supplier(session, "Café Lumière Systems", description="Catering tills for school kitchens.")
    for q in ("cafe lumiere", "CAFÉ", "Lumiere"):
        found = hits(page(client, q=q))
        assert found and found[0].select_one("h3 a").get_text() == "Café Lumière Systems", q


def test_matches_are_marked_and_the_supplier_text_around_them_is_escaped(
    client: TestClient, session: Session, officer: None
) -> None:
    make_supplier(
        session,
        "Fenwick Ledger Systems",
        description='Ledgers <script>alert("x")</script> & <b>bold</b> claims for parish councils.',
    )
    response = search(client, q="ledgers")
    assert response.status_code == 200
    assert '<script>alert("x")</script>' not in response.text and "<b>bold</b>" not in response.text
    soup = validate_page(response.text)  # it also fails on any inline <script>
    hit = next(h for h in hits(soup) if "fenwick" in h.get_text().lower())
    text = hit.select_one(".app-search-hit__text")
    assert text is not None
    assert [m.get_text() for m in text.find_all("mark")] == ["Ledgers"]
    assert '<script>alert("x")</script> & <b>bold</b>' in text.get_text()
    assert text.find("script") is None and text.find("b") is None
    assert hit.select_one("h3 a mark") is not None, "the name is highlighted too"


def test_a_review_approved_then_withdrawn_or_rejected_is_never_found_again(
    client: TestClient, session: Session, officer: None
) -> None:
    supplier = make_supplier(session, "Fenwick Ledger Systems")
    author = make_user(session, email="writer@harrow.gov.uk", job_title="Finance systems lead")
    moderator = make_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)

    def submit(headline: str) -> Review:
        raw = review_body(supplier, headline=headline, service_area="Finance")
        data = contributions.parse_review(session, supplier=supplier, raw=raw)
        submission = contributions.submit_review(session, author=author, supplier=supplier, data=data)
        assert submission.status == ContentStatus.pending
        review = submission.content
        assert isinstance(review, Review)
        return review

    def decide(review: Review, action: queue.Action, **extra: Any) -> None:
        item = contributions.open_item_for(session, content_type=ContentType.review, content_id=review.id or 0)
        assert item is not None
        queue.decide(session, moderator=moderator, item_id=item.id or 0, version=item.version, action=action, **extra)

    def found(word: str) -> list[str]:
        return hit_links(page(client, index="reviews", q=word))

    first = submit("Zanzibarian ledger migration")
    assert found("zanzibarian") == [], "not before a moderator approves it"
    decide(first, queue.Action.approve)
    assert len(found("zanzibarian")) == 1
    session.refresh(first)
    contributions.withdraw(session, author=author, content=first)
    assert found("zanzibarian") == []

    second = submit("Quetzalcoatl reconciliation")
    decide(second, queue.Action.approve)
    assert len(found("quetzalcoatl")) == 1
    session.refresh(second)
    raw = review_body(supplier, headline="Quetzalcoatl reconciliation, revisited", service_area="Finance")
    edited = contributions.edit(
        session, author=author, content=second, data=contributions.parse_review(session, supplier=supplier, raw=raw)
    )
    assert edited.status == ContentStatus.pending
    assert found("quetzalcoatl") == [], "an edit waiting for a moderator is not searchable"
    decide(second, queue.Action.reject, reason_code="off_topic")
    assert found("quetzalcoatl") == []
    assert found("revisited") == []


# --- facets, filters, sort and pages -------------------------------------------------------------------------------


def test_facet_counts_agree_with_the_database(client: TestClient, session: Session, officer: None) -> None:
    seed_demo(session)
    reviews = page(client, index="reviews")
    by_area = Counter(
        session.exec(select(Review.service_area).where(col(Review.status) == ContentStatus.published)).all()
    )
    assert facet_counts(reviews, "service_area") == dict(by_area)
    total = sum(by_area.values())
    assert reviews.select_one("#results-count").get_text(" ", strip=True).startswith(f"{total} reviews")

    pilots = page(client, index="pilots")
    by_area = Counter(
        session.exec(select(Pilot.service_area).where(col(Pilot.status) == ContentStatus.published)).all()
    )
    assert facet_counts(pilots, "service_area") == dict(by_area)

    vendors = page(client, index="vendors")
    with_pilots = len(
        set(session.exec(select(Pilot.supplier_id).where(col(Pilot.status) == ContentStatus.published)).all())
    )
    assert facet_counts(vendors, "has_pilots")["true"] == with_pilots
    assert sum(facet_counts(vendors, "has_pilots").values()) == published_suppliers(session)


def test_ticking_facets_filters_the_results_and_keeps_the_other_counts(
    client: TestClient, session: Session, officer: None
) -> None:
    seed_demo(session)
    everything = facet_counts(page(client, index="pilots"), "service_area")
    soup = page(client, index="pilots", service_area="Customer services")
    shown = hits(soup)
    assert len(shown) == everything["Customer services"] == 2
    assert all("Customer services" in h.select_one(".app-search-hit__meta").get_text() for h in shown)
    ticked = soup.select_one("input[name=service_area][value='Customer services']")
    assert ticked is not None and ticked.has_attr("checked")
    assert facet_counts(soup, "service_area") == everything, "the other values of a ticked facet keep their counts"

    both = page(client, index="pilots", service_area=["Customer services", "Housing"])
    assert len(hits(both)) == everything["Customer services"] + everything["Housing"]

    narrowed = page(client, index="pilots", service_area=["Customer services", "Housing"], outcome="Adopted")
    outcomes = {h.select_one(".app-search-hit__meta").get_text() for h in hits(narrowed)}
    assert outcomes and all("Adopted" in text for text in outcomes)

    fragment_soup = fragment(search(client, headers=HTMX, index="pilots", service_area="Housing").text)
    assert len(hits(fragment_soup)) == everything["Housing"]


def test_a_filter_value_is_always_one_quoted_value(client: TestClient, session: Session, officer: None) -> None:
    seed_demo(session)
    for hostile in ('Housing" OR service_area != "x', "Housing\\", 'x" OR is_demo = true OR region = "y'):
        response = search(client, index="pilots", service_area=hostile)
        assert response.status_code in (200, 400), response.text
        assert hits(parse(response.text)) == [], hostile


def test_sorting_by_score_and_by_number_of_reviews(client: TestClient, session: Session, officer: None) -> None:
    seed_demo(session)
    soup = page(client, index="reviews", sort="score")
    scores = [int(h.select_one(".app-search-hit__meta strong").get_text()) for h in hits(soup)]
    assert len(scores) > 5 and scores == sorted(scores, reverse=True)
    assert soup.select_one("select#sort option[selected]")["value"] == "score"

    soup = page(client, index="vendors", sort="reviews")
    counts = []
    for h in hits(soup):
        match = re.search(r"(\d+) reviews?", h.select_one(".app-search-hit__meta").get_text())
        counts.append(int(match.group(1)) if match else 0)
    assert counts[0] > 0 and counts == sorted(counts, reverse=True)

    pilots = page(client, index="pilots", sort="reviews")  # not a sort pilots have: best match instead
    assert [o["value"] for o in pilots.select("select#sort option")] == ["relevance", "newest"]
    assert pilots.select_one("select#sort option[selected]")["value"] == "relevance"


def test_pages_of_results_with_totals(client: TestClient, session: Session, officer: None) -> None:
    total = published_suppliers(session)
    pages = math.ceil(total / 20)
    first = page(client, index="vendors")
    assert first.select_one("#results-count").get_text(" ", strip=True) == f"{total:,} suppliers"
    assert len(hits(first)) == 20
    assert f"Page 1 of {pages}" in first.select_one(".govuk-pagination").get_text(" ", strip=True)
    following = first.select_one(".govuk-pagination a[rel=next]")["href"]
    assert "page=2" in following and "index=vendors" in following
    second = validate_page(client.get(following).text)
    assert f"Page 2 of {pages}" in second.select_one(".govuk-pagination").get_text(" ", strip=True)
    assert set(hit_links(second)).isdisjoint(hit_links(first))
    assert second.select_one(".govuk-pagination a[rel=prev]") is not None


# --- errors ------------------------------------------------------------------------------------------------------


def test_a_bad_filter_or_index_gets_a_400_page_with_the_error(
    client: TestClient, session: Session, officer: None
) -> None:
    bad = search(client, index="pilots", status="Running\x01")
    assert bad.status_code == 400
    soup = validate_page(bad.text)
    assert error_summary(soup) == [
        "The “Pilot status” filter has a value that is not valid. Clear the filters and try again."
    ]
    assert soup.find("title").get_text().startswith("Error:")
    assert soup.select_one("#filters") is not None

    unknown = search(client, index="secrets", q="x")
    assert unknown.status_code == 400
    assert error_summary(validate_page(unknown.text)) == ["Select suppliers, pilots or reviews"]

    assert search(client, headers=HTMX, index="secrets").status_code == 400
    assert search(client, page="0").status_code == 400


class Refusing:
    """A backend that refuses every search as the real ones do for a bad query, or is down."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def search(self, index: str, params: SearchParams) -> dict[str, Any]:
        raise self.error


def test_the_backends_errors_are_a_400_or_a_503_page_never_a_500(
    client: TestClient, session: Session, officer: None
) -> None:
    app = client.app
    try:
        app.dependency_overrides[get_search_backend] = lambda: Refusing(
            SearchQueryError("Attribute `x` is not filterable.", code="invalid_search_filter")
        )
        refused = search(client, q="crm")
        assert refused.status_code == 400
        assert error_summary(validate_page(refused.text)) == ["Attribute `x` is not filterable."]

        app.dependency_overrides[get_search_backend] = lambda: Refusing(SearchUnavailable("connection refused"))
        down = search(client, q="crm")
        assert down.status_code == 503
        assert "Search is not available at the moment" in validate_page(down.text).get_text()
    finally:
        app.dependency_overrides.clear()
