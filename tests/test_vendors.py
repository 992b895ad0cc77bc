"""Browsing suppliers and reading a profile: scores, reviews with filters, pilots, councils, and what stays hidden."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.demo import OFFICERS, seed_demo
from app.models import (
    ContentStatus,
    CostBand,
    NdaStatus,
    ProcurementRoute,
    Relationship,
    Review,
    Sale,
    Supplier,
    User,
    utcnow,
)
from app.scores import score_word, scores_for, supplier_score
from app.vendors import forget_aggregates
from tests.factories import (
    AUTHOR_NAME,
    BIRMINGHAM,
    HARROW,
    LEEDS,
    SURREY,
    council,
    counting_queries,
    make_pilot,
    make_review,
    make_supplier,
    sign_in,
)
from tests.html import fragment, validate_page


def test_demo_suppliers_and_their_reviews_are_marked_demo(client: TestClient, session: Session) -> None:
    seed_demo(session)
    sign_in(client, session, "officer@harrow.gov.uk")
    listing = validate_page(client.get("/vendors", params={"q": "(demo)"}).text)
    items = listing.select(".app-supplier-list li")
    assert len(items) == 8
    assert all(item.select_one(".app-demo-tag") for item in items)

    supplier = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True)).order_by(Supplier.name)).first()
    assert supplier is not None
    published = session.exec(
        select(Review).where(Review.supplier_id == supplier.id, Review.status == ContentStatus.published)
    ).all()
    page = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    assert page.h1.select_one(".app-demo-tag") is not None
    reviews = page.select(".app-review")
    assert len(reviews) == len(published) > 0
    assert all(review.select_one(".app-demo-tag") for review in reviews)


def test_pending_reviews_are_not_shown(client: TestClient, session: Session) -> None:
    seed_demo(session)
    pending = session.exec(select(Review).where(Review.status == ContentStatus.pending)).first()
    assert pending is not None
    supplier = session.get(Supplier, pending.supplier_id)
    sign_in(client, session, "officer@harrow.gov.uk")
    text = client.get(f"/vendors/{supplier.slug}").text
    assert pending.headline not in text


def test_a_real_supplier_shows_its_sales_to_councils_and_no_demo_mark(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    listing = validate_page(client.get("/vendors", params={"q": "specialist computer"}).text)
    links = listing.select(".app-supplier-list a")
    assert len(links) == 1  # both spellings are one supplier
    page = validate_page(client.get(links[0]["href"]).text)
    assert page.select_one("main .app-demo-tag") is None
    assert "SPECIALIST COMPUTER CENTRE" in page.get_text() or "Specialist Computer Centre" in page.get_text()
    symantec = validate_page(client.get("/vendors", params={"q": "symantec"}).text).select_one(".app-supplier-list a")
    profile = validate_page(client.get(symantec["href"]).text)
    councils = [
        (row.th.get_text(strip=True), row.td.get_text(strip=True))
        for row in profile.select(".app-council-list tbody tr")
    ]
    assert ("Oxfordshire County Council", "G-Cloud purchase") in councils


def test_the_list_pages_and_answers_htmx_with_the_results_fragment(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    first = validate_page(client.get("/vendors").text)
    assert "Page 1 of" in first.get_text()
    second = validate_page(client.get("/vendors", params={"page": 2}).text)
    assert "Page 2 of" in second.get_text()
    assert first.select(".app-supplier-list a")[0]["href"] != second.select(".app-supplier-list a")[0]["href"]
    beyond = validate_page(client.get("/vendors", params={"page": 99999}).text)
    assert beyond.select(".app-supplier-list a")  # a page past the end shows the last page
    part = client.get("/vendors", params={"q": "symantec"}, headers={"HX-Request": "true"})
    assert part.headers["vary"] == "HX-Request"
    assert len(fragment(part.text).select(".app-supplier-list a")) == 1


# --- the supplier profile ------------------------------------------------------------------------

NOW = utcnow()
OFFICER = "officer@harrow.gov.uk"


def local(href: str) -> str:
    """A link without its scheme and host (`url_for` makes absolute ones)."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


@dataclass
class Reviewed:
    """A supplier with five published reviews (A to E), one pending, two pilots; ids by letter."""

    supplier: Supplier
    ids: dict[str, str]

    @property
    def url(self) -> str:
        return f"/vendors/{self.supplier.slug}"

    def letters(self, soup: BeautifulSoup) -> list[str]:
        by_id = {html_id: letter for letter, html_id in self.ids.items()}
        return [by_id[str(article["id"])] for article in soup.select(".app-review")]


@pytest.fixture
def reviewed(session: Session) -> Reviewed:
    supplier = make_supplier(session)
    specs = {
        # letter: (council, overall, relationship, service area, days ago, extra fields)
        "A": (HARROW, 9, Relationship.live_contract, "Finance", 10, {}),
        "B": (SURREY, 5, Relationship.pilot, "Adult social care", 40, {}),
        "C": (BIRMINGHAM, 7, Relationship.evaluated, "Finance", 20, {}),
        "D": (LEEDS, 3, Relationship.past_contract, "Housing", 800, {"recommend": False}),
        "E": (HARROW, 10, Relationship.live_contract, "Housing", 5, {"keep_text_private": True}),
    }
    reviews = {
        letter: make_review(
            session, supplier, gss_code=gss, overall=overall, relationship=relationship, service_area=area,
            published_at=NOW - timedelta(days=days), headline=f"Review {letter} headline", **extra,
        )
        for letter, (gss, overall, relationship, area, days, extra) in specs.items()
    }  # fmt: skip
    make_review(session, supplier, overall=1, status=ContentStatus.pending, headline="Review P headline")
    recorded = NOW - timedelta(days=30)
    make_pilot(session, supplier, title="Open pilot", gss_code=LEEDS, nda=NdaStatus.no, published_at=recorded)
    make_pilot(
        session, supplier, title="Pilot under NDA", gss_code=SURREY, nda=NdaStatus.unknown, published_at=recorded
    )
    make_pilot(session, supplier, title="Pending pilot", status=ContentStatus.pending)
    return Reviewed(supplier=supplier, ids={letter: f"review-{r.id}" for letter, r in reviews.items()})


def test_filters_choose_the_reviews(client: TestClient, session: Session, reviewed: Reviewed) -> None:
    sign_in(client, session, OFFICER)
    cases = [
        ({}, "EACBD"),
        ({"council_type": "MD"}, "CD"),
        ({"region": "London"}, "EA"),
        ({"relationship": "pilot"}, "B"),
        ({"service_area": "Housing"}, "ED"),
        ({"band": "9-10"}, "EA"),
        ({"band": "7-8"}, "C"),
        ({"band": "5-6"}, "B"),
        ({"band": "1-4"}, "D"),
        ({"council_type": "MD", "service_area": "Finance"}, "C"),
        ({"council_type": "CTY", "band": "9-10"}, ""),
        ({"region": "Atlantis"}, "EACBD"),  # a value no review has is ignored, not an error
    ]
    for params, expected in cases:
        page = validate_page(client.get(reviewed.url, params=params).text)
        assert "".join(reviewed.letters(page)) == expected, params
    empty = validate_page(client.get(reviewed.url, params={"council_type": "CTY", "band": "9-10"}).text)
    assert "No reviews match your filters." in empty.select_one("#review-results").get_text()
    assert empty.select_one("#review-results a", string="Clear filters") is not None


def test_the_filter_form_works_without_javascript_and_with_htmx(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    page = validate_page(client.get(reviewed.url, params={"region": "London", "sort": "lowest"}).text)
    form = page.select_one("form.app-review-filters")
    assert form["method"] == "get" and urlsplit(form["action"]).path == reviewed.url
    assert form.select_one("button").get_text(strip=True) == "Apply filters"
    assert (
        urlsplit(form["hx-get"]).path == reviewed.url
        and form["hx-target"] == "#review-results"
        and form["hx-push-url"] == "true"
    )
    assert form.select_one("#region option[selected]")["value"] == "London"
    assert form.select_one("#sort option[selected]")["value"] == "lowest"
    # Only values that the supplier's reviews have are offered.
    regions = [option["value"] for option in form.select("#region option")]
    assert regions == ["", "London", "South East", "West Midlands", "Yorkshire and The Humber"]
    relationships = [option.get_text(strip=True) for option in form.select("#relationship option")]
    assert relationships == ["Any", "Pilot", "Live contract", "Past contract", "Evaluated but did not buy"]


def test_sorts_order_the_reviews(client: TestClient, session: Session, reviewed: Reviewed) -> None:
    sign_in(client, session, OFFICER)
    for sort, expected in (("newest", "EACBD"), ("highest", "EACBD"), ("lowest", "DBCAE")):
        page = validate_page(client.get(reviewed.url, params={"sort": sort}).text)
        assert "".join(reviewed.letters(page)) == expected, sort
    # Equal scores fall back to the newest first.
    make_review(session, reviewed.supplier, overall=9, published_at=NOW - timedelta(days=1), headline="Newer nine")
    page = validate_page(client.get(reviewed.url, params={"sort": "highest"}).text)
    headings = [h.get_text(" ", strip=True) for h in page.select(".app-review h3")]
    assert headings[1].startswith("Newer nine") and headings[2].startswith("Review A headline")


def test_reviews_come_ten_to_a_page(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    for n in range(23):
        make_review(
            session, supplier, overall=n % 10 + 1, headline=f"Review number {n:02d}",
            published_at=NOW - timedelta(days=n + 1), commit=False,
        )  # fmt: skip
    session.commit()
    sign_in(client, session, OFFICER)
    url = f"/vendors/{supplier.slug}"

    first = validate_page(client.get(url).text)
    assert len(first.select(".app-review")) == 10
    assert "Showing 1 to 10 of 23 reviews." in first.get_text(" ", strip=True)
    assert first.select_one(".app-review h3").get_text(" ", strip=True) == "Review number 00"
    nav = first.select_one("nav.govuk-pagination")
    next_link = nav.select_one(".govuk-pagination__next a")
    assert local(next_link["href"]) == f"{url}?page=2#reviews"
    assert local(next_link["hx-get"]) == f"{url}?page=2" and next_link["hx-target"] == "#review-results"

    last = validate_page(client.get(url, params={"page": 3}).text)
    assert [h.get_text(strip=True) for h in last.select(".app-review h3")] == [
        f"Review number {n}" for n in (20, 21, 22)
    ]
    assert "Showing 21 to 23 of 23 reviews." in last.get_text(" ", strip=True)
    assert last.select_one(".govuk-pagination__next") is None
    beyond = validate_page(client.get(url, params={"page": 99}).text)
    assert len(beyond.select(".app-review")) == 3  # past the end: the last page

    # Filters and sort travel with the page links.
    lowest = validate_page(client.get(url, params={"sort": "lowest", "band": "1-4"}).text)
    assert "Showing 1 to 10 of 11 reviews that match your filters." in lowest.get_text(" ", strip=True)
    assert local(lowest.select_one(".govuk-pagination__next a")["href"]) == f"{url}?band=1-4&sort=lowest&page=2#reviews"


def test_htmx_gets_the_reviews_fragment_and_a_history_restore_the_page(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    params = {"service_area": "Housing", "sort": "lowest"}
    page = validate_page(client.get(reviewed.url, params=params).text)

    part = client.get(reviewed.url, params=params, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.headers["vary"] == "HX-Request"
    soup = fragment(part.text)
    assert reviewed.letters(soup) == reviewed.letters(page.select_one("#review-results")) == ["D", "E"]
    assert soup.select_one("form") is None and soup.select_one(".app-score") is None  # the reviews only
    assert "Showing 1 to 2 of 2 reviews that match your filters." in soup.get_text(" ", strip=True)

    restore = client.get(
        reviewed.url, params=params, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert reviewed.letters(validate_page(restore.text)) == ["D", "E"]


def test_bad_values_in_the_address_get_a_clear_400_page(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    for params in (
        {"sort": "sideways"},
        {"band": "2-3"},
        {"relationship": "friend"},
        {"page": "0"},
        {"page": "x"},
        {"pilots_page": "0"},
        {"pilots_page": "x"},
    ):
        response = client.get(reviewed.url, params=params)
        assert response.status_code == 400, params
        page = validate_page(response.text)
        assert next(iter(params)) in page.select_one("main").get_text(), params
    assert client.get("/vendors/no-such-supplier").status_code == 404


def test_reviewers_appear_as_role_and_council_never_by_name_or_email(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    text = client.get(reviewed.url).text
    page = validate_page(text)
    authors = [p.get_text(" ", strip=True) for p in page.select(".app-review__author")]
    assert authors[0].startswith("Digital lead, London Borough of Harrow · published ")
    assert any(a.startswith("Digital lead, Leeds City Council") for a in authors)
    emails = session.exec(select(User.email).where(col(User.email).like("%@author.invalid"))).all()
    assert AUTHOR_NAME not in text
    assert emails and not any(email in text for email in emails)
    assert "Review P headline" not in text  # pending


def test_demo_reviewers_are_never_named_on_any_demo_supplier(client: TestClient, session: Session) -> None:
    seed_demo(session)
    sign_in(client, session, OFFICER)
    suppliers = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True))).all()
    seen_roles = set()
    for supplier in suppliers:
        text = client.get(f"/vendors/{supplier.slug}").text
        for officer in OFFICERS:
            assert officer.name not in text and officer.email not in text, (supplier.name, officer.name)
        seen_roles.update(
            p.get_text(" ", strip=True).split(" · ")[0] for p in validate_page(text).select(".app-review__author")
        )
    assert "Digital lead, London Borough of Harrow" in seen_roles


def test_private_reviews_show_ratings_but_not_their_text(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    text = client.get(reviewed.url).text
    page = validate_page(text)
    private = page.select_one(f"#{reviewed.ids['E']}")
    assert private.select_one(".app-review__private").get_text(strip=True) == (
        "The reviewer kept their written comments private."
    )
    assert "Review E headline" not in text
    assert "What worked for Review E headline." not in text and "Advice from Review E headline." not in text
    assert "10 out of 10" in private.get_text(" ", strip=True)
    assert len(private.select(".app-review__ratings dt")) == 7
    public = page.select_one(f"#{reviewed.ids['A']}")
    assert public.select_one(".app-review__private") is None
    assert "What worked for Review A headline." in public.get_text()


def test_reviews_older_than_24_months_are_tagged_and_the_score_says_its_period(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    page = validate_page(client.get(reviewed.url).text)
    tagged = [letter for letter in "ABCDE" if page.select_one(f"#{reviewed.ids[letter]} .app-older-tag")]
    assert tagged == ["D"]
    assert page.select_one(f"#{reviewed.ids['D']} .app-older-tag").get_text(strip=True) == "Older review"
    first, last = NOW - timedelta(days=800), NOW - timedelta(days=5)
    period = page.select_one(".app-score__period").get_text(" ", strip=True)
    assert period == f"Based on 5 reviews from {first:%B %Y} to {last:%B %Y}"
    assert (
        page.select_one(".app-score__older")
        .get_text(" ", strip=True)
        .startswith("1 of the 5 reviews is more than 24 months old")
    )


def test_the_score_block_shows_what_supplier_score_computes(client: TestClient, session: Session) -> None:
    seed_demo(session)
    sign_in(client, session, OFFICER)
    supplier = session.exec(select(Supplier).where(Supplier.name == "Quillmere Case Systems (demo)")).one()
    score = supplier_score(session, supplier_id=supplier.id or 0)
    assert score.count == 10
    page = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    block = page.select_one(".app-score-block")

    assert block.select_one(".app-score__number").get_text(" ", strip=True) == f"{score.overall:.1f} out of 10"
    assert block.select_one(".app-score__word").get_text(strip=True) == score.word
    assert block.select_one(".app-score__period").get_text(" ", strip=True) == (
        f"Based on 10 reviews from {score.period}"
    )
    assert block.select_one(".app-score__recommend").get_text(" ", strip=True) == (
        f"{score.recommend_percent}% would recommend this supplier to a peer council"
    )
    rows = block.select(".app-dimensions .app-bars__row")
    shown = [
        (
            r.select_one(".app-bars__label").get_text(strip=True),
            r.select_one(".app-bars__value").get_text(" ", strip=True),
        )
        for r in rows
    ]
    expected = [
        (
            d.label,
            "Not rated"
            if d.mean is None
            else f"{d.mean:.1f} out of 5, from {d.count} review{'' if d.count == 1 else 's'}",
        )
        for d in score.dimensions
    ]
    assert shown == expected
    assert all(r.select_one(".app-bar")["aria-hidden"] == "true" for r in rows)
    for dimension, row in zip(score.dimensions, rows, strict=True):
        assert f"app-bar--{dimension.bar}" in row.select_one(".app-bar__fill")["class"]
    distribution = {
        int(r.select_one(".app-bars__label").get_text(" ", strip=True).split()[0]): int(
            r.select_one(".app-bars__value").get_text(" ", strip=True).split()[0]
        )
        for r in block.select(".app-distribution .app-bars__row")
    }
    assert distribution == score.distribution
    assert "style" not in str(block)  # the CSP forbids inline styles: widths come from classes


def test_the_councils_that_use_it_come_from_reviews_pilots_and_sales(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    make_review(session, reviewed.supplier, gss_code=HARROW, published_at=NOW - timedelta(days=400))
    harrow_id = council(session, HARROW).id
    session.add(
        Sale(
            source_id=990001, supplier_id=reviewed.supplier.id or 0, council_id=harrow_id,
            customer_name="London Borough of Harrow", month=date(2013, 5, 1), description="Licences",
            amount_pence=100000, framework="G-Cloud 3", lot="Lot 3",
        )
    )  # fmt: skip
    session.add(
        Sale(
            source_id=990002, supplier_id=reviewed.supplier.id or 0, council_id=None,
            customer_name="A Housing Association", month=date(2013, 6, 1), description="Licences",
            amount_pence=100000, framework="G-Cloud 3", lot="Lot 3",
        )
    )  # fmt: skip
    session.commit()
    sign_in(client, session, OFFICER)
    page = validate_page(client.get(reviewed.url).text)
    rows = [
        tuple(cell.get_text(strip=True) for cell in row.select("th, td"))
        for row in page.select(".app-council-list tbody tr")
    ]
    a_month = f"{NOW - timedelta(days=5):%B %Y}"  # review E, Harrow's latest
    assert rows == [
        ("Birmingham City Council", "Review", f"{NOW - timedelta(days=20):%B %Y}"),
        ("Leeds City Council", "Review", f"{NOW - timedelta(days=800):%B %Y}"),
        ("Leeds City Council", "Pilot", f"{NOW - timedelta(days=30):%B %Y}"),
        ("London Borough of Harrow", "Review", a_month),
        ("London Borough of Harrow", "G-Cloud purchase", "May 2013"),
        ("Surrey County Council", "Review", f"{NOW - timedelta(days=40):%B %Y}"),
        ("Surrey County Council", "Pilot", f"{NOW - timedelta(days=30):%B %Y}"),
    ]


def test_pilots_show_their_record_and_mark_nda_details(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)
    page = validate_page(client.get(reviewed.url).text)
    pilots = {p.h3.get_text(strip=True): p for p in page.select(".app-pilot")}
    assert set(pilots) == {"Open pilot", "Pilot under NDA"}  # the pending one is not shown
    nda, open_pilot = pilots["Pilot under NDA"], pilots["Open pilot"]
    note = "Written details are shared with signed-in officers only."
    assert note in nda.get_text(" ", strip=True) and note not in open_pilot.get_text(" ", strip=True)
    # Every viewer is a signed-in officer, so the written details still show.
    assert (
        "The problem Pilot under NDA addressed." in nda.get_text()
        and "The lessons of Pilot under NDA." in nda.get_text()
    )
    facts = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
        for row in open_pilot.select(".govuk-summary-list__row")
    }
    assert facts["Council"] == "Leeds City Council"
    assert facts["Status"] == "Completed"
    assert facts["Dates"] == "6 January 2025 to 4 April 2025"
    assert facts["Recorded by"] == "Service lead, Leeds City Council"
    assert AUTHOR_NAME not in page.get_text()


def test_contract_facts_are_in_the_members_only_block(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    full = make_review(
        session, supplier, headline="With contract facts", procurement_route=ProcurementRoute.framework,
        framework_lot="G-Cloud 14, Lot 2: cloud software", contract_end=date(2027, 3, 31),
        cost_band=CostBand.from_25k_to_100k, exact_cost_pence=4_250_050,
        exact_cost_source_url="https://www.contractsfinder.service.gov.uk/notice/abc",
    )  # fmt: skip
    unsourced = make_review(session, supplier, headline="Exact cost without a source", exact_cost_pence=123_400)
    unsafe = make_review(
        session, supplier, headline="Unsafe link", exact_cost_pence=500_000, exact_cost_source_url="javascript:alert(1)"
    )
    bare = make_review(session, supplier, headline="No contract facts")
    sign_in(client, session, OFFICER)
    page = validate_page(client.get(f"/vendors/{supplier.slug}").text)

    block = page.select_one(f"#review-{full.id} .app-members-only.app-contract-facts")
    facts = {row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True) for row in block.select(".app-ratings__row")}
    assert facts == {
        "Procurement route": "Framework: G-Cloud 14, Lot 2: cloud software",
        "Contract ends": "31 March 2027",
        "Annual cost": "£25k to £100k",
        "Exact cost": "£42,500.50 ( where it is published )",
    }
    assert block.select_one("a")["href"] == "https://www.contractsfinder.service.gov.uk/notice/abc"
    for review in (unsourced, unsafe, bare):
        assert page.select_one(f"#review-{review.id} .app-contract-facts") is None
    assert "javascript:" not in page.decode()


def test_the_list_shows_each_suppliers_score_and_review_count(
    client: TestClient, session: Session, engine: Engine
) -> None:
    seed_demo(session)
    sign_in(client, session, OFFICER)
    suppliers = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True))).all()
    scores = scores_for(session, supplier_ids=[s.id or 0 for s in suppliers])
    page = validate_page(client.get("/vendors", params={"q": "(demo)"}).text)
    shown = {
        item.a.get_text(strip=True): item.select_one(".app-list-score").get_text(" ", strip=True)
        for item in page.select(".app-supplier-list li")
    }
    for supplier in suppliers:
        mean, count = scores[supplier.id or 0]
        if mean is None:
            assert shown[supplier.name] == "No reviews yet"
        else:
            expected = rf"{mean:.1f} out of 10 {score_word(mean)} · {count} reviews?"
            assert re.fullmatch(expected, shown[supplier.name]), shown
    real = validate_page(client.get("/vendors", params={"q": "symantec"}).text)
    assert real.select_one(".app-list-score").get_text(strip=True) == "No reviews yet"

    with counting_queries(engine) as queries:
        client.get("/vendors", params={"q": "(demo)"})
    eight = queries()
    with counting_queries(engine) as queries:
        client.get("/vendors", params={"q": "quillmere"})
    assert queries() == eight  # the scores of a page of suppliers come in one query


def test_the_profile_runs_the_same_queries_for_3_or_30_reviews(
    client: TestClient, session: Session, engine: Engine
) -> None:
    small, large = make_supplier(session, name="Small Supplier"), make_supplier(session, name="Large Supplier")
    councils = (HARROW, SURREY, BIRMINGHAM, LEEDS)
    for n in range(3):
        make_review(session, small, gss_code=councils[n], overall=n + 5, commit=False)
    make_pilot(session, small, commit=False)
    for n in range(30):
        make_review(
            session, large, gss_code=councils[n % 4], overall=n % 10 + 1, keep_text_private=n % 3 == 0,
            published_at=NOW - timedelta(days=40 * n), cost_band=CostBand.under_5k, commit=False,
        )  # fmt: skip
    for n in range(26):
        make_pilot(session, large, gss_code=councils[n % 4], nda=NdaStatus.yes, open_to_contact=True, commit=False)
    session.commit()
    small_url, large_url = f"/vendors/{small.slug}", f"/vendors/{large.slug}"
    sign_in(client, session, OFFICER)

    client.get(small_url)  # loads what is cached between requests (the watched terms for the censor filter)
    pilots = {"HX-Request": "true", "HX-Target": "pilot-results"}
    cases = (
        ("small page", small_url, {}),
        ("large page", large_url, {}),
        ("large page 3 of pilots", f"{large_url}?pilots_page=3", {}),
        ("small fragment", small_url, {"HX-Request": "true"}),
        ("large fragment", large_url, {"HX-Request": "true"}),
        ("small pilots fragment", small_url, pilots),
        ("large pilots fragment", f"{large_url}?pilots_page=2", pilots),
    )
    cold: dict[str, int] = {}
    warm: dict[str, int] = {}
    for counts, forget in ((cold, True), (warm, False)):
        for name, url, headers in cases:
            if forget:
                forget_aggregates()  # the score, counts and councils are computed again, as after a publication
            with counting_queries(engine) as queries:
                response = client.get(url, headers=headers)
            assert response.status_code == 200
            counts[name] = queries()
        client.get(small_url)  # both suppliers' aggregates cached for the second round
    assert len(set(cold.values())) == 1, cold
    assert len(set(warm.values())) == 1, warm
    assert warm["large page"] < cold["large page"]  # the aggregates come from the cache
    large_page = validate_page(client.get(large_url).text)
    assert len(large_page.select(".app-review")) == 10 and len(large_page.select(".app-pilot")) == 10
    print(f"queries for one supplier page: {cold['large page']}, {warm['large page']} with the aggregates cached")


# --- pilots, a page at a time ----------------------------------------------------------------------------------------


@pytest.fixture
def piloted(session: Session) -> Supplier:
    """A supplier with 23 published pilots, "Pilot number 00" the newest, one pending, and 12 reviews."""
    supplier = make_supplier(session)
    for n in range(23):
        make_pilot(
            session, supplier, title=f"Pilot number {n:02d}", published_at=NOW - timedelta(days=n + 1), commit=False
        )
    make_pilot(session, supplier, title="Pending pilot", status=ContentStatus.pending, commit=False)
    for n in range(12):
        make_review(session, supplier, overall=n % 10 + 1, published_at=NOW - timedelta(days=n + 1), commit=False)
    session.commit()
    return supplier


def pilot_titles(soup: BeautifulSoup) -> list[str]:
    return [article.h3.get_text(" ", strip=True) for article in soup.select(".app-pilot")]


def test_pilots_come_ten_to_a_page(client: TestClient, session: Session, piloted: Supplier) -> None:
    sign_in(client, session, OFFICER)
    url = f"/vendors/{piloted.slug}"

    first = validate_page(client.get(url).text)
    section = first.select_one("#pilot-results")
    assert pilot_titles(section) == [f"Pilot number {n:02d}" for n in range(10)]
    assert "Showing 1 to 10 of 23 pilots." in section.get_text(" ", strip=True)
    nav = section.select_one("nav.govuk-pagination")
    assert nav["aria-label"] == "Pages of pilots"
    assert [a.get_text(strip=True) for a in nav.select(".govuk-pagination__item a")] == ["1", "2", "3"]
    next_link = nav.select_one(".govuk-pagination__next a")
    assert local(next_link["href"]) == f"{url}?pilots_page=2#pilots"  # works without JavaScript
    assert local(next_link["hx-get"]) == f"{url}?pilots_page=2"
    assert next_link["hx-target"] == "#pilot-results" and next_link["hx-push-url"] == "true"
    assert len(first.select("#review-results .app-review")) == 10  # the reviews page on their own

    second = validate_page(client.get(url, params={"pilots_page": 2}).text)
    assert pilot_titles(second) == [f"Pilot number {n:02d}" for n in range(10, 20)]
    assert "Showing 11 to 20 of 23 pilots." in second.select_one("#pilot-results").get_text(" ", strip=True)
    assert local(second.select_one("#pilot-results .govuk-pagination__prev a")["href"]) == f"{url}#pilots"
    assert second.select_one("#pilot-results .app-pilot-page-note") is None

    last = validate_page(client.get(url, params={"pilots_page": 3}).text)
    assert pilot_titles(last) == ["Pilot number 20", "Pilot number 21", "Pilot number 22"]  # never the pending one
    assert last.select_one("#pilot-results .govuk-pagination__next") is None


def test_a_pilot_page_past_the_end_says_so_and_shows_the_last_page(
    client: TestClient, session: Session, piloted: Supplier
) -> None:
    sign_in(client, session, OFFICER)
    url = f"/vendors/{piloted.slug}"
    response = client.get(url, params={"pilots_page": 99})
    assert response.status_code == 200
    page = validate_page(response.text)
    note = page.select_one("#pilot-results .app-pilot-page-note")
    assert note.get_text(" ", strip=True) == "There is no page 99 of pilots: there are 3 pages. This is the last page."
    assert pilot_titles(page) == ["Pilot number 20", "Pilot number 21", "Pilot number 22"]
    assert "Showing 21 to 23 of 23 pilots." in page.select_one("#pilot-results").get_text(" ", strip=True)
    # A supplier without pilots has no pages to be past.
    bare = make_supplier(session, name="No Pilots Ltd")
    empty = validate_page(client.get(f"/vendors/{bare.slug}", params={"pilots_page": 5}).text)
    assert empty.select_one("#pilot-results").get_text(" ", strip=True) == "No pilots recorded yet."


def test_pilot_pages_keep_the_review_filters_and_reviews_keep_their_page(
    client: TestClient, session: Session, piloted: Supplier
) -> None:
    sign_in(client, session, OFFICER)
    url = f"/vendors/{piloted.slug}"
    page = validate_page(client.get(url, params={"sort": "lowest", "page": 2, "pilots_page": 2}).text)
    assert len(page.select("#review-results .app-review")) == 2  # reviews 11 and 12 of 12
    assert pilot_titles(page)[0] == "Pilot number 10"
    nav = page.select_one("#pilot-results nav.govuk-pagination")
    assert (
        local(nav.select_one(".govuk-pagination__next a")["href"]) == f"{url}?sort=lowest&page=2&pilots_page=3#pilots"
    )
    assert local(nav.select_one(".govuk-pagination__prev a")["hx-get"]) == f"{url}?sort=lowest&page=2"


def test_htmx_gets_the_pilots_fragment_for_the_pilot_pages(
    client: TestClient, session: Session, piloted: Supplier
) -> None:
    sign_in(client, session, OFFICER)
    url = f"/vendors/{piloted.slug}"
    part = client.get(url, params={"pilots_page": 2}, headers={"HX-Request": "true", "HX-Target": "pilot-results"})
    assert part.status_code == 200 and part.headers["vary"] == "HX-Request"
    soup = fragment(part.text)
    assert pilot_titles(soup) == [f"Pilot number {n:02d}" for n in range(10, 20)]
    assert soup.select_one(".app-review") is None and soup.select_one("form") is None  # the pilots only
    assert "Showing 11 to 20 of 23 pilots." in soup.get_text(" ", strip=True)
    # The reviews' own htmx requests still get the reviews.
    reviews = fragment(client.get(url, headers={"HX-Request": "true", "HX-Target": "review-results"}).text)
    assert len(reviews.select(".app-review")) == 10 and reviews.select_one(".app-pilot") is None
    # A history restore gets the whole page, on the page of pilots in its address.
    restore = client.get(
        url,
        params={"pilots_page": 3},
        headers={"HX-Request": "true", "HX-Target": "pilot-results", "HX-History-Restore-Request": "true"},
    )
    assert pilot_titles(validate_page(restore.text)) == ["Pilot number 20", "Pilot number 21", "Pilot number 22"]


def test_each_pilot_links_to_its_contact_report_and_flag_pages(
    client: TestClient, session: Session, piloted: Supplier
) -> None:
    open_pilot = make_pilot(session, piloted, title="Open to contact", open_to_contact=True, published_at=NOW)
    author = session.get(User, open_pilot.author_id)
    assert author is not None
    author.open_to_contact = True  # both the author and the record take contact requests
    session.add(author)
    session.commit()
    sign_in(client, session, OFFICER)
    page = validate_page(client.get(f"/vendors/{piloted.slug}").text)
    article = page.select_one(f"#pilot-{open_pilot.id}")
    links = {a.get_text(" ", strip=True): local(a["href"]) for a in article.select("a")}
    assert links == {
        "Request a peer contact with the author of this pilot": (
            f"/contacts/new?about_type=pilot&about_id={open_pilot.id}"
        ),
        "Report a statement in this pilot as defamatory": f"/complaints/new?about=pilot%3A{open_pilot.id}",
        "Report this pilot to the moderators": f"/pilots/{open_pilot.id}/flag",
    }


def test_the_cached_score_counts_and_councils_change_as_soon_as_a_review_is_published_or_taken_down(
    client: TestClient, session: Session, reviewed: Reviewed
) -> None:
    sign_in(client, session, OFFICER)

    def shown() -> tuple[str, str, list[str]]:
        page = validate_page(client.get(reviewed.url).text)
        councils = [row.th.get_text(strip=True) for row in page.select(".app-council-list tbody tr")]
        return (
            page.select_one(".app-score__period").get_text(" ", strip=True).split(" from ")[0],
            page.select_one(".app-review-count").get_text(" ", strip=True).split(".")[0],
            councils,
        )

    period, count, councils = shown()
    assert (period, count) == ("Based on 5 reviews", "Showing 1 to 5 of 5 reviews")
    assert "Cornwall Council" not in councils
    pending = session.exec(select(Review).where(Review.headline == "Review P headline")).one()
    cornwall = council(session, "E06000052")
    pending.status, pending.published_at, pending.council_id = ContentStatus.published, NOW, cornwall.id or 0
    session.add(pending)
    session.commit()  # published by a moderator
    period, count, councils = shown()
    assert (period, count) == ("Based on 6 reviews", "Showing 1 to 6 of 6 reviews")
    assert "Cornwall Council" in councils

    pending.status = ContentStatus.removed
    session.add(pending)
    session.commit()  # taken down
    period, count, councils = shown()
    assert (period, count) == ("Based on 5 reviews", "Showing 1 to 5 of 5 reviews")
    assert "Cornwall Council" not in councils
