"""What watched terms do to contributions: block, require approval, flag and replace at submission (WW-3, WW-5), and
censor wherever a contribution is shown: the supplier page, search and the API (WW-4)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import contributions
from app.models import ContentStatus, ContentType, Finding, ModerationItem, Pilot, Review, Role, Supplier, User
from app.moderation import watched
from tests.factories import make_pilot, make_review, make_supplier, make_user, sign_in
from tests.html import error_summary, fragment, validate_page
from tests.test_api_contributions import pilot_body, review_body, token_for
from tests.test_contribute import VALID_PILOT, VALID_REVIEW, officer, post, submitted_id, trust

HTMX = {"HX-Request": "true"}


def watch(session: Session, term: str, action: str, **fields: Any) -> None:
    admin = session.exec(select(User).where(User.email == "admin@harrow.gov.uk")).first()
    if admin is None:
        admin = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    watched.add_term(session, actor=admin, data=watched.parse_term({"term": term, "action": action, **fields}))


@pytest.fixture
def supplier(session: Session) -> Supplier:
    return make_supplier(session, "Fenwick Ledger Systems")


def trusted_officer(client: TestClient, session: Session, supplier: Supplier) -> User:
    user = officer(client, session)
    trust(session, user, supplier)
    return user


def a_review(session: Session, supplier: Supplier, *, headline: str, advice: str) -> Review:
    review = make_review(session, supplier, headline=headline)
    review.advice = advice
    session.add(review)
    session.commit()
    return review


def item_for(session: Session, content_type: ContentType, content_id: int) -> ModerationItem | None:
    session.expire_all()
    return contributions.open_item_for(session, content_type=content_type, content_id=content_id)


# --- block ---------------------------------------------------------------------------------------------------------


def test_a_blocked_review_is_refused_with_every_blocked_term_named(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watch(session, "SECRET", "block", case_sensitive="yes")
    watch(session, "TOP SECRET", "block", case_sensitive="yes")
    watch(session, "hush*", "block")
    watch(session, "Y", "require_approval")  # block comes first (WW-5)
    officer(client, session)
    text = {"worked_well": "The TOP SECRET plan, a SECRET price and Y.", "advice": "Keep it hush-hush."}

    response = post(client, f"/vendors/{supplier.slug}/reviews/new", {**VALID_REVIEW, **text})

    assert response.status_code == 422
    page = validate_page(response.text)
    assert error_summary(page) == [
        "What worked contains “TOP SECRET” and “SECRET”, which cannot be published. Remove them and try again",
        "Advice to a peer contains “hush-hush”, which cannot be published. Remove it and try again",
    ]
    assert page.select_one("#worked_well-error") is not None
    assert page.select_one("#worked_well").get_text() == text["worked_well"], "what the officer wrote is kept"
    assert session.exec(select(Review).where(Review.supplier_id == supplier.id)).all() == []

    htmx = post(client, f"/vendors/{supplier.slug}/reviews/new", {**VALID_REVIEW, **text}, htmx=True)
    assert htmx.status_code == 422 and len(error_summary(fragment(htmx.text))) == 2


def test_a_blocked_pilot_is_refused_on_the_form_and_in_the_api(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watch(session, "OFFICIAL-SENSITIVE", "block", case_sensitive="yes")
    officer(client, session)
    response = post(client, f"/vendors/{supplier.slug}/pilots/new", {**VALID_PILOT, "lessons": "OFFICIAL-SENSITIVE"})
    assert response.status_code == 422
    assert error_summary(validate_page(response.text)) == [
        "Lessons learned contains “OFFICIAL-SENSITIVE”, which cannot be published. Remove it and try again"
    ]

    api_author = make_user(session, email="api@harrow.gov.uk")
    body = pilot_body(supplier, title="OFFICIAL-SENSITIVE notes", problem="Marked OFFICIAL-SENSITIVE.")
    refused = client.post("/api/v1/pilots", json=body, headers=token_for(session, api_author))
    assert refused.status_code == 422
    errors = refused.json()["detail"]["errors"]
    assert set(errors) == {"title", "problem"} and all("“OFFICIAL-SENSITIVE”" in errors[name] for name in errors)


def test_the_api_lists_every_blocked_term(client: TestClient, session: Session, supplier: Supplier) -> None:
    watch(session, "alpha", "block")
    watch(session, "beta*", "block")
    author = make_user(session, email="api@harrow.gov.uk")
    body = review_body(supplier, worked_well="Alpha, then betamax, then alpha again.")

    response = client.post("/api/v1/reviews", json=body, headers=token_for(session, author))

    assert response.status_code == 422
    message = response.json()["detail"]["errors"]["worked_well"]
    assert "“Alpha” and “betamax”" in message


def test_the_preview_shows_a_blocked_term(client: TestClient, session: Session, supplier: Supplier) -> None:
    watch(session, "SECRET", "block", case_sensitive="yes")
    trusted_officer(client, session, supplier)
    response = post(
        client, f"/vendors/{supplier.slug}/reviews/preview", {**VALID_REVIEW, "headline": "A SECRET win"}, htmx=True
    )
    panel = fragment(response.text)
    marked = panel.select("mark")
    assert [m.get_text() for m in marked] == ["SECRET"]
    assert "cannot be published" in panel.get_text()
    assert "remove them before you submit" in panel.get_text()
    assert "You can still submit" not in panel.get_text()


# --- require approval and flag -------------------------------------------------------------------------------------


def test_a_require_approval_term_queues_a_trusted_officers_review_with_its_span(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watch(session, "negligen*", "require_approval", category="legal_risk")
    trusted_officer(client, session, supplier)
    text = "The rollout was negligent in places."

    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", {**VALID_REVIEW, "advice": text}))

    review = session.get(Review, review_id)
    assert review is not None and review.status == ContentStatus.pending
    item = item_for(session, ContentType.review, review_id)
    assert item is not None and item.source == "submission" and item.severity == "high"
    findings = session.exec(select(Finding).where(Finding.content_id == review_id)).all()
    watched_findings = [f for f in findings if f.detector == "watched_term"]
    assert len(watched_findings) == 1
    finding = watched_findings[0]
    assert (finding.field, finding.category, text[finding.start : finding.end]) == ("advice", "legal_risk", "negligent")

    make_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    sign_in(client, session, "moderator@harrow.gov.uk")
    page = validate_page(client.get(f"/moderation/items/{item.id}").text)
    advice = page.select_one(".app-free-text[data-field=advice]")
    assert advice is not None and [mark.get_text() for mark in advice.select("mark")] == ["negligent"]
    assert "on the moderators' watched list" in page.get_text()


def test_a_watched_term_is_not_reported_twice_where_a_detector_found_it(session: Session, supplier: Supplier) -> None:
    watch(session, "fraud", "require_approval", category="legal_risk")
    watch(session, "per user", "require_approval", category="confidentiality")
    hits = contributions.screen(
        session,
        content_type=ContentType.review,
        values={"headline": "It was fraud", "advice": "£12 per user, charged per user"},
    )
    found = [(hit.field, hit.detector) for hit in hits]
    assert found == [
        ("headline", "allegation"),
        ("advice", "unit_price"),
        ("advice", "watched_term"),  # the second "per user" has no price: only the watched term finds it
    ]
    assert hits[-1].severity == "medium"


def test_a_flag_term_publishes_a_trusted_officers_review_and_opens_an_item(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watch(session, "roadmap*", "flag", category="confidentiality")
    trusted_officer(client, session, supplier)
    text = {"did_not_work": "The roadmap was not shared with customers."}

    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", {**VALID_REVIEW, **text}))

    review = session.get(Review, review_id)
    assert review is not None and review.status == ContentStatus.published
    item = item_for(session, ContentType.review, review_id)
    assert item is not None and item.source == "flags" and item.severity == "medium"
    finding = session.exec(select(Finding).where(Finding.content_id == review_id)).one()
    assert finding.detector == "watched_term_flag"


def test_a_flag_term_does_not_publish_a_new_officers_review(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watch(session, "roadmap*", "flag")
    officer(client, session)
    review_id = submitted_id(
        post(client, f"/vendors/{supplier.slug}/reviews/new", {**VALID_REVIEW, "advice": "Ask for the roadmap."})
    )
    review = session.get(Review, review_id)
    assert review is not None and review.status == ContentStatus.pending
    item = item_for(session, ContentType.review, review_id)
    assert item is not None and item.source == "submission"


# --- replace -------------------------------------------------------------------------------------------------------


def test_a_replace_term_is_rewritten_on_save_before_sanitising(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watch(session, "the system", "replace", replacement="<b>the product</b>")
    watch(session, "Fenwick Ledger", "replace", replacement="the supplier")
    trusted_officer(client, session, supplier)
    text = "The system worked. Fenwick Ledger support answered quickly."

    review_id = submitted_id(
        post(client, f"/vendors/{supplier.slug}/reviews/new", {**VALID_REVIEW, "worked_well": text})
    )

    review = session.get(Review, review_id)
    assert review is not None
    assert review.worked_well == "the product worked. the supplier support answered quickly."


# --- censor at display ---------------------------------------------------------------------------------------------


def test_a_new_censor_term_changes_how_an_existing_review_reads_on_the_supplier_page(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    review = a_review(session, supplier, headline="Blinking good support", advice="A blinking <b>great</b> team.")
    pilot = make_pilot(session, supplier, title="Blinking chatbot", lessons="Blinking useful.")
    officer(client, session)
    before = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    assert "Blinking good support" in before.select_one(f"#review-{review.id}").get_text()

    watch(session, "blinking", "censor", category="profanity")

    page = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    shown = page.select_one(f"#review-{review.id}")
    assert shown is not None
    assert shown.h3.get_text(strip=True).startswith("■■■■■■■■ good support")
    assert "A ■■■■■■■■ <b>great</b> team." in shown.get_text(), "still escaped, never markup"
    assert "linking" not in shown.get_text().lower()
    shown_pilot = page.select_one(f"#pilot-{pilot.id}")
    assert shown_pilot is not None and "■■■■■■■■ chatbot" in shown_pilot.get_text()
    assert "■■■■■■■■ useful." in shown_pilot.get_text()
    session.refresh(review)
    assert review.headline == "Blinking good support", "what is stored does not change"


def test_censored_terms_in_search_results_keep_their_highlight(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    a_review(session, supplier, headline="Blinking zanzibarian ledger", advice="Zanzibarian blinking ledger.")
    watch(session, "blinking", "censor")
    officer(client, session)

    page = validate_page(client.get("/search", params={"index": "reviews", "q": "zanzibarian blinking"}).text)

    hit = page.select_one("li.app-search-hit")
    assert hit is not None
    assert "blinking" not in hit.get_text().lower() and "■■■■■■■■" in hit.get_text()
    assert "zanzibarian" in [mark.get_text().lower() for mark in hit.select("mark")]


def test_the_api_censors_review_and_pilot_text(client: TestClient, session: Session, supplier: Supplier) -> None:
    review = a_review(session, supplier, headline="Blinking zanzibarian ledger", advice="Blinking good.")
    pilot = make_pilot(session, supplier, title="Blinking pilot", problem="A blinking problem.")
    watch(session, "blinking", "censor")
    headers = token_for(session, make_user(session, email="api@harrow.gov.uk"))

    listed = client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=headers).json()["reviews"]
    shown = next(r for r in listed if r["id"] == review.id)
    assert shown["headline"] == "■■■■■■■■ zanzibarian ledger" and shown["advice"] == "■■■■■■■■ good."
    one = client.get(f"/api/v1/reviews/{review.id}", headers=headers).json()
    assert one["headline"] == "■■■■■■■■ zanzibarian ledger"
    piloted = client.get(f"/api/v1/pilots/{pilot.id}", headers=headers).json()
    assert (piloted["title"], piloted["problem"]) == ("■■■■■■■■ pilot", "A ■■■■■■■■ problem.")

    found = client.get(
        "/api/v1/search",
        params={"index": "reviews", "q": "zanzibarian", "attributesToHighlight": "headline"},
        headers=headers,
    ).json()["hits"]
    hit = next(h for h in found if h["headline"].endswith("zanzibarian ledger"))
    assert hit["headline"] == "■■■■■■■■ zanzibarian ledger"
    assert hit["_formatted"]["headline"] == "■■■■■■■■ <em>zanzibarian</em> ledger"


def test_a_clean_review_of_a_trusted_officer_still_publishes_with_the_seed_lists(
    client: TestClient, session: Session, supplier: Supplier
) -> None:
    watched.seed_watched_terms(session)
    trusted_officer(client, session, supplier)
    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW))
    pilot_id = submitted_id(post(client, f"/vendors/{supplier.slug}/pilots/new", VALID_PILOT))

    review, pilot = session.get(Review, review_id), session.get(Pilot, pilot_id)
    assert review is not None and review.status == ContentStatus.published
    assert pilot is not None and pilot.status == ContentStatus.published
    assert session.exec(select(ModerationItem)).all() == []
