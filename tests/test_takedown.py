"""Hiding, removing and putting back published reviews and pilots: from the moderator's "published content" page,
the change reaches the supplier page, the score, search and the API before the request returns."""

from typing import Any

import httpx
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app import audit
from app.models import AuditLog, ContentStatus, MailOutbox, Pilot, Review, Role, Supplier, User
from tests.factories import csrf, make_pilot, make_review, make_supplier, make_user, sign_in
from tests.html import error_summary, validate_page
from tests.test_api_contributions import token_for

MODERATOR = "moderator@harrow.gov.uk"
WORD = "Zanzibarian"


def moderator(session: Session, email: str = MODERATOR) -> User:
    return make_user(session, email=email, role=Role.moderator, name="Mo Derator")


def content_page(client: TestClient, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return validate_page(response.text)


def submit(client: TestClient, page: BeautifulSoup, selector: str, **fields: Any) -> httpx.Response:
    form = page.select_one(selector)
    assert form is not None, f"no {selector} on the page"
    data: dict[str, Any] = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    data.update(fields)
    return client.post(str(form["action"]), data=data, follow_redirects=False)


def audit_count(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(AuditLog)).one()


class Views:
    """Everywhere an officer can meet published content: the supplier page, its score, search and the API."""

    def __init__(self, client: TestClient, session: Session, supplier: Supplier) -> None:
        reader = make_user(session, email="reader@surreycc.gov.uk", gss_code="E10000030")
        self.client, self.supplier, self.headers = client, supplier, token_for(session, reader)

    def page(self) -> str:
        response = self.client.get(f"/vendors/{self.supplier.slug}")
        assert response.status_code == 200
        return validate_page(response.text).get_text()

    def score_count(self) -> int:
        body = self.client.get(f"/api/v1/vendors/{self.supplier.slug}", headers=self.headers).json()
        return int(body["score"]["count"])

    def api_reviews(self) -> list[str]:
        body = self.client.get(f"/api/v1/vendors/{self.supplier.slug}/reviews", headers=self.headers).json()
        return [r["headline"] for r in body["reviews"]]

    def api_item(self, kind: str, item_id: int) -> int:
        return self.client.get(f"/api/v1/{kind}s/{item_id}", headers=self.headers).status_code

    def search_page(self, index: str) -> list[str]:
        response = self.client.get("/search", params={"index": index, "q": WORD.lower()})
        assert response.status_code == 200
        return [a.get_text(strip=True) for a in validate_page(response.text).select("li.app-search-hit h3 a")]

    def search_api(self, index: str) -> list[str]:
        body = self.client.get("/api/v1/search", params={"index": index, "q": WORD.lower()}, headers=self.headers)
        assert body.status_code == 200, body.text
        return [str(hit["id"]) for hit in body.json()["hits"]]


def test_a_hidden_review_is_gone_everywhere_at_once_and_comes_back_when_put_back(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline=f"{WORD} ledger migration", overall=9)
    make_review(session, supplier, headline="Another view", overall=5, gss_code="E08000025")
    views = Views(client, session, supplier)
    moderator(session)
    sign_in(client, session, MODERATOR)

    def visible() -> dict[str, Any]:
        return {
            "page": WORD in views.page(),
            "score": views.score_count(),
            "api list": any(WORD in h for h in views.api_reviews()),
            "api item": views.api_item("review", review.id or 0),
            "search page": len(views.search_page("reviews")),
            "search api": views.search_api("reviews"),
        }

    shown = {
        "page": True,
        "score": 2,
        "api list": True,
        "api item": 200,
        "search page": 1,
        "search api": [str(review.id)],
    }
    assert visible() == shown

    # The supplier page links moderators to the published content page.
    profile = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    link = profile.select_one(f"#review-{review.id} .app-moderate-link a")
    assert link is not None
    page = content_page(client, str(link["href"]))
    assert page.h1.get_text(strip=True) == f"{WORD} ledger migration"
    assert page.select_one(".app-content-status").get_text(strip=True) == "Published"
    bases = [o["value"] for o in page.select("select[name=basis] option")][1:]
    assert "policy_personal_data" in bases and "s5_no_response" in bases

    response = submit(
        client,
        page,
        "form.app-takedown-form",
        status="hidden",
        basis="policy_allegation",
        note="An allegation about a named supplier employee.",
    )
    assert response.status_code == 303 and response.headers["location"].endswith("?done=hidden")
    assert visible() == {
        "page": False,
        "score": 1,
        "api list": False,
        "api item": 404,
        "search page": 0,
        "search api": [],
    }
    after = content_page(client, response.headers["location"])
    assert "no longer appears" in after.select_one(".govuk-notification-banner").get_text()
    assert after.select_one(".app-content-status").get_text(strip=True) == "Hidden"
    hidden = after.select_one("tr.app-history-row[data-action=hidden]")
    assert "It makes an allegation that could not be published" in hidden.get_text()
    assert "An allegation about a named supplier employee." in hidden.get_text()
    assert "You" in hidden.get_text() and "published to hidden" in hidden.get_text()
    entry = audit.history(session, entity_type="review", entity_id=review.id or 0)[-1]
    assert (entry.action, entry.from_state, entry.to_state, entry.detail["basis"]) == (
        "hidden",
        "published",
        "hidden",
        "policy_allegation",
    )
    mail = session.exec(select(MailOutbox).where(col(MailOutbox.to_address).startswith("author."))).one()
    assert "It makes an allegation that could not be published" in mail.body_text

    # Hidden content can still be removed, then put back with a note.
    removed = submit(client, after, "form.app-takedown-form", status="removed", basis="policy_other", note="Final.")
    assert removed.status_code == 303
    page = content_page(client, removed.headers["location"])
    assert page.select_one(".app-content-status").get_text(strip=True) == "Removed"
    restored = submit(client, page, "form.app-restore-form", note="The employee is not identifiable after all.")
    assert restored.status_code == 303 and restored.headers["location"].endswith("?done=restored")
    assert visible() == shown
    actions = [e.action for e in audit.history(session, entity_type="review", entity_id=review.id or 0)]
    assert actions == ["hidden", "removed", "restored"]


def test_a_removed_pilot_leaves_the_page_search_and_the_api(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    pilot = make_pilot(session, supplier, title=f"{WORD} chatbot pilot")
    views = Views(client, session, supplier)
    moderator(session)
    sign_in(client, session, MODERATOR)
    assert WORD in views.page() and len(views.search_page("pilots")) == 1
    assert views.api_item("pilot", pilot.id or 0) == 200 and views.search_api("pilots") == [str(pilot.id)]

    profile = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    page = content_page(client, str(profile.select_one(f"#pilot-{pilot.id} .app-moderate-link a")["href"]))
    response = submit(
        client, page, "form.app-takedown-form", status="removed", basis="s5_poster_request", note="Poster asked."
    )
    assert response.status_code == 303
    assert WORD not in views.page()
    assert views.search_page("pilots") == [] and views.search_api("pilots") == []
    assert views.api_item("pilot", pilot.id or 0) == 404
    session.expire_all()
    assert session.get(Pilot, pilot.id).status == ContentStatus.removed


def test_taking_down_needs_a_choice_a_basis_and_a_note_and_an_invalid_form_changes_nothing(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline="Kept as it was")
    moderator(session)
    sign_in(client, session, MODERATOR)
    page = content_page(client, f"/moderation/content/review/{review.id}")
    before = audit_count(session)

    response = submit(client, page, "form.app-takedown-form", basis="nonsense", note=" ")
    assert response.status_code == 422
    again = validate_page(response.text)
    assert again.title.get_text().startswith("Error:")
    assert error_summary(again) == [
        "Select whether to hide it or remove it",
        "Select why it is being taken down",
        "Add a note for the record: what is wrong with it",
    ]
    assert [a["href"] for a in again.select(".govuk-error-summary a")] == ["#status", "#basis", "#note"]
    kept = submit(client, page, "form.app-takedown-form", status="hidden", basis="policy_other", note="")
    assert error_summary(validate_page(kept.text)) == ["Add a note for the record: what is wrong with it"]
    assert validate_page(kept.text).select_one("input[name=status][value=hidden]").has_attr("checked")
    assert validate_page(kept.text).select_one("select[name=basis] option[selected]")["value"] == "policy_other"
    restore = client.post(
        f"/moderation/content/review/{review.id}/restore",
        data={"csrf_token": csrf(client, "/"), "version": str(review.version), "note": "Why not"},
    )
    assert restore.status_code == 409  # only hidden or removed content can be put back
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.published
    assert audit_count(session) == before


def test_a_stale_take_down_gets_the_409_page_and_changes_nothing(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline="Two moderators at once")
    moderator(session)
    moderator(session, "quicker@harrow.gov.uk")
    sign_in(client, session, MODERATOR)
    page = content_page(client, f"/moderation/content/review/{review.id}")
    first = submit(client, page, "form.app-takedown-form", status="hidden", basis="policy_other", note="First.")
    assert first.status_code == 303
    state = audit_count(session)

    # The same, older page again: its version is out of date.
    second = submit(client, page, "form.app-takedown-form", status="removed", basis="policy_other", note="Second.")
    assert second.status_code == 409
    conflict = validate_page(second.text)
    assert conflict.h1.get_text(strip=True) == "Someone else acted on this first"
    assert conflict.select_one("a.app-reload")["href"].endswith(f"/moderation/content/review/{review.id}")
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.hidden
    assert audit_count(session) == state
    assert submit(client, page, "form.app-takedown-form", status="hidden", version="x", note="n").status_code == 409


def test_officers_cannot_take_down_and_moderators_not_their_own_nor_what_waits_for_the_queue(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline="Published")
    waiting = make_review(session, supplier, headline="Waiting", status=ContentStatus.pending)
    mod = moderator(session)
    own = make_review(session, supplier, headline="By the moderator")
    own.author_id = mod.id or 0
    session.add(own)
    session.commit()
    make_user(session, email="officer@harrow.gov.uk")
    sign_in(client, session, "officer@harrow.gov.uk")
    assert client.get(f"/moderation/content/review/{review.id}").status_code == 403
    assert ".app-moderate-link" not in client.get(f"/vendors/{supplier.slug}").text
    refused = client.post(
        f"/moderation/content/review/{review.id}/take-down",
        data={
            "csrf_token": csrf(client, "/"),
            "version": "1",
            "status": "hidden",
            "basis": "policy_other",
            "note": "x",
        },
    )
    assert refused.status_code == 403

    sign_in(client, session, MODERATOR)
    before = audit_count(session)
    mine = content_page(client, f"/moderation/content/review/{own.id}")
    assert mine.select_one("form.app-takedown-form") is None and "another moderator" in mine.get_text()
    pending = content_page(client, f"/moderation/content/review/{waiting.id}")
    assert pending.select_one("form.app-takedown-form") is None
    assert "decide on it in the queue" in pending.get_text()
    for target in (own, waiting):
        response = client.post(
            f"/moderation/content/review/{target.id}/take-down",
            data={
                "csrf_token": csrf(client, "/"),
                "version": "1",
                "status": "hidden",
                "basis": "policy_other",
                "note": "x",
            },
        )
        assert response.status_code == 403
        validate_page(response.text)
    session.expire_all()
    assert session.get(Review, own.id).status == ContentStatus.published
    assert session.get(Review, waiting.id).status == ContentStatus.pending
    assert audit_count(session) == before
    assert client.get("/moderation/content/review/999999").status_code == 404
    assert client.get("/moderation/content/supplier/1").status_code == 400  # not a kind of content: a bad address


def test_the_queue_page_finds_content_by_number(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    pilot = make_pilot(session, supplier, title="Found by number")
    moderator(session)
    sign_in(client, session, MODERATOR)
    queue = validate_page(client.get("/moderation").text)
    form = queue.select_one("form.app-content-lookup")
    assert form is not None and form["method"] == "get"
    found = client.get(str(form["action"]), params={"type": "pilot", "id": f" {pilot.id}"}, follow_redirects=False)
    assert found.status_code == 303
    assert found.headers["location"].endswith(f"/moderation/content/pilot/{pilot.id}")
    assert content_page(client, found.headers["location"]).h1.get_text(strip=True) == "Found by number"
    missing = client.get(str(form["action"]), params={"type": "pilot", "id": "abc"})
    assert missing.status_code == 404
    assert "enter its number" in validate_page(missing.text).get_text()
