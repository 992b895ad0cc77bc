"""Browsing suppliers: real G-Cloud suppliers and fictional demo ones, told apart on screen."""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.demo import seed_demo
from app.models import ContentStatus, Review, Supplier
from tests.factories import sign_in
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
    councils = [row.td.get_text(strip=True) for row in profile.select("table tbody tr")]
    assert "Oxfordshire County Council" in councils


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
